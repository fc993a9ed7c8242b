"""How wide the output is: the terminal's width, or ``COLUMNS``, or 100 columns."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from typing import TextIO

#: Width for output that is not a terminal (a pipe, a file) when ``COLUMNS`` is not set.
DEFAULT_COLUMNS = 100
#: Narrower than this and no table can keep its numbers whole; 40 is the floor we lay out for.
MIN_COLUMNS = 40


def output_width(stream: TextIO, env: Mapping[str, str] | None = None) -> int:
    """Columns to lay out for ``stream``.

    ``COLUMNS`` (a whole number) wins, terminal or not; else the terminal's own width when
    ``stream`` is a terminal; else :data:`DEFAULT_COLUMNS`. Never below :data:`MIN_COLUMNS`.
    """
    env = os.environ if env is None else env
    text = env.get("COLUMNS", "").strip()
    if text.isdigit() and int(text) > 0:
        return max(MIN_COLUMNS, int(text))
    try:
        if stream.isatty():
            return max(MIN_COLUMNS, shutil.get_terminal_size((DEFAULT_COLUMNS, 24)).columns)
    except (AttributeError, ValueError, OSError):
        pass
    return DEFAULT_COLUMNS
