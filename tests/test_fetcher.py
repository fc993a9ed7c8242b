"""The fetcher: per-ticker errors, retries with fetch_retry_delays, rate limits, concurrency (virtual time)."""

import datetime as dt

import pytest
import trio

from actors.errors import DataNotAvailable, MalformedData, ProviderUnavailable, UnknownTicker
from actors.fetcher import Fetcher
from messages.market import Bar, DataPiece, Headline, PriceHistory


def _history(ticker: str) -> PriceHistory:
    day = dt.date(2026, 7, 24)
    return PriceHistory(ticker, (Bar(day, 1.0, 1.0, 1.0, 1.0, 10.0),), day, "fake")


class FlakyProvider:
    """history() fails with ProviderUnavailable ``fail_times`` times, then answers."""

    name = "fake"
    synthetic = False
    requests_per_second = 0

    def __init__(self, fail_times=0, errors=None, latency=0.0):
        self.fail_times = fail_times
        self.errors = errors or {}
        self.latency = latency
        self.calls: list[tuple[float, str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def _enter(self, ticker, piece):
        self.calls.append((trio.current_time(), ticker, piece))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await trio.sleep(self.latency)
        finally:
            self.in_flight -= 1
        error = self.errors.get((ticker, piece))
        if error:
            raise error(ticker, piece, "scripted")

    async def history(self, ticker):
        await self._enter(ticker, "history")
        if self.fail_times > 0:
            self.fail_times -= 1
            raise ProviderUnavailable(ticker, "history", "HTTP 503")
        return _history(ticker)

    async def chain(self, ticker):
        await self._enter(ticker, "chain")
        raise DataNotAvailable(ticker, "chain", "no options")

    async def earnings(self, ticker, start, end):
        await self._enter(ticker, "earnings")
        return ()

    async def news(self, ticker):
        await self._enter(ticker, "news")
        return (Headline(ticker, "hello", dt.datetime(2026, 7, 24, tzinfo=dt.timezone.utc)),)


async def _collect(fetcher, tickers):
    send, receive = trio.open_memory_channel(100)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(fetcher.fetch_universe, tickers, send)
        return [item async for item in receive]


async def test_transport_failures_are_retried_with_the_configured_delays(autojump_clock):
    """ProviderUnavailable is retried after 1, 2 and 4 s; the fourth try succeeds."""
    provider = FlakyProvider(fail_times=3)
    (data,) = await _collect(Fetcher(provider, retry_delays=(1, 2, 4)), ["AAA"])
    times = [t for t, _, piece in provider.calls if piece == "history"]
    assert times == [0.0, 1.0, 3.0, 7.0]
    assert data.usable and data.errors == ()


async def test_retries_give_up_with_a_recorded_error(autojump_clock):
    """Past the last delay the ticker carries an 'unavailable' error; the scan goes on."""
    (data,) = await _collect(Fetcher(FlakyProvider(fail_times=9), retry_delays=(1, 2)), ["AAA"])
    assert not data.usable
    assert [(e.piece, e.kind) for e in data.errors] == [(DataPiece.HISTORY, "unavailable")]


@pytest.mark.parametrize(("error", "kind"), [(MalformedData, "malformed"), (UnknownTicker, "unknown_ticker")])
async def test_final_errors_are_not_retried(autojump_clock, error, kind):
    """Malformed data and unknown tickers are recorded at once, never retried."""
    provider = FlakyProvider(errors={("BAD", "history"): error})
    results = await _collect(Fetcher(provider, retry_delays=(1, 2, 4)), ["BAD", "OK"])
    by = {d.ticker: d for d in results}
    assert [e.kind for e in by["BAD"].errors] == [kind]
    assert by["OK"].usable
    assert trio.current_time() == 0.0


async def test_missing_earnings_is_unknown_not_fatal(autojump_clock):
    """A provider without earnings for a ticker leaves earnings None (unknown) and records why."""
    provider = FlakyProvider(errors={("AAA", "earnings"): DataNotAvailable})
    (data,) = await _collect(Fetcher(provider), ["AAA"])
    assert data.usable and data.earnings is None
    assert [e.piece for e in data.errors] == [DataPiece.EARNINGS]
    assert len(data.headlines) == 1


async def test_concurrency_is_bounded(autojump_clock):
    """No more than ``concurrency`` tickers are fetched at once."""
    provider = FlakyProvider(latency=1.0)
    results = await _collect(Fetcher(provider, concurrency=3), [f"T{i}" for i in range(10)])
    assert len(results) == 10
    assert provider.max_in_flight <= 3 * 2  # earnings and news of one ticker run together


async def test_slow_provider_times_out_as_unavailable(autojump_clock):
    """A call slower than ``timeout`` counts as unavailable after the timeout."""
    provider = FlakyProvider(latency=100.0)
    (data,) = await _collect(Fetcher(provider, timeout=5.0, retry_delays=()), ["AAA"])
    assert trio.current_time() == 5.0
    assert data.errors[0].kind == "unavailable" and "5 s" in data.errors[0].message


async def test_rate_limit_spaces_calls(autojump_clock):
    """requests_per_second = 2 spaces calls 0.5 s apart."""
    provider = FlakyProvider()
    provider.requests_per_second = 2
    await _collect(Fetcher(provider, concurrency=1), ["A", "B"])
    times = [t for t, _, _ in provider.calls]
    assert all(b - a >= 0.5 - 1e-9 for a, b in zip(times, times[1:]))


async def test_chains_are_fetched_for_the_requested_tickers_only(autojump_clock):
    """fetch_chains returns a chain or the error for each ticker asked for."""
    chains = await Fetcher(FlakyProvider()).fetch_chains(["A", "B"])
    assert set(chains) == {"A", "B"}
    assert chains["A"].kind == "missing"


class InProcessProvider(FlakyProvider):
    """The same provider, declaring that it computes its answers in this process."""

    in_process = True


async def test_in_process_provider_gets_the_same_data_one_piece_at_a_time(autojump_clock):
    """The fast path: the same TickerData in universe order, pieces one after the other, no task per ticker."""
    tickers = ["A", "BAD", "C"]
    errors = {("BAD", "earnings"): DataNotAvailable}
    normal = await _collect(Fetcher(FlakyProvider(errors=errors), concurrency=1), tickers)
    provider = InProcessProvider(errors=errors, latency=1.0)
    fast = await _collect(Fetcher(provider, concurrency=8), tickers)
    assert fast == normal
    assert [d.ticker for d in fast] == tickers
    assert provider.max_in_flight == 1
    assert trio.current_time() == 9.0  # 3 tickers x 3 pieces x 1 s, strictly sequential


async def test_in_process_provider_is_retried_like_any_other(autojump_clock):
    """ProviderUnavailable from an in-process provider is retried with the same delays."""
    provider = InProcessProvider(fail_times=2)
    (data,) = await _collect(Fetcher(provider, retry_delays=(1, 2, 4)), ["AAA"])
    assert [t for t, _, piece in provider.calls if piece == "history"] == [0.0, 1.0, 3.0]
    assert data.usable


async def test_chains_come_back_in_the_order_asked(autojump_clock):
    """fetch_chains' dict follows the order of the tickers asked for, whatever finished first."""
    provider = FlakyProvider(latency=1.0)
    chains = await Fetcher(provider, concurrency=4).fetch_chains(["D", "C", "B", "A"])
    assert list(chains) == ["D", "C", "B", "A"]
