"""Why a price history cannot be scored.

::

    UnusableHistory (ValueError)      the bars cannot be scored (non-positive or non-finite prices)
     └── InsufficientHistory          too few bars for the indicators

Both are per-ticker: the scorer records them against the ticker and goes on with the scan.
"""

from __future__ import annotations

__all__ = ["InsufficientHistory", "UnusableHistory"]


class UnusableHistory(ValueError):
    """A ticker's price history cannot be scored; the message names the ticker and why."""

    def __init__(self, ticker: str, message: str) -> None:
        self.ticker = ticker
        super().__init__(f"{ticker}: {message}")


class InsufficientHistory(UnusableHistory):
    """Fewer bars than scoring needs (``needed``); ``got`` says how many there were."""

    def __init__(self, ticker: str, *, got: int, needed: int) -> None:
        self.got = got
        self.needed = needed
        super().__init__(ticker, f"insufficient history: {got} bars, scoring needs at least {needed}")
