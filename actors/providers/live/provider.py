"""The live provider: Cboe history and chains, Nasdaq earnings days, RSS (and EDGAR) headlines,
through the snapshot's parsers (one parsing path for live and recorded data).

One adapter per source (:mod:`~actors.providers.live.cboe`, :mod:`~actors.providers.live.nasdaq`,
:mod:`~actors.providers.live.rss`) over one :class:`~actors.providers.live.hosts.HostPool`: a
client per host with its connection limits, token bucket, retries honouring Retry-After, breaker,
the disk cache and the recording. The provider retries on its own (``handles_retries``): the
fetcher must not retry its errors again nor bound its calls with a timeout of its own (the
rate-limit queue is not "no answer").

``record_dir``: every body used (from the network or the cache) is also saved there in the
snapshot layout, so ``--source snapshot:DIR`` replays the run offline with the same results.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from collections.abc import Callable
from pathlib import Path

import attrs
import httpx
import trio

from actors.errors import ProviderUnavailable
from actors.providers.live.cache import HttpCache, default_cache_dir, trading_day
from actors.providers.live.cboe import Cboe
from actors.providers.live.hosts import HostPool
from actors.providers.live.http import HostPolicy
from actors.providers.live.nasdaq import NasdaqCalendar
from actors.providers.live.rss import Feed, headlines_from
from messages.market import EarningsEvent, Headline, OptionChain, PriceHistory

__all__ = ["DEFAULT_EDGAR_FEED", "DEFAULT_NEWS_FEED", "LiveConfig", "LiveProvider"]

DEFAULT_NEWS_FEED = "https://feeds.finance.yahoo.com/rss/2.0/headline?s={symbol}&region=US&lang=en-US"
DEFAULT_EDGAR_FEED = ("https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany&CIK={symbol}"
                      "&type=8-K&dateb=&owner=include&count=20&output=atom")


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
    edgar_feed_url: str = DEFAULT_EDGAR_FEED
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
        self.cache = HttpCache(config.cache_dir or default_cache_dir(), mode=config.cache_mode,
                               news_ttl=config.news_ttl)
        self._pool = HostPool(cache=self.cache, day=config.day, record_dir=config.record_dir,
                              transport=config.transport)
        self._cboe = Cboe(self._pool, base_url=config.cboe_base_url, policy=config.cboe)
        self._calendar = NasdaqCalendar(self._pool, base_url=config.nasdaq_base_url, policy=config.nasdaq)
        feeds = [Feed(self._pool, template=config.news_feed_url, policy=config.news)]
        if config.edgar_user_agent:
            feeds.append(Feed(self._pool, template=config.edgar_feed_url, policy=config.edgar, kind="edgar",
                              headers={"User-Agent": config.edgar_user_agent}))
        self._feeds = tuple(feeds)
        self._closed = False

    def default_universe(self) -> tuple[str, ...]:
        """``universe`` of the config, else the shipped ``liquid`` list."""
        if self.config.universe:
            return self.config.universe
        from actors.universes import load_universe

        return load_universe("liquid")

    def source_status(self) -> list[dict[str, Any]]:
        """Each host asked so far: requests, breaker, last answer, last failure (the dashboard's system page)."""
        return self._pool.statistics()

    def request_counts(self) -> dict[str, int]:
        """Requests sent per host (cache hits not counted)."""
        return self._pool.request_counts()

    async def history(self, ticker: str) -> PriceHistory:
        return await self._cboe.history(self._symbol(ticker, "history"))

    async def chain(self, ticker: str) -> OptionChain:
        return await self._cboe.chain(self._symbol(ticker, "chain"))

    async def news(self, ticker: str) -> tuple[Headline, ...]:
        """The headline feed's items, then (when EDGAR is on) the ticker's 8-K filings."""
        return await headlines_from(self._feeds, self._symbol(ticker, "news"))

    async def earnings(self, ticker: str, start: dt.date, end: dt.date) -> tuple[EarningsEvent, ...] | None:
        """Events in ``[start, end]`` when every weekday of it is known, else None (see ``nasdaq``)."""
        if start > end:
            raise ValueError(f"earnings window starts after it ends: {start} > {end}")
        return await self._calendar.earnings(self._symbol(ticker, "earnings"), start, end)

    async def aclose(self) -> None:
        self._closed = True
        with trio.CancelScope(shield=True):
            await self._pool.aclose()

    def _symbol(self, ticker: str, piece: str) -> str:
        if self._closed:
            raise ProviderUnavailable(ticker, piece, "live provider is closed")
        return ticker.strip().upper()
