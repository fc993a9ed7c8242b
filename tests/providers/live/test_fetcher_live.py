"""The real fetcher over the live provider: one layer of retries (the provider's), no per-ticker log
lines for a dead host, and the rate limit as the fetcher sees it, in virtual time."""

from __future__ import annotations

import logging

import httpx
import pytest
import trio

from actors.fetcher import Fetcher
from messages.market import TickerData

from .conftest import fast_policy, make_provider


async def fetch_all(fetcher: Fetcher, tickers: list[str]) -> list[TickerData]:
    send, receive = trio.open_memory_channel[TickerData](len(tickers))
    out: list[TickerData] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(fetcher.fetch_universe, tickers, send)
        async with receive:
            async for data in receive:
                out.append(data)
    return out


async def test_a_dead_host_fails_every_ticker_once_quietly_and_fast(autojump_clock, tmp_path, caplog):
    """Connection refused for 40 tickers: each gets one 'unavailable' history error, the fetcher retries
    nothing itself, at most one request per concurrency slot was sent, one WARNING, no INFO per ticker."""
    caplog.set_level(logging.DEBUG)
    sent: list[float] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        sent.append(trio.current_time())
        raise httpx.ConnectError("refused", request=request)

    provider = make_provider(refuse, tmp_path)
    fetcher = Fetcher(provider, concurrency=8, retry_delays=(1.0, 2.0, 4.0), timeout=20.0)
    data = await fetch_all(fetcher, [f"T{i}" for i in range(40)])
    await provider.aclose()
    assert len(data) == 40 and all([e.kind for e in d.errors] == ["unavailable"] for d in data)
    assert fetcher.statistics().retries == 0
    assert len(sent) <= 8 and trio.current_time() <= 1.0
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "cboe.test cannot be reached" in warnings[0].getMessage()
    assert not [r for r in caplog.records if r.name == "actors.fetcher" and r.levelno >= logging.INFO]


async def test_the_fetcher_is_paced_by_the_hosts_token_bucket(autojump_clock, tmp_path, serve_recorded):
    """12 tickers' histories (AAPL's chart, the symbol rewritten) at 5/s, burst 1, 8 at a time: the
    last request goes at 11 / 5 = 2.2 s, never two within 0.2 s."""
    import json

    from .conftest import recorded

    chart = json.loads(recorded("cboe/cboe_chart_historical_AAPL.json"))
    chart["data"] = chart["data"][-300:]  # the last 300 recorded bars: parsing is not what this measures
    times: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if "/charts/historical/" in request.url.path:
            times.append(trio.current_time())
            symbol = request.url.path.rsplit("/", 1)[1][:-5]
            return httpx.Response(200, content=json.dumps({**chart, "symbol": symbol}).encode())
        return httpx.Response(404)

    policy = fast_policy(rate=5.0, burst=1)
    provider = make_provider(handler, tmp_path, policy=policy)
    fetcher = Fetcher(provider, concurrency=8, earnings_horizon_days=1)
    await fetch_all(fetcher, [f"T{i}" for i in range(12)])
    await provider.aclose()
    assert len(times) == 12
    assert max(times) == pytest.approx(11 / 5)
    gaps = [b - a for a, b in zip(sorted(times), sorted(times)[1:])]
    assert min(gaps) == pytest.approx(0.2)
