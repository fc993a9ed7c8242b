"""Per-ticker RSS 2.0 / Atom headline feeds (Yahoo Finance's ``/rss/2.0/headline?s=<T>``, SEC EDGAR Atom).

Shape (RSS 2.0)::

    <rss version="2.0"><channel><title>Yahoo! Finance: AAPL News</title>
      <item><title>...</title><link>https://...</link><pubDate>Thu, 23 Jul 2026 20:05:00 +0000</pubDate>
            <source url="...">Reuters</source></item> ...
    </channel></rss>

The bytes are handed to :mod:`feedparser` (which never fetches anything here). Items keep the
feed's order. An item without a title or with a date that is missing or outside 1970..today is
dropped and counted. A feed with **no items** is a failure of the source (MalformedData): Yahoo
answers an empty feed for symbols it throttles or does not know, so "empty" must not read as
"no news". A document feedparser cannot read as a feed at all is MalformedData too.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from actors.providers.parsers._common import Dropped, Reader, join
from messages.market import Headline

__all__ = ["parse_rss_news"]


def parse_rss_news(raw: bytes | str, *, ticker: str, today: dt.date | None = None) -> tuple[Headline, ...]:
    """Parse a headline feed for ``ticker``; bad items are dropped.

    Raises:
        MalformedData: not a feed, or a feed without items, naming why.
    """
    r = Reader(ticker, "news", today=today)
    text = r.text(raw)
    if not text.strip():
        raise r.error("$", "empty document")
    import feedparser  # here, not at module level: ~0.1 s of imports that sim and snapshot scans never need

    feed = feedparser.parse(text)
    entries = list(feed.get("entries") or [])
    if not entries:
        if feed.get("bozo"):
            raise r.error("$", f"not an RSS/Atom feed: {str(feed.get('bozo_exception'))[:160]}")
        raise r.error("channel", "the feed has no items (an empty feed is a failure of the source, not 'no news')")
    publisher = (feed.get("feed") or {}).get("title")
    dropped = Dropped(r, "headlines")
    headlines = tuple(
        h for i, entry in enumerate(entries)
        if (h := dropped.read(_headline, r, entry, join("item", i), publisher)) is not None
    )
    dropped.report(len(entries), "item")
    return headlines


def _headline(r: Reader, entry: Any, path: str, feed_title: str | None) -> Headline:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if parsed is None:
        raise r.error(join(path, "pubDate"), f"expected a date, got {entry.get('published')!r:.60}")
    source = entry.get("source") or {}
    return Headline(
        ticker=r.ticker,
        title=r.string(entry.get("title"), join(path, "title")).strip(),
        published_at=r.unix(calendar.timegm(parsed), join(path, "pubDate")),
        publisher=(source.get("title") if isinstance(source, dict) else None) or feed_title,
        url=r.optional_string(entry.get("link"), join(path, "link")),
    )
