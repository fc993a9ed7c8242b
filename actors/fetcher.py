"""The fetcher's engine: market data for a universe, with bounded concurrency, rate limits and retries.

The fetcher actor (:mod:`actors.fetch_actor`) owns one :class:`Fetcher` and serves every scan
with it; tests and benchmarks of the phases alone call it directly.

*Receives:* a universe (tuple of tickers) through :meth:`Fetcher.fetch_universe`, and the top-N
tickers through :meth:`Fetcher.fetch_chains`.
*Sends:* one :class:`~messages.market.TickerData` per ticker on the channel it is given, as soon
as that ticker is done (so scoring overlaps fetching); chains are returned to the caller.
*Owns:* the provider, a concurrency limiter, a per-provider rate limiter, retry counters.

Each ticker's history comes first (its last bar is the as-of date); earnings for the window
``[as_of, as_of + earnings_horizon_days]`` and news follow concurrently. Option chains are
fetched only for the top-N tickers, in the options phase: 5,000 chains nobody reads would cost
more than the whole rest of the scan.

Providers that compute their data in this process (``in_process = True``, e.g. sim) take a
fast path: no task, timeout or rate wait per piece (none of them can ever fire for code that
never waits), the pieces one after the other. Errors and retries are handled exactly as for
any provider.

Failures are per ticker and per piece (:class:`~messages.market.DataError`); only
``ProviderUnavailable`` (transport, timeout, HTTP error) is retried, with
``fetch_retry_delays``. Malformed data and missing pieces are final and never crash the scan.
A provider that retries and times out each request itself, per host (``handles_retries``:
the live provider, whose rate-limit queue is no "timeout") gets neither a second layer of
retries nor a timeout around its calls; an error it marks ``quiet`` (a host known to be
down, reported once when it went down) is logged at DEBUG, not once per ticker at INFO.
On cancellation the workers stop at once; nothing is half-sent.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import attrs
import trio

from actors.errors import ProviderError, ProviderUnavailable
from actors.providers.base import Provider
from messages.market import DataError, DataPiece, OptionChain, PriceColumns, PriceHistory, TickerData

logger = logging.getLogger(__name__)

T = TypeVar("T")


@attrs.frozen
class FetcherStatistics:
    tickers_done: int
    calls: int
    retries: int
    errors: int
    in_flight: int


class MinInterval:
    """Spaces calls at least ``interval`` seconds apart (trio clock): a per-host rate limit."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._next = 0.0
        self._lock = trio.Lock()

    async def wait(self) -> None:
        if self._interval <= 0:
            return
        async with self._lock:
            now = trio.current_time()
            if now < self._next:
                await trio.sleep(self._next - now)
            self._next = max(now, self._next) + self._interval


