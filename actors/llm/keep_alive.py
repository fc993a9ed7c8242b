"""Ollama's ``keep_alive``: how long the server keeps a model loaded after a request.

Pure (no I/O, no trio). Shared by the Ollama client (to know when a model it used may have been
unloaded) and by fake-ollama (to unload it). Ollama reads a number as seconds and a string as a
Go duration (``"5m"``, ``"1h30m"``, ``"300ms"``); a negative value keeps the model for ever, 0
unloads it right after the request, and no value means five minutes.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["DEFAULT_KEEP_ALIVE", "keep_alive_seconds"]

#: Ollama's keep_alive when a request sends none (seconds).
DEFAULT_KEEP_ALIVE = 300.0
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def keep_alive_seconds(value: Any) -> float:
    """Seconds a model stays loaded after a request that sent ``keep_alive = value``.

    Negative values give ``math.inf``; ``None`` or an unreadable value gives
    :data:`DEFAULT_KEEP_ALIVE` (what Ollama does with no value).
    """
    if value is None or isinstance(value, bool):
        return DEFAULT_KEEP_ALIVE
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        parsed = _go_duration(value.strip())
        if parsed is None:
            return DEFAULT_KEEP_ALIVE
        seconds = parsed
    else:
        return DEFAULT_KEEP_ALIVE
    if math.isnan(seconds):
        return DEFAULT_KEEP_ALIVE
    return math.inf if seconds < 0 else seconds


def _go_duration(text: str) -> float | None:
    sign = -1.0 if text.startswith("-") else 1.0
    rest = text.lstrip("+-")
    if not rest:
        return None
    try:
        return sign * float(rest)  # a bare number is seconds
    except ValueError:
        pass
    total, number, i = 0.0, "", 0
    while i < len(rest):
        ch = rest[i]
        if ch.isdigit() or ch == ".":
            number += ch
            i += 1
            continue
        unit = "ms" if rest.startswith("ms", i) else ch
        if not number or unit not in _UNITS:
            return None
        try:
            total += float(number) * _UNITS[unit]
        except ValueError:
            return None
        number = ""
        i += len(unit)
    return None if number else sign * total
