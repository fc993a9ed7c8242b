"""``bin/scan universes``: the shipped ticker lists, their size and where each comes from."""

from __future__ import annotations

from collections.abc import Sequence

from actors.cli_boundary import EXIT_OK
from actors.errors import UsageError
from actors.universes import load_universe, universe_description, universe_names

__all__ = ["main_universes"]


def main_universes(argv: Sequence[str]) -> int:
    """Print one line per shipped list (``NAME`` prints that list's tickers, one per line)."""
    if len(argv) > 1:
        raise UsageError(f"bin/scan universes: expected at most one list name, got {' '.join(argv)}")
    if argv:
        try:
            tickers = load_universe(argv[0])
        except KeyError as exc:
            raise UsageError(f"bin/scan universes: {exc.args[0]}") from None
        print("\n".join(tickers))
        return EXIT_OK
    for name in universe_names():
        print(f"{name:<8} {len(load_universe(name)):>4} tickers  {universe_description(name)}")
    return EXIT_OK
