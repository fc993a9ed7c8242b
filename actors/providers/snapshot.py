"""Offline provider that replays real recorded vendor responses through the live parsers.

The recorded bodies live in ``actors/providers/snapshot_data/`` (package data, provenance in
``snapshot_data/PROVENANCE.md``) and are read with :mod:`importlib.resources`. Each ticker maps
to its best recorded source:

========  ===========================================  ==========================================
ticker    history                                      chain
========  ===========================================  ==========================================
AAPL      Cboe historical chart (2004-01-02..07-23)    Cboe, timestamp 2026-07-25 03:44 UTC
CLX       none (DataNotAvailable)                      Cboe, timestamp 2026-07-25 00:43 UTC
MSFT      Stooq CSV (to 2026-01-06)                    none
NVDA      Stooq CSV (to 2026-01-09)                    none
TSLA      Stooq CSV, Polish header, LF (to 2026-01-28) none
AMZN      Stooq CSV (to 2026-01-09)                    Yahoo v7 (2025-02-21)
SPY       Stooq CSV (to 2026-04-17)                    none
GOOG      none (DataNotAvailable)                      Yahoo v7 (2025-02-21)
QQQ       none (DataNotAvailable)                      Yahoo v7 (2025-02-21)
========  ===========================================  ==========================================

AAPL: the chain is the 2026-07-24 session (last trade 15:59:59, file stamped 03:44 UTC the
next day); the Cboe chart's last bar is 2026-07-23, one session earlier. No recorded history has
the 07-24 bar, and the Cboe chart is by far the closest (Stooq ends 2026-01-09, Yahoo
2020-11-06), so it is used as is and its as-of stays 2026-07-23; the scan aligns AAPL's row on
the chain (its day and underlying price) and flags it ``mixed-dates``
(:func:`actors.core.ranking.align_dates`), as for any chain and history of different days. For MSFT/NVDA/TSLA the Stooq
CSVs end years after the Yahoo charts (2022/2023), so Stooq wins; the Yahoo charts stay in the
package as parser fixtures. News: Yahoo search for AAPL and QQQ; other tickers have none (``()``).

Earnings come from the recorded Nasdaq calendar days (2024-07-01..03). A window whose every
weekday is a recorded day gets the events in it (``()`` when none); any other window is unknown
(None), never "no earnings" (weekends carry no reports, as in the live provider).

A recording made by ``bin/scan --record DIR`` (``--source snapshot:DIR``) is read by the same
layout: every ``cboe/cboe_chart_historical_<T>.json`` is ``<T>``'s history, every
``cboe/cboe_options_<T>.json`` its chain, every ``rss/rss_<T>.xml`` its headlines (RSS, parsed
like the live feed; ``rss/edgar_<T>.xml`` its 8-K filings, after them) and every ``nasdaq_earnings/nasdaq_earnings_<day>.json`` a calendar day.
The files found this way come on top of the map above (the packaged data has the same names). Symbols that appear only in the calendar are known tickers whose other
pieces raise DataNotAvailable; any other symbol raises UnknownTicker.

Files are parsed lazily on first use and the outcome (result or error) is cached. Reads are
plain synchronous reads of small package files (largest 1.6 MB, parsed in < 0.1 s), made on
the trio thread after a checkpoint: a worker thread would let an autojump MockClock skip
virtual time while the file is read and fire unrelated timeouts in virtual-time tests.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import pathlib
from collections.abc import Callable
from importlib import resources
from typing import Any

import trio

from actors.errors import DataNotAvailable, ProviderError, ProviderUnavailable, UnknownTicker
from actors.providers.parsers import (
    EarningsDay,
    parse_cboe_chain,
    parse_cboe_chart,
    parse_nasdaq_earnings,
    parse_rss_news,
    parse_stooq_csv,
    parse_yahoo_news,
    parse_yahoo_options,
)
from messages.market import EarningsEvent, Headline, OptionChain, PriceHistory

__all__ = ["SnapshotProvider"]

logger = logging.getLogger(__name__)

_Parser = Callable[..., Any]

_HISTORY: dict[str, tuple[str, _Parser]] = {
    "AAPL": ("cboe/cboe_chart_historical_AAPL.json", parse_cboe_chart),
    "MSFT": ("stooq/stooq_msft_us_d.csv", parse_stooq_csv),
    "NVDA": ("stooq/stooq_nvda_us_d.csv", parse_stooq_csv),
    "TSLA": ("stooq/stooq_tsla_us_d.csv", parse_stooq_csv),
    "AMZN": ("stooq/stooq_amzn_us_d.csv", parse_stooq_csv),
    "SPY": ("stooq/stooq_spy_us_d.csv", parse_stooq_csv),
}
_CHAIN: dict[str, tuple[str, _Parser]] = {
    "AAPL": ("cboe/cboe_options_AAPL.json", parse_cboe_chain),
    "CLX": ("cboe/cboe_options_CLX.json", parse_cboe_chain),
    "AMZN": ("yahoo_options/yahoo_options_AMZN.json", parse_yahoo_options),
    "GOOG": ("yahoo_options/yahoo_options_GOOG.json", parse_yahoo_options),
    "QQQ": ("yahoo_options/yahoo_options_QQQ.json", parse_yahoo_options),
}
_NEWS: dict[str, tuple[str, _Parser]] = {
    "AAPL": ("yahoo_search/yahoo_search_news_AAPL.json", parse_yahoo_news),
    "QQQ": ("yahoo_search/yahoo_search_news_QQQ.json", parse_yahoo_news),
}
_CALENDAR = tuple(f"nasdaq_earnings/nasdaq_earnings_2024-07-0{d}.json" for d in (1, 2, 3))

#: The recorded layout (``--record``): folder, file prefix and suffix, parser, table.
_LAYOUT: tuple[tuple[str, str, str, _Parser, str], ...] = (
    ("cboe", "cboe_chart_historical_", ".json", parse_cboe_chart, "history"),
    ("cboe", "cboe_options_", ".json", parse_cboe_chain, "chain"),
    ("rss", "rss_", ".xml", parse_rss_news, "news"),
    ("rss", "edgar_", ".xml", parse_rss_news, "edgar"),
)


def _discover(root: Any) -> tuple[dict[str, dict[str, tuple[str, _Parser]]], tuple[str, ...]]:
    """The tables of a folder: the packaged map plus every file in the recorded layout; the calendar days."""
    tables = {"history": dict(_HISTORY), "chain": dict(_CHAIN), "news": dict(_NEWS), "edgar": {}}
    for folder, prefix, suffix, parse, piece in _LAYOUT:
        directory = root.joinpath(folder)
        if not directory.is_dir():
            continue
        for entry in directory.iterdir():
            name = entry.name
            if name.startswith(prefix) and name.endswith(suffix) and len(name) > len(prefix) + len(suffix):
                ticker = name[len(prefix):-len(suffix)].upper()
                tables[piece][ticker] = (f"{folder}/{name}", parse)
    days = set(_CALENDAR)
    directory = root.joinpath("nasdaq_earnings")
    if directory.is_dir():
        days.update(f"nasdaq_earnings/{e.name}" for e in directory.iterdir()
                    if e.name.startswith("nasdaq_earnings_") and e.name.endswith(".json"))
    return tables, tuple(sorted(days))


class SnapshotProvider:
    """Replays recorded responses (see the module docstring for the ticker → source map)."""

    name = "snapshot"
    synthetic = False

    def __init__(self, *, data_dir: str | os.PathLike[str] | None = None, today: dt.date | None = None) -> None:
        """``data_dir``: a folder laid out like ``snapshot_data/`` (default: the packaged recordings).
        ``today``: the date the parsers bound observation dates by (default: the UTC date)."""
        if data_dir is None:
            self._root: Any = resources.files("actors.providers") / "snapshot_data"
        else:
            self._root = pathlib.Path(data_dir)
            if not self._root.is_dir():
                raise ValueError(f"data_dir: {str(data_dir)!r} is not a directory")
        self._today = today
        tables, self._calendar_files = _discover(self._root)
        self._history, self._chain, self._news = tables["history"], tables["chain"], tables["news"]
        self._edgar = tables["edgar"]
        self._universe = tuple(sorted(set(self._history) | set(self._chain) | set(self._news)))
        self._cache: dict[tuple[str, str], Any] = {}
        self._calendar: dict[dt.date, EarningsDay] | None = None
        self._closed = False

    def default_universe(self) -> tuple[str, ...]:
        """Every ticker with a recorded history, chain or news."""
        return self._universe

    async def history(self, ticker: str) -> PriceHistory:
        return await self._piece(ticker, "history", self._history)

    async def chain(self, ticker: str) -> OptionChain:
        return await self._piece(ticker, "chain", self._chain)

    async def news(self, ticker: str) -> tuple[Headline, ...]:
        """The recorded headlines, then the recorded EDGAR filings (``rss/edgar_<T>.xml``), if any."""
        ticker = await self._enter(ticker, "news")
        parts = [(key, table[ticker]) for key, table in (("news", self._news), ("edgar", self._edgar))
                 if ticker in table]
        return tuple(h for key, source in parts for h in self._load(ticker, key, source))

    async def earnings(self, ticker: str, start: dt.date, end: dt.date) -> tuple[EarningsEvent, ...] | None:
        """Events in ``[start, end]`` when every weekday of it is a recorded calendar day, else None."""
        if start > end:
            raise ValueError(f"earnings window starts after it ends: {start} > {end}")
        ticker = await self._enter(ticker, "earnings")
        calendar = self._days(ticker)
        events: list[EarningsEvent] = []
        day = start
        while day <= end:
            recorded = calendar.get(day)
            if recorded is None and day.weekday() >= 5:
                day += dt.timedelta(days=1)
                continue
            if recorded is None:
                logger.debug("snapshot: no recorded earnings calendar for %s (window %s..%s)", day, start, end)
                return None
            events.extend(recorded.for_ticker(ticker))
            day += dt.timedelta(days=1)
        return tuple(events)

    async def aclose(self) -> None:
        self._closed = True
        self._cache.clear()
        self._calendar = None
        await trio.lowlevel.checkpoint()

    # -- internals -------------------------------------------------------------------------

    async def _enter(self, ticker: str, piece: str) -> str:
        await trio.lowlevel.checkpoint()
        if self._closed:
            raise ProviderUnavailable(ticker, piece, "snapshot provider is closed")
        symbol = ticker.strip().upper()
        if symbol not in self._universe and not any(symbol in day.symbols for day in self._days(symbol).values()):
            raise UnknownTicker(symbol, piece, "no recorded data for this symbol")
        return symbol

    async def _piece(self, ticker: str, piece: str, table: dict[str, tuple[str, _Parser]]) -> Any:
        ticker = await self._enter(ticker, piece)
        source = table.get(ticker)
        if source is None:
            raise DataNotAvailable(ticker, piece, f"the snapshot has no recorded {piece} for {ticker}")
        return self._load(ticker, piece, source)

    def _load(self, ticker: str, piece: str, source: tuple[str, _Parser]) -> Any:
        key = (piece, ticker)
        cached = self._cache.get(key)
        if cached is None:
            path, parse = source
            try:
                cached = ("ok", parse(self._read(ticker, piece, path), ticker=ticker, today=self._today))
                logger.debug("snapshot: parsed %s for %s from %s", piece, ticker, path)
            except ProviderError as exc:
                logger.info("snapshot: recorded %s for %s is unusable: %s", piece, ticker, exc)
                cached = ("error", (type(exc), exc.ticker, exc.piece, exc.message))
            self._cache[key] = cached
        status, value = cached
        if status == "error":
            kind, *args = value
            raise kind(*args)
        return value

    def _read(self, ticker: str, piece: str, path: str) -> bytes:
        try:
            return self._root.joinpath(path).read_bytes()
        except OSError as exc:
            raise ProviderUnavailable(ticker, piece, f"cannot read snapshot file {path}: {exc}") from exc

    def _days(self, ticker: str) -> dict[dt.date, _CalendarDay]:
        if self._calendar is None:
            days: dict[dt.date, _CalendarDay] = {}
            for path in self._calendar_files:
                try:
                    day = parse_nasdaq_earnings(self._read(ticker, "earnings", path), ticker=ticker, today=self._today)
                except ProviderError as exc:
                    logger.info("snapshot: recorded earnings calendar %s is unusable: %s", path, exc)
                    continue
                days[day.day] = _CalendarDay(day)
            self._calendar = days
        return self._calendar


class _CalendarDay:
    """One recorded calendar day with a symbol index."""

    __slots__ = ("day", "symbols")

    def __init__(self, day: EarningsDay) -> None:
        self.day = day
        self.symbols = frozenset(event.ticker for event in day.events)

    def for_ticker(self, ticker: str) -> tuple[EarningsEvent, ...]:
        return self.day.for_ticker(ticker) if ticker in self.symbols else ()
