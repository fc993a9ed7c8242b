"""Requests and time of a live scan at the default rate limits: computed, and measured in virtual time.

A live scan of N tickers asks, per host (``actors.providers.live``):

* Cboe (``cboe_rate``): N daily charts (history), then ``top_n_options`` option chains;
* the news host (``news_rate``, Yahoo RSS by default): N feeds;
* Nasdaq (``nasdaq_rate``): one calendar per weekday of ``[as_of, as_of + dte_max]``, shared by
  every ticker (single flight).

Hosts are asked in parallel, so the data phase lasts about as long as its slowest host; the
chains come after scoring. The **computed** column divides each host's requests by its rate
(minus the burst); the **measured** column runs the real fetcher (``actors.fetcher.Fetcher``, the
default ``fetch_concurrency``) over the real :class:`~actors.providers.live.LiveProvider` in
virtual time (``trio.testing.MockClock``, autojump), with ``httpx.MockTransport`` answering every
request at once with a recorded body (AAPL's Cboe chart and chain, the symbol rewritten; a
Nasdaq day; an RSS feed), so the time is what the rate limits and the fetcher's scheduling
cost, not the network. A second run on the same day (same cache folder) is measured too.

    .venv/bin/python bench/live_requests.py [--tickers 500]
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import math
import sys
import tempfile
from importlib import resources
from pathlib import Path

import httpx
import trio
import trio.testing

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from actors.config import Settings  # noqa: E402
from actors.fetcher import Fetcher  # noqa: E402
from actors.providers.live.provider import LiveProvider  # noqa: E402
from actors.providers.live.settings import live_config  # noqa: E402
from messages.market import TickerData  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = resources.files("actors.providers") / "snapshot_data"
RSS = (ROOT / "tests" / "fixtures" / "rss" / "rss_AAPL.xml").read_bytes()
CHART = json.loads(DATA.joinpath("cboe/cboe_chart_historical_AAPL.json").read_bytes())
CHAIN = json.loads(DATA.joinpath("cboe/cboe_options_AAPL.json").read_bytes())
DAY = json.loads(DATA.joinpath("nasdaq_earnings/nasdaq_earnings_2024-07-01.json").read_bytes())


def handler(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    symbol = path.rsplit("/", 1)[-1].removesuffix(".json")
    if "/charts/historical/" in path:
        return httpx.Response(200, content=json.dumps({**CHART, "symbol": symbol}).encode())
    if "/options/" in path:
        chain = {**CHAIN, "data": {**CHAIN["data"], "symbol": symbol,
                                   "options": [{**o, "option": o["option"].replace("AAPL", symbol, 1)}
                                               for o in CHAIN["data"]["options"]]}}
        return httpx.Response(200, content=json.dumps(chain).encode())
    if path.endswith("/earnings"):
        day = dt.date.fromisoformat(request.url.params["date"])
        doc = {**DAY, "data": {**DAY["data"], "asOf": day.strftime("%a, %b %-d, %Y"), "rows": []}}
        return httpx.Response(200, content=json.dumps(doc).encode())
    return httpx.Response(200, content=RSS.replace(b"AAPL", symbol.encode()))


async def one_scan(settings: Settings, tickers: list[str], cache: Path) -> tuple[float, dict[str, int], int]:
    """Fetch ``tickers`` and the top N's chains as a scan does; (virtual seconds, requests per host, errors)."""
    config = live_config(settings)
    from attrs import evolve

    provider = LiveProvider(config=evolve(config, cache_dir=cache, transport=httpx.MockTransport(handler)))
    fetcher = Fetcher(provider, concurrency=settings.fetch_concurrency, retry_delays=settings.fetch_retry_delays,
                      timeout=settings.fetch_timeout, earnings_horizon_days=settings.dte_max)
    start = trio.current_time()
    send, receive = trio.open_memory_channel[TickerData](len(tickers))
    errors = 0
    async with trio.open_nursery() as nursery:
        nursery.start_soon(fetcher.fetch_universe, tickers, send)
        async with receive:
            async for data in receive:
                errors += len(data.errors)
    chains = await fetcher.fetch_chains(tickers[: settings.top_n_options])
    errors += sum(1 for c in chains.values() if not hasattr(c, "quotes"))
    seconds = trio.current_time() - start
    counts = provider.request_counts()
    await provider.aclose()
    return seconds, counts, errors


def computed(settings: Settings, n: int, as_of: dt.date) -> list[tuple[str, int, float]]:
    weekdays = sum(1 for d in range(settings.dte_max + 1) if (as_of + dt.timedelta(days=d)).weekday() < 5)
    rows = [("cboe (charts + chains)", n + min(n, settings.top_n_options), settings.cboe_rate),
            ("news (RSS)", n, settings.news_rate), ("nasdaq (calendar days)", weekdays, settings.nasdaq_rate)]
    return [(name, count, max(0.0, (count - math.ceil(rate)) / rate)) for name, count, rate in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=500)
    args = parser.parse_args()
    settings = Settings()
    tickers = [f"T{i:04d}" for i in range(args.tickers)]
    as_of = dt.date(2026, 7, 23)  # the recorded chart's last bar
    with tempfile.TemporaryDirectory() as tmp:
        first = trio.run(one_scan, settings, tickers, Path(tmp), clock=trio.testing.MockClock(autojump_threshold=0))
        second = trio.run(one_scan, settings, tickers, Path(tmp), clock=trio.testing.MockClock(autojump_threshold=0))
    print(f"live scan of {args.tickers} tickers, default settings (cboe {settings.cboe_rate}/s, news "
          f"{settings.news_rate}/s, nasdaq {settings.nasdaq_rate}/s, fetch_concurrency {settings.fetch_concurrency}, "
          f"top_n_options {settings.top_n_options}, dte_max {settings.dte_max})\n")
    print(f"{'host':<26}{'requests':>10}{'computed s':>12}")
    rows = computed(settings, args.tickers, as_of)
    for name, count, seconds in rows:
        print(f"{name:<26}{count:>10}{seconds:>12.1f}")
    total = sum(c for _, c, _ in rows)
    slowest = max(s for _, _, s in rows)
    print(f"{'total':<26}{total:>10}{slowest:>12.1f}   (hosts in parallel: the slowest host bounds the scan)\n")
    by_host = collections.Counter(first[1])
    print(f"measured (virtual time, real fetcher + provider + MockTransport): {first[0]:.1f} s, "
          f"{sum(by_host.values())} requests {dict(by_host)}, {first[2]} errors; "
          f"ratio measured/computed {first[0] / slowest:.2f}")
    print(f"second run, same day, same cache: {second[0]:.1f} s, {sum(second[1].values())} requests "
          f"(news feeds are kept {settings.news_cache_ttl:.0f} s, then asked again with If-None-Match)")


if __name__ == "__main__":
    main()
