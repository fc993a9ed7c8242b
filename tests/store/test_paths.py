"""Default database path resolution from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.errors import StoreError
from actors.store.paths import default_db_path, state_directory


def test_systemd_state_directory_wins_and_its_first_entry_is_used(tmp_path):
    """$STATE_DIRECTORY beats XDG; with several entries the first is used."""
    env = {"STATE_DIRECTORY": f"{tmp_path}/one:{tmp_path}/two", "XDG_STATE_HOME": str(tmp_path / "xdg")}
    assert default_db_path(env) == tmp_path / "one" / "option-alpha.db"
    assert (tmp_path / "one").is_dir() and not (tmp_path / "two").exists()


def test_xdg_state_home_gets_an_app_folder(tmp_path):
    """$XDG_STATE_HOME/option-alpha/ when systemd gave nothing."""
    env = {"STATE_DIRECTORY": "", "XDG_STATE_HOME": str(tmp_path / "xdg")}
    assert default_db_path(env) == tmp_path / "xdg" / "option-alpha" / "option-alpha.db"
    assert (tmp_path / "xdg" / "option-alpha").is_dir()


def test_falls_back_to_local_state_under_home(tmp_path):
    """Without either variable: ~/.local/state/option-alpha/ (a relative XDG path is ignored)."""
    env = {"HOME": str(tmp_path), "XDG_STATE_HOME": "relative/dir"}
    assert default_db_path(env) == tmp_path / ".local" / "state" / "option-alpha" / "option-alpha.db"
    assert (tmp_path / ".local" / "state" / "option-alpha").stat().st_mode & 0o777 == 0o700


def test_state_directory_creates_nothing(tmp_path):
    """Resolving the directory alone is pure; create=False too."""
    env = {"XDG_STATE_HOME": str(tmp_path / "x")}
    assert state_directory(env) == tmp_path / "x" / "option-alpha"
    assert default_db_path(env, create=False) == tmp_path / "x" / "option-alpha" / "option-alpha.db"
    assert not (tmp_path / "x").exists()
    assert state_directory({}, home=Path("/h")) == Path("/h/.local/state/option-alpha")


def test_uncreatable_directory_is_a_store_error(tmp_path):
    """A state directory under a regular file gives StoreError naming the directory."""
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match=r"cannot create state directory .*file/sub"):
        default_db_path({"STATE_DIRECTORY": str(tmp_path / "file" / "sub")})
