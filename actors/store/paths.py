"""Where the database lives by default.

``$STATE_DIRECTORY`` (set by systemd's ``StateDirectory=``; the first entry when it lists
several, colon-separated) when set, else ``$XDG_STATE_HOME/option-alpha/``, else
``~/.local/state/option-alpha/``; the file is ``option-alpha.db``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from actors.errors import StoreError

__all__ = ["DB_FILENAME", "default_db_path", "state_directory"]

DB_FILENAME = "option-alpha.db"
APP_DIRNAME = "option-alpha"


def state_directory(env: Mapping[str, str] | None = None, *, home: Path | None = None) -> Path:
    """The state directory from ``env`` (default ``os.environ``); pure, creates nothing.

    Relative XDG paths are ignored, as the XDG spec requires.
    """
    env = os.environ if env is None else env
    systemd = env.get("STATE_DIRECTORY", "")
    first = systemd.split(":")[0].strip()
    if first:
        return Path(first)
    xdg = env.get("XDG_STATE_HOME", "").strip()
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / APP_DIRNAME
    base = home if home is not None else Path(env.get("HOME") or Path.home())
    return base / ".local" / "state" / APP_DIRNAME


def default_db_path(
    env: Mapping[str, str] | None = None, *, home: Path | None = None, create: bool = True
) -> Path:
    """The default database file; creates its directory (mode 0700) unless ``create=False``.

    Raises:
        StoreError: the directory cannot be created (the message names it).
    """
    directory = state_directory(env, home=home)
    if create:
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create state directory {directory}: {exc.strerror or exc}") from exc
    return directory / DB_FILENAME
