"""A deterministic synthetic market of any size, for demos, benchmarks and tests.

Tickers are ``SIM0001`` .. ``SIM<size>`` (four digits, more when size > 9999). The same
``(seed, as_of, history_days)`` gives the same market on every machine and run; another seed
gives another market. All data is labelled ``synthetic=True`` and source ``"sim"``.

Per ticker: ``history_days`` weekday bars ending on the last weekday <= ``as_of``; an option
chain generated only when asked (4-6 expiries, IV skew, Black-Scholes Greeks, spreads, thin
strikes), except for about one ticker in nine which has none (DataNotAvailable); earnings known
for about two thirds of the tickers (half of those within 60 days), unknown (None) for the rest;
1-4 headlines. Nothing is cached: regenerating a ticker costs well under a millisecond, and
keeping thousands of histories would cost hundreds of MB.

Generation is CPU work on the trio thread after a checkpoint (about 0.2 ms per history; a
chain about 2 ms), never a worker thread, so virtual-time tests stay deterministic. The
provider is ``in_process`` (the fetcher skips per-piece timeouts and tasks for it), and
:meth:`SimProvider.worker_options` rebuilds the same market in a worker process
(:mod:`actors.fetch_score`), where large universes are generated and scored.
"""

from __future__ import annotations

import datetime as dt
import re

import trio

from actors.errors import DataNotAvailable, ProviderUnavailable, UnknownTicker
from actors.providers.sim_market import (
    business_days,
    generate_bars,
    generate_columns,
    generate_earnings,
    generate_headlines,
    generate_quotes,
    normal_table,
    realized_vol,
    rng_for,
)
from messages.market import EarningsEvent, Headline, OptionChain, PriceColumns, PriceHistory

__all__ = ["SimProvider"]

SOURCE = "sim"
#: Fraction of tickers without a listed chain.
NO_CHAIN_FRACTION = 1 / 9
_SYMBOL = re.compile(r"^SIM(\d+)$")


class SimProvider:
    """Deterministic synthetic market data (see the module docstring)."""

    name = SOURCE
    synthetic = True
    #: Answers are computed here, with no I/O: the fetcher's fast path (see actors.fetcher).
    in_process = True

    def __init__(
        self,
        *,
        size: int = 200,
        seed: int = 7,
        as_of: dt.date = dt.date(2026, 7, 24),
        history_days: int = 260,
    ) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 1_000_000:
            raise ValueError(f"size: expected an integer in 1..1000000, got {size!r}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed: expected an integer, got {seed!r}")
        if not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime):
            raise ValueError(f"as_of: expected a date, got {as_of!r}")
        if isinstance(history_days, bool) or not isinstance(history_days, int) or not 30 <= history_days <= 5000:
            raise ValueError(f"history_days: expected an integer in 30..5000, got {history_days!r}")
        self.size = size
        self.seed = seed
        self.history_days = history_days
        self._width = max(4, len(str(size)))
        self._dates = business_days(as_of, history_days)
        self.as_of = self._dates[-1]
        self._table: list[float] | None = None
        self._closed = False
        self._recent_return: dict[str, float] = {}

    def worker_options(self) -> dict[str, object]:
        """The ``make_provider("sim", **options)`` that builds this same market in another process."""
        return {"size": self.size, "seed": self.seed, "as_of": self.as_of, "history_days": self.history_days}

    def default_universe(self) -> tuple[str, ...]:
        """All ``size`` tickers, in order."""
        width = self._width
        return tuple(f"SIM{i:0{width}d}" for i in range(1, self.size + 1))

    async def history(self, ticker: str) -> PriceHistory:
        ticker = await self._enter(ticker, "history")
        return self._history(ticker)

    async def history_columns(self, ticker: str) -> PriceColumns:
        """:meth:`history` as columns (the same numbers, no ``Bar`` objects): for worker processes."""
        ticker = await self._enter(ticker, "history")
        if self._table is None:
            self._table = normal_table(self.seed, self.history_days)
        opens, highs, lows, closes, volumes = generate_columns(self.seed, ticker, len(self._dates), self._table)
        self._recent_return[ticker] = closes[-1] / closes[-21] - 1.0
        return PriceColumns(
            ticker=ticker, dates=self._dates, opens=tuple(opens), highs=tuple(highs), lows=tuple(lows),
            closes=tuple(closes), volumes=tuple(volumes), as_of=self.as_of, source=SOURCE,
        )

    async def chain(self, ticker: str) -> OptionChain:
        ticker = await self._enter(ticker, "chain")
        if rng_for(self.seed, ticker, "listed").random() < NO_CHAIN_FRACTION:
            raise DataNotAvailable(ticker, "chain", "no listed options (simulated)")
        history = self._history(ticker)
        spot = history.bars[-1].close
        quotes = generate_quotes(self.seed, ticker, spot, realized_vol(history.bars), self.as_of)
        return OptionChain(
            ticker=ticker, as_of=self._close_at(), underlying_price=spot, quotes=quotes, source=SOURCE
        )

    async def earnings(self, ticker: str, start: dt.date, end: dt.date) -> tuple[EarningsEvent, ...] | None:
        """Events in ``[start, end]``, ``()`` when none fall in it, None for tickers with unknown dates."""
        if start > end:
            raise ValueError(f"earnings window starts after it ends: {start} > {end}")
        ticker = await self._enter(ticker, "earnings")
        events = generate_earnings(self.seed, ticker, self.as_of)
        if events is None:
            return None
        return tuple(e for e in events if start <= e.date <= end)

    async def news(self, ticker: str) -> tuple[Headline, ...]:
        ticker = await self._enter(ticker, "news")
        recent = self._recent_return.pop(ticker, None)
        if recent is None:  # news asked for before history: generate the bars once
            self._history(ticker)
            recent = self._recent_return.pop(ticker)
        return generate_headlines(self.seed, ticker, self._close_at(), recent)

    async def aclose(self) -> None:
        self._closed = True
        self._table = None
        await trio.lowlevel.checkpoint()

    # -- internals -------------------------------------------------------------------------

    async def _enter(self, ticker: str, piece: str) -> str:
        await trio.lowlevel.checkpoint()
        if self._closed:
            raise ProviderUnavailable(ticker, piece, "sim provider is closed")
        symbol = ticker.strip().upper()
        match = _SYMBOL.match(symbol)
        if match is None or len(match.group(1)) != self._width or not 1 <= int(match.group(1)) <= self.size:
            raise UnknownTicker(symbol, piece, f"not in this sim market (SIM{1:0{self._width}d}..{self.size})")
        return symbol

    def _history(self, ticker: str) -> PriceHistory:
        if self._table is None:
            self._table = normal_table(self.seed, self.history_days)
        bars = generate_bars(self.seed, ticker, self._dates, self._table)
        # The headlines follow the last month's move; remember it so news() need not regenerate
        # the bars (popped when used, so this holds at most the tickers in flight).
        self._recent_return[ticker] = bars[-1].close / bars[-21].close - 1.0
        return PriceHistory(ticker=ticker, bars=bars, as_of=self.as_of, source=SOURCE)

    def _close_at(self) -> dt.datetime:
        """16:00 New York on the as-of day (20:00 UTC in summer; the sim keeps it fixed)."""
        return dt.datetime.combine(self.as_of, dt.time(20, 0), dt.timezone.utc)
