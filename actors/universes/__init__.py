"""Named ticker lists shipped with option-alpha: ``--universe NAME`` (``bin/scan universes`` lists them).

Each list is ``<name>.txt`` in this package: one ticker per line, ``#`` comments; the header
comment says where the list comes from and how old it is. Names are lower case; a name is
recognised case-insensitively, so ``--universe sp100`` and ``--universe SP100`` are the same list.
"""

from __future__ import annotations

from importlib import resources

__all__ = ["load_universe", "universe_description", "universe_names"]


def universe_names() -> tuple[str, ...]:
    """The shipped list names, sorted."""
    return tuple(sorted(p.name[:-4] for p in resources.files(__name__).iterdir() if p.name.endswith(".txt")))


def _text(name: str) -> str:
    key = name.strip().lower()
    if key not in universe_names():
        raise KeyError(f"no universe named {name!r}; shipped: {', '.join(universe_names())}")
    return resources.files(__name__).joinpath(f"{key}.txt").read_text(encoding="utf-8")


def load_universe(name: str) -> tuple[str, ...]:
    """The tickers of list ``name`` in file order, upper case, without duplicates.

    Raises:
        KeyError: no such list (the message names the shipped ones).
    """
    seen: dict[str, None] = {}
    for line in _text(name).splitlines():
        ticker = line.split("#", 1)[0].strip().upper()
        if ticker:
            seen.setdefault(ticker, None)
    return tuple(seen)


def universe_description(name: str) -> str:
    """The first header comment line of list ``name`` (where it comes from)."""
    for line in _text(name).splitlines():
        if line.startswith("#") and line.strip("# ").strip():
            return line.strip("# ").strip()
    return ""
