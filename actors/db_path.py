"""The database a command uses: ``db_path`` from the settings, else the default in the state directory.

Shared by ``bin/scan`` (``actors.scan_app``) and ``bin/scan runs|show`` (``actors.cli_runs``), so
neither imports the CLI entry point (``actors.cli``) back.
"""

from __future__ import annotations

import os
from pathlib import Path

from actors.config import Settings
from actors.store.paths import default_db_path

__all__ = ["db_path_for"]


def db_path_for(settings: Settings) -> Path:
    """``settings.db_path`` when set, else :func:`actors.store.paths.default_db_path` (creating its directory)."""
    return settings.db_path if settings.db_path is not None else default_db_path(os.environ)