class Fetcher:
    """See the module docstring."""

    def __init__(
        self,
        provider: Provider,
        *,
        concurrency: int = 8,
        retry_delays: Sequence[float] = (1.0, 2.0, 4.0),
        timeout: float = 20.0,
        earnings_horizon_days: int = 60,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0, got {timeout}")
        self.provider = provider
        #: True when the provider computes its answers here, without I/O (see the module docstring).
        self.in_process = bool(getattr(provider, "in_process", False))
        #: True when the provider retries and times out each request itself, per host (live):
        #: no second layer of retries, and no timeout around its rate-limit queue.
        self.provider_retries = bool(getattr(provider, "handles_retries", False))
        self._limiter = trio.CapacityLimiter(concurrency)
        self._rate = MinInterval(1.0 / rate if (rate := getattr(provider, "requests_per_second", 0)) else 0.0)
        self._retry_delays = () if self.provider_retries else tuple(retry_delays)
        self._timeout = timeout
        self._horizon = dt.timedelta(days=earnings_horizon_days)
        self._done = self._calls = self._retries = self._errors = 0

    @property
    def retry_delays(self) -> tuple[float, ...]:
        return self._retry_delays

    @property
    def earnings_horizon_days(self) -> int:
        return self._horizon.days

    def statistics(self) -> FetcherStatistics:
        return FetcherStatistics(
            tickers_done=self._done,
            calls=self._calls,
            retries=self._retries,
            errors=self._errors,
            in_flight=self._limiter.borrowed_tokens,
        )

    async def fetch_universe(self, tickers: Sequence[str], send: trio.MemorySendChannel[TickerData]) -> None:
        """Fetch every ticker, sending each :class:`TickerData` as soon as it is complete.

        Closes ``send`` when all tickers are done.
        """
        if self.in_process:  # one ticker after the other: a task per ticker would only add overhead
            async with send:
                for ticker in tickers:
                    data = await self.fetch_ticker(ticker)
                    self._done += 1
                    await send.send(data)
            return
        async with send, trio.open_nursery() as nursery:
            for ticker in tickers:
                await self._limiter.acquire_on_behalf_of(ticker)
                nursery.start_soon(self._fetch_one_and_release, ticker, send.clone())

    async def _fetch_one_and_release(self, ticker: str, send: trio.MemorySendChannel[TickerData]) -> None:
        try:
            async with send:
                data = await self.fetch_ticker(ticker)
                self._done += 1
                await send.send(data)
        finally:
            self._limiter.release_on_behalf_of(ticker)

    async def fetch_ticker(self, ticker: str) -> TickerData:
        """History, then earnings and news for one ticker; errors are recorded, not raised."""
        errors: list[DataError] = []
        history = await self._call(ticker, DataPiece.HISTORY, lambda: self.provider.history(ticker), errors)
        if history is None or not history.bars:
            return self._without_history(ticker, history.as_of if history else None, errors, history)
        return await self._with_extras(ticker, history.as_of, errors, history)

    async def fetch_columns(self, ticker: str) -> tuple[TickerData, PriceColumns | None]:
        """:meth:`fetch_ticker` with the history as columns (``provider.history_columns``).

        The :class:`TickerData` carries no history; the columns come beside it. For worker
        processes that score where the data is made (:mod:`actors.fetch_score`).
        """
        errors: list[DataError] = []
        columns = await self._call(
            ticker, DataPiece.HISTORY, lambda: self.provider.history_columns(ticker), errors  # type: ignore[attr-defined]
        )
        if columns is None or not columns.closes:
            return self._without_history(ticker, columns.as_of if columns else None, errors, None), None
        return await self._with_extras(ticker, columns.as_of, errors, None), columns

    def _without_history(
        self, ticker: str, as_of: dt.date | None, errors: list[DataError], history: PriceHistory | None
    ) -> TickerData:
        return TickerData(
            ticker=ticker,
            as_of=as_of or dt.date.min,
            source=self.provider.name,
            history=history,
            errors=tuple(errors),
            synthetic=self.provider.synthetic,
        )

    async def _with_extras(
        self, ticker: str, as_of: dt.date, errors: list[DataError], history: PriceHistory | None
    ) -> TickerData:
        """Earnings and news of a ticker whose history is in hand, and the TickerData of it all."""
        results: dict[DataPiece, object] = {}

        async def get(piece: DataPiece, fn: Callable[[], Awaitable[object]]) -> None:
            results[piece] = await self._call(ticker, piece, fn, errors)

        earnings = lambda: self.provider.earnings(ticker, as_of, as_of + self._horizon)  # noqa: E731
        news = lambda: self.provider.news(ticker)  # noqa: E731
        if self.in_process:
            await get(DataPiece.EARNINGS, earnings)
            await get(DataPiece.NEWS, news)
        else:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(get, DataPiece.EARNINGS, earnings)
                nursery.start_soon(get, DataPiece.NEWS, news)
        return TickerData(
            ticker=ticker,
            as_of=as_of,
            source=self.provider.name,
            history=history,
            earnings=results.get(DataPiece.EARNINGS),  # type: ignore[arg-type]
            headlines=results.get(DataPiece.NEWS) or (),  # type: ignore[arg-type]
            errors=tuple(errors),
            synthetic=self.provider.synthetic,
        )

    async def fetch_chains(self, tickers: Sequence[str]) -> dict[str, OptionChain | DataError]:
        """Option chains for ``tickers`` (the top N), concurrently; each value is a chain or the error."""
        out: dict[str, OptionChain | DataError] = {}

        async def one(ticker: str) -> None:
            async with self._limiter:
                errors: list[DataError] = []
                chain = await self._call(ticker, DataPiece.CHAIN, lambda: self.provider.chain(ticker), errors)
                out[ticker] = chain if chain is not None else errors[0]

        async with trio.open_nursery() as nursery:
            for ticker in tickers:
                nursery.start_soon(one, ticker)
        return {ticker: out[ticker] for ticker in tickers if ticker in out}  # in the order asked: deterministic

    async def _call(
        self,
        ticker: str,
        piece: DataPiece,
        fn: Callable[[], Awaitable[T]],
        errors: list[DataError],
    ) -> T | None:
        delays = iter(self._retry_delays)
        while True:
            self._calls += 1
            try:
                if self.in_process:
                    return await fn()
                await self._rate.wait()
                if self.provider_retries:
                    return await fn()
                with trio.fail_after(self._timeout):
                    return await fn()
            except trio.TooSlowError:
                exc: ProviderError = ProviderUnavailable(ticker, piece.value, f"no answer within {self._timeout:g} s")
            except ProviderError as caught:
                exc = caught
            if isinstance(exc, ProviderUnavailable):
                delay = next(delays, None)
                if delay is not None:
                    self._retries += 1
                    logger.debug("%s %s: %s; retrying in %.1f s", ticker, piece.value, exc.message, delay)
                    await trio.sleep(delay)
                    continue
            self._errors += 1
            # "quiet": a host known to be down, already reported once (not once per ticker).
            level = logging.DEBUG if exc.kind == "missing" or getattr(exc, "quiet", False) else logging.INFO
            logger.log(level, "%s %s: %s (%s)", ticker, piece.value, exc.message, exc.kind)
            errors.append(DataError(ticker=ticker, piece=piece, kind=exc.kind, message=exc.message))
            return None
