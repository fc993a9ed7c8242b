"""Per-ticker headline feeds (RSS 2.0 / Atom): Yahoo Finance by default, SEC EDGAR 8-K filings optionally.

``news_feed_url`` is a template with ``{symbol}`` (default Yahoo Finance's
``/rss/2.0/headline?s={symbol}``, which answers 429 to clients without a User-Agent). The bytes
are fetched here and handed to :func:`~actors.providers.parsers.parse_rss_news` (feedparser
never fetches). A feed is kept ``news_cache_ttl`` seconds, then asked again with its
``ETag`` / ``Last-Modified`` (conditional GET). An empty feed is a failure of that source.

EDGAR (``edgar_feed_url``, the company's 8-K filings as Atom) requires a declared User-Agent
naming a person and a contact, and at most 10 requests per second; it is on only when
``edgar_user_agent`` is set. With both sources, the feed's headlines come first, then the
filings; one source failing still gives the other's items (the failure is logged); both failing
raise the feed's error.
"""

from __future__ import annotations

import logging
import urllib.parse

import trio

from actors.errors import DataNotAvailable, ProviderError
from actors.providers.live.hosts import HostPool
from actors.providers.live.http import HostPolicy
from actors.providers.parsers import parse_rss_news
from messages.market import Headline

__all__ = ["Feed", "headlines_from"]

logger = logging.getLogger(__name__)


class Feed:
    """One headline source: a URL template with ``{symbol}``; ``kind`` names it in recordings ("news", "edgar")."""

    def __init__(self, pool: HostPool, *, template: str, policy: HostPolicy, kind: str = "news",
                 headers: dict[str, str] | None = None) -> None:
        if "{symbol}" not in template:
            raise ValueError(f"{kind} feed URL: expected a template with {{symbol}}, got {template!r}")
        self._pool = pool
        self._template = template
        self._policy = policy
        self.kind = kind
        self._headers = headers

    def url(self, ticker: str) -> str:
        return self._template.replace("{symbol}", urllib.parse.quote(ticker.upper()))

    async def headlines(self, ticker: str) -> tuple[Headline, ...]:
        url = self.url(ticker)
        body = await self._pool.get(url, self._policy, ticker=ticker, piece="news", per_day=False,
                                    not_found=DataNotAvailable, headers=self._headers)
        return self._pool.parsed(url, body, parse_rss_news, ticker=ticker, record_as=(self.kind, ticker),
                                 per_day=False)


async def headlines_from(feeds: tuple[Feed, ...], ticker: str) -> tuple[Headline, ...]:
    """Every feed's headlines in order, asked at once; see the module docstring for failures."""
    if len(feeds) == 1:
        return await feeds[0].headlines(ticker)
    outcomes: list[tuple[Headline, ...] | ProviderError] = [()] * len(feeds)

    async def one(i: int, feed: Feed) -> None:
        try:
            outcomes[i] = await feed.headlines(ticker)
        except ProviderError as exc:
            outcomes[i] = exc

    async with trio.open_nursery() as nursery:
        for i, feed in enumerate(feeds):
            nursery.start_soon(one, i, feed)
    failures = [(feed, o) for feed, o in zip(feeds, outcomes) if isinstance(o, ProviderError)]
    if len(failures) == len(feeds):
        raise failures[0][1]
    for feed, failure in failures:
        logger.info("%s news: the %s source failed (%s); using the others", ticker, feed.kind, failure.message)
    return tuple(h for o in outcomes if not isinstance(o, ProviderError) for h in o)
