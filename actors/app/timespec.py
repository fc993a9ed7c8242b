"""Durations (``30m``, ``2h``, ``20s``, ``1d``, ``0``) and clock times (``HH:MM``) in settings: pure parsing.

Each parser raises ``ValueError`` with a message saying what is expected; the settings loader
(:mod:`actors.config`) turns it into a ``ConfigError`` naming the field and where it came from.
"""

from __future__ import annotations

import datetime as dt
import math
import re

__all__ = ["format_duration", "parse_clock_time", "parse_duration"]

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")

DURATION_EXPECTED = "a duration such as 90s, 30m, 2h or 1d (a bare number is seconds; 0 = off)"
CLOCK_EXPECTED = "a list of clock times HH:MM (00:00 to 23:59)"


def parse_duration(value: object) -> float:
    """Seconds from ``30m``, ``2h``, ``1d``, ``45s``, ``1.5h`` or a number of seconds (>= 0).

    Raises:
        ValueError: not a finite, non-negative duration in that form.
    """
    if isinstance(value, bool):
        raise ValueError(DURATION_EXPECTED)
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(DURATION_EXPECTED)
        seconds = float(match.group(1)) * _UNITS[(match.group(2) or "s").lower()]
    else:
        raise ValueError(DURATION_EXPECTED)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(DURATION_EXPECTED)
    return seconds


def format_duration(seconds: float) -> str:
    """``5400`` → ``1h30m``; ``0`` → ``0s`` (for log lines and STATUS=)."""
    seconds = int(round(seconds))
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def parse_clock_time(value: object) -> dt.time:
    """``"16:15"`` → ``time(16, 15)``.

    Raises:
        ValueError: not ``HH:MM`` with 0 <= HH <= 23 and 0 <= MM <= 59.
    """
    if not isinstance(value, str):
        raise ValueError(CLOCK_EXPECTED)
    match = _CLOCK.match(value)
    if match is None:
        raise ValueError(CLOCK_EXPECTED)
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise ValueError(CLOCK_EXPECTED)
    return dt.time(hour, minute)
