"""Secrets: one token or a configuration error naming the source; scrubbed in every encoding, in logs too."""

from __future__ import annotations

import base64
import io
import json
import logging
import urllib.parse

import pytest

from actors.config import load_settings
from actors.errors import ConfigError
from actors.secrets import ScrubbingFilter, Secret, SecretFormatError

KEY = "sk-ant-api03-Zx9_Q-7yK1"


def encodings(key: str) -> dict[str, str]:
    raw = key.encode()
    return {"plain": key, "repr": repr(key), "json": json.dumps(key), "url": urllib.parse.quote(key, safe=""),
            "base64": base64.b64encode(raw).decode(), "base64-url": base64.urlsafe_b64encode(raw).decode(),
            "x-api-key header": base64.b64encode(b"x-api-key: " + raw).decode(),
            "bearer header": base64.b64encode(b"Bearer " + raw).decode(), "hex": raw.hex()}


@pytest.mark.parametrize("form", list(encodings(KEY)))
def test_scrub_removes_the_key_in_every_encoding(form):
    """Each encoding of the key inside a longer text is replaced by ***."""
    text = f"error: header value {encodings(KEY)[form]} rejected"
    scrubbed = Secret(KEY).scrub(text)
    assert "***" in scrubbed
    for other in encodings(KEY).values():
        assert other not in scrubbed


@pytest.mark.parametrize("prefix", ["", "a", "ab", "abc"])
def test_scrub_finds_base64_of_the_key_at_any_offset(prefix):
    """The key base64-encoded inside a longer payload (any alignment) leaves no decodable key behind."""
    encoded = base64.b64encode(prefix.encode() + KEY.encode() + b"|tail").decode()
    scrubbed = Secret(KEY).scrub(encoded)
    assert "***" in scrubbed and encoded not in scrubbed


@pytest.mark.parametrize(("text", "ok"), [("sk-ant-abc\n", True), ("  sk-ant-abc  ", True),
                                          ("sk-ant-abc\n# comment", False), ("sk-ant abc", False),
                                          ("sk-ant-\tabc", False), ("sk-ant-\x07abc", False)])
def test_a_key_must_be_one_token(text, ok):
    """Surrounding whitespace is dropped; inner whitespace or control characters are refused."""
    if ok:
        assert Secret.from_text(text, source="test").reveal() == "sk-ant-abc"
    else:
        with pytest.raises(SecretFormatError) as info:
            Secret.from_text(text, source="env X")
        assert "env X" in str(info.value) and "abc" not in str(info.value)


@pytest.mark.parametrize(("where", "expected"), [
    ({"env": {"ANTHROPIC_API_KEY": "sk-ant-x y"}}, "from env ANTHROPIC_API_KEY"),
    ({"env": {"OPTION_ALPHA_ANTHROPIC_API_KEY": "sk-ant-x\ny"}}, "from env OPTION_ALPHA_ANTHROPIC_API_KEY"),
    ({"flags": {"anthropic_api_key": "sk-ant-x\x00y"}}, "from flag --anthropic-api-key"),
])
def test_a_bad_key_is_a_config_error_naming_its_source_never_the_value(where, expected):
    """Env, the prefixed env and flags: the message names the source and hides the value."""
    with pytest.raises(ConfigError) as info:
        load_settings(env=where.get("env", {}), flags=where.get("flags"))
    assert expected in str(info.value) and "sk-ant" not in str(info.value)


def test_a_bad_key_in_the_config_file_is_refused_naming_the_file(tmp_path):
    """A TOML key with a space: names the config file, hides the value."""
    config = tmp_path / "c.toml"
    config.write_text('anthropic_api_key = "sk-ant-x # y"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(env={}, config_file=config)
    assert f"config file {config}" in str(info.value) and "sk-ant" not in str(info.value)


def test_the_logging_filter_scrubs_messages_arguments_and_tracebacks():
    """A record carrying the key in its arguments and its exception is printed scrubbed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ScrubbingFilter([Secret(KEY)]))
    log = logging.getLogger("test_secrets.scrub")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("sent %s", {"x-api-key": KEY})
        try:
            raise ValueError(f"Illegal header value {base64.b64encode(KEY.encode()).decode()}")
        except ValueError:
            log.exception("request failed")
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert "***" in text and "Illegal header value ***" in text
    for form in encodings(KEY).values():
        assert form not in text


def test_known_secrets_cover_the_environment_key_the_settings_key_and_the_dashboard_token(tmp_path):
    """What bin/scan and bin/daemon scrub from every log line: all three secrets, none left out."""
    from actors.secrets import known_secrets

    settings = load_settings(env={"OPTION_ALPHA_DASHBOARD_TOKEN": "tok-dash-123456",
                                  "OPTION_ALPHA_ANTHROPIC_API_KEY": "sk-ant-settings-999"})
    secrets = known_secrets(settings, environ={"ANTHROPIC_API_KEY": "sk-ant-env-777"})
    record = logging.LogRecord("t", logging.INFO, __file__, 1,
                               "a=%s b=%s c=%s", ("tok-dash-123456", "sk-ant-settings-999", "sk-ant-env-777"), None)
    ScrubbingFilter(secrets).filter(record)
    text = record.getMessage()
    assert "tok-dash" not in text and "sk-ant-settings" not in text and "sk-ant-env" not in text, text
