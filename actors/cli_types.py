"""Argument types shared by the ``bin/scan`` sub-commands (kept apart so the CLI's start-up stays light)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from actors.errors import UsageError

__all__ = ["positive_int", "set_overrides"]


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1 (``--top``, ``--limit``); anything else is a usage error (exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def set_overrides(items: Iterable[str]) -> dict[str, str]:
    """``--set NAME=VALUE`` items as ``{name: value}`` (``-`` in a name read as ``_``).

    Raises:
        UsageError: an item without ``=`` or without a name (exit 2).
    """
    overrides: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--set expects NAME=VALUE, got {item!r}")
        overrides[name.strip().replace("-", "_")] = value
    return overrides
