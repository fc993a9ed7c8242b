"""``clean_env``: the in-process CLI tests' environment of their own."""

from __future__ import annotations

import pytest


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No key, database, state directory or width from the machine; config and state under tmp_path."""
    for name in ("ANTHROPIC_API_KEY", "OPTION_ALPHA_DB_PATH", "STATE_DIRECTORY", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
