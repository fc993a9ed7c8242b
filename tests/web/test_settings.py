"""The dashboard's settings: defaults, the token masked everywhere, a bad token named but never shown."""

import pytest

from actors.config import load_settings, settings_snapshot
from actors.errors import ConfigError


def test_defaults_listen_on_loopback_without_a_token():
    settings = load_settings(env={})
    assert settings.dashboard_listen == "127.0.0.1:8787" and settings.dashboard_token is None


def test_the_token_is_masked_in_the_settings_snapshot():
    settings = load_settings(env={"OPTION_ALPHA_DASHBOARD_TOKEN": "t0k3n-value"})
    assert settings.dashboard_token.reveal() == "t0k3n-value"
    assert settings_snapshot(settings)["dashboard_token"] == "***"
    assert "t0k3n-value" not in repr(settings)


def test_a_token_that_is_not_one_token_is_refused_without_showing_it():
    with pytest.raises(ConfigError) as caught:
        load_settings(env={"OPTION_ALPHA_DASHBOARD_TOKEN": "abc def"})
    message = str(caught.value)
    assert message.startswith("dashboard_token: the token from env OPTION_ALPHA_DASHBOARD_TOKEN is not one token")
    assert "abc" not in message
