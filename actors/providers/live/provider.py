"""The live provider: Cboe history and chains, Nasdaq earnings days, RSS headlines, via the
snapshot's parsers (one parsing path for live and recorded data).

Each host has one :class:`~actors.providers.live.http.HostClient` (connection limits, token
bucket, retries honouring Retry-After, breaker, disk cache). The provider retries on its own
(``handles_retries``): the fetcher must not retry its errors again nor bound its calls with a
timeout of its own (the rate-limit queue is not "no answer").

Earnings: the Nasdaq calendar is one document per day for the whole market, so each weekday of
a window is asked once per run (single flight, kept in memory) and shared by every ticker. A
window is known when every weekday in it is (weekends carry no reports); a day Nasdaq cannot
give (``data`` null, a malformed document) makes the window unknown (None), never "no
earnings". A host that is down makes the piece unavailable.

``record_dir``: every body used (from the network or the cache) is also saved there in the
snapshot layout (:func:`~actors.providers.live.sources.record_path`), so
``--source snapshot:DIR`` replays the run offline with the same results.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import httpx
import trio

from actors.errors import DataNotAvailable, MalformedData, ProviderError, ProviderUnavailable, UnknownTicker
from actors.providers.live import sources
from actors.providers.live.cache import HttpCache, default_cache_dir, trading_day
from actors.providers.live.http import HostClient, HostPolicy
from actors.providers.parsers import EarningsDay, parse_cboe_chain, parse_cboe_chart, parse_nasdaq_earnings, parse_rss_news
from messages.market import EarningsEvent, Headline, OptionChain, PriceHistory

__all__ = ["LiveConfig", "LiveProvider"]

logger = logging.getLogger(__name__)

DEFAULT_NEWS_FEED = "https://feeds.finance.yahoo.com/rss/2.0/headline?s={symbol}&region=US&lang=en-US"


@attrs.frozen(kw_only=True)
class LiveConfig:
    """Where each source is and how each host is treated. Built from settings by ``live_config``."""

    cboe_base_url: str = "https://cdn.cboe.com"
    nasdaq_base_url: str = "https://api.nasdaq.com"
    news_feed_url: str = DEFAULT_NEWS_FEED
    cboe: HostPolicy = HostPolicy(rate=4.0, burst=4)
    nasdaq: HostPolicy = HostPolicy(rate=1.0, burst=1)
    news: HostPolicy = HostPolicy(rate=2.0, burst=2)
    #: SEC EDGAR 8-K Atom feeds as a second headline source: on when the declared User-Agent is set.
    edgar_user_agent: str = ""
    edgar_feed_url: str = ("https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany&CIK={symbol}"
                           "&type=8-K&dateb=&owner=include&count=20&output=atom")
    edgar: HostPolicy = HostPolicy(rate=5.0, burst=5)
    #: None: the default cache folder (``$CACHE_DIRECTORY``, ``$XDG_CACHE_HOME/option-alpha``).
    cache_dir: Path | None = None
    cache_mode: str = "use"
    news_ttl: float = 900.0
    record_dir: Path | None = None
    universe: tuple[str, ...] = ()
    #: Replaces the network for every host (tests: ``httpx.MockTransport``).
    transport: httpx.AsyncBaseTransport | None = None
    #: The trading day that keys the cache (tests inject it); default :func:`trading_day`.
    day: Callable[[], dt.date] = trading_day


class LiveProvider:
    """See the module docstring."""

    name = "live"
    synthetic = False
    #: Retries, timeouts and rate limits are done here, per host (see the module docstring).
    handles_retries = True

    def __init__(self, *, config: LiveConfig | None = None) -> None:
        self.config = config = config or LiveConfig()
        if "{symbol}" not in config.news_feed_url:
            raise ValueError(f"news_feed_url: expected a URL template with {{symbol}}, got {config.news_feed_url!r}")
        cache_dir = config.cache_dir or default_cache_dir()
        self.cache = HttpCache(cache_dir, mode=config.cache_mode, news_ttl=config.news_ttl)
        self._hosts: dict[str, HostClient] = {}
        self._days: dict[dt.date, _Flight] = {}
        self._closed = False

    def default_universe(self) -> tuple[str, ...]:
        if self.config.universe:
            return self.config.universe
        from actors.universes import load_universe

        return load_universe("liquid")

    def host(self, url: str, policy: HostPolicy) -> HostClient:
        """The one client of ``url``'s host (created with ``policy`` on first use)."""
        name = sources.host_of(url)
        client = self._hosts.get(name)
        if client is None:
            client = self._hosts[name] = HostClient(name, policy=policy, cache=self.cache,
                                                    transport=self.config.transport)
        return client

    def request_counts(self) -> dict[str, int]:
        """Requests sent per host (cache hits not counted)."""
        return {name: client.requests for name, client in self._hosts.items()}

    # -- the four pieces -------------------------------------------------------------------

    async def history(self, ticker: str) -> PriceHistory:
        ticker = self._symbol(ticker, "history")
        url = sources.cboe_chart_url(self.config.cboe_base_url, ticker)
        body = await self.host(url, self.config.cboe).get(
            url, ticker=ticker, piece="history", day=self.config.day(), not_found=UnknownTicker,
            missing_statuses=(403, 404, 410))
        return self._parse(url, body, "history", ticker, parse_cboe_chart, ticker)

    async def chain(self, ticker: str) -> OptionChain:
        ticker = self._symbol(ticker, "chain")
        url = sources.cboe_chain_url(self.config.cboe_base_url, ticker)
        body = await self.host(url, self.config.cboe).get(
            url, ticker=ticker, piece="chain", day=self.config.day(), not_found=DataNotAvailable,
            missing_statuses=(403, 404, 410))
        return self._parse(url, body, "chain", ticker, parse_cboe_chain, ticker)

    async def news(self, ticker: str) -> tuple[Headline, ...]:
        """The headline feed's items, then (when EDGAR is on) the ticker's 8-K filings.

        With two sources, one failing still gives the other's items (the failure is logged); both
        failing raise the headline feed's error."""
        ticker = self._symbol(ticker, "news")
        if not self.config.edgar_user_agent:
            return await self._feed(ticker, "news", self.config.news_feed_url, self.config.news, {})
        outcomes: dict[str, tuple[Headline, ...] | ProviderError] = {}

        async def one(kind: str, template: str, policy: HostPolicy, headers: dict[str, str]) -> None:
            try:
                outcomes[kind] = await self._feed(ticker, kind, template, policy, headers)
            except ProviderError as exc:
                outcomes[kind] = exc

        async with trio.open_nursery() as nursery:
            nursery.start_soon(one, "news", self.config.news_feed_url, self.config.news, {})
            nursery.start_soon(one, "edgar", self.config.edgar_feed_url, self.config.edgar,
                               {"User-Agent": self.config.edgar_user_agent})
        feed, filings = outcomes["news"], outcomes["edgar"]
        if isinstance(feed, ProviderError) and isinstance(filings, ProviderError):
            raise feed
        for kind, outcome in (("headline feed", feed), ("EDGAR", filings)):
            if isinstance(outcome, ProviderError):
                logger.info("%s news: %s failed (%s); using the other source", ticker, kind, outcome.message)
        return tuple(h for o in (feed, filings) if not isinstance(o, ProviderError) for h in o)

    async def _feed(self, ticker: str, kind: str, template: str, policy: HostPolicy,
                    headers: dict[str, str]) -> tuple[Headline, ...]:
        url = sources.news_url(template, ticker)
        body = await self.host(url, policy).get(
            url, ticker=ticker, piece="news", day=None, not_found=DataNotAvailable, headers=headers or None)
        return self._parse(url, body, kind, ticker, parse_rss_news, ticker)

    async def earnings(self, ticker: str, start: dt.date, end: dt.date) -> tuple[EarningsEvent, ...] | None:
        """Events in ``[start, end]`` when every weekday of it is known, else None (see the module docstring)."""
        if start > end:
            raise ValueError(f"earnings window starts after it ends: {start} > {end}")
        ticker = self._symbol(ticker, "earnings")
        events: list[EarningsEvent] = []
        day = start
        while day <= end:
            if day.weekday() < 5:
                calendar = await self._calendar_day(day, ticker)
                if calendar is None:
                    return None
                events.extend(calendar.for_ticker(ticker))
            day += dt.timedelta(days=1)
        return tuple(events)

    async def aclose(self) -> None:
        self._closed = True
        hosts, self._hosts = list(self._hosts.values()), {}
        with trio.CancelScope(shield=True):
            for client in hosts:
                await client.aclose()

    # -- internals -------------------------------------------------------------------------

    def _symbol(self, ticker: str, piece: str) -> str:
        if self._closed:
            raise ProviderUnavailable(ticker, piece, "live provider is closed")
        return ticker.strip().upper()

    def _parse(self, url: str, body: bytes, piece: str, key: str, parse: Callable[..., Any], ticker: str) -> Any:
        try:
            value = parse(body, ticker=ticker)
        except MalformedData as exc:  # remembered briefly (the body is not reused), then asked again
            self.cache.put_failure(url, day=None if piece in ("news", "edgar") else self.config.day(),
                                   kind=exc.kind, message=exc.message)
            raise
        self._record(piece, key, body)
        return value

    async def _calendar_day(self, day: dt.date, ticker: str) -> EarningsDay | None:
        flight = self._days.get(day)
        if flight is None:
            flight = self._days[day] = _Flight()
            try:
                flight.result = await self._fetch_calendar_day(day, ticker)
            except ProviderUnavailable as exc:
                flight.error = exc
            finally:
                flight.done.set()
        else:
            await flight.done.wait()
        if flight.error is not None:
            raise ProviderUnavailable(ticker, "earnings", f"calendar {day}: {flight.error.message}")
        return flight.result

    async def _fetch_calendar_day(self, day: dt.date, ticker: str) -> EarningsDay | None:
        url = sources.nasdaq_day_url(self.config.nasdaq_base_url, day)
        try:
            body = await self.host(url, self.config.nasdaq).get(
                url, ticker=ticker, piece="earnings", day=self.config.day(), not_found=DataNotAvailable,
                headers=sources.NASDAQ_HEADERS)
            calendar = parse_nasdaq_earnings(body, ticker=ticker)
        except (MalformedData, DataNotAvailable, UnknownTicker) as exc:
            logger.info("earnings calendar %s is unusable (%s): windows with that day are unknown", day, exc.message)
            return None
        if calendar.day != day:
            logger.info("earnings calendar for %s answered day %s: windows with that day are unknown", day, calendar.day)
            return None
        self._record("earnings", day.isoformat(), body)
        return calendar

    def _record(self, piece: str, key: str, body: bytes) -> None:
        if self.config.record_dir is None:
            return
        path = self.config.record_dir / sources.record_path(piece, key)
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(body)
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ProviderError(key, piece, f"--record: cannot save {path}: {exc.strerror or exc}") from exc


class _Flight:
    """One calendar day being fetched: later askers wait for the first one's answer."""

    __slots__ = ("done", "error", "result")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.result: EarningsDay | None = None
        self.error: ProviderUnavailable | None = None
