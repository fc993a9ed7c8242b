"""Yahoo Finance search news (``query2.finance.yahoo.com/v1/finance/search?q=<T>&newsCount=N``).

Shape::

    {"news": [{"uuid": "...", "title": "...", "publisher": "TheStreet", "link": "https://...",
               "providerPublishTime": 1740443580, "type": "STORY", "relatedTickers": [...]}],
     "quotes": [...], ...}

Headlines keep the document's order. An empty ``news`` array is a valid answer (no news).
A headline with a bad field (no title, a ``providerPublishTime`` that is not a timestamp from
1970 to today) is dropped and counted in an INFO log line; the others stay, even when none is
left (news is optional). A bad envelope (``news`` missing or not an array) fails the piece.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from actors.providers.parsers._common import Dropped, Reader, join
from messages.market import Headline

__all__ = ["parse_yahoo_news"]


def parse_yahoo_news(raw: bytes | str, *, ticker: str, today: dt.date | None = None) -> tuple[Headline, ...]:
    """Parse the ``news`` of a Yahoo search answer into headlines for ``ticker``; bad items are dropped.

    Raises:
        MalformedData: naming the field path and why.
    """
    r = Reader(ticker, "news", today=today)
    doc = r.obj(r.json(raw), "$")
    items = r.arr(r.field(doc, "news", "$"), "news")
    dropped = Dropped(r, "headlines")
    headlines = tuple(
        h for i, item in enumerate(items) if (h := dropped.read(_headline, r, item, join("news", i))) is not None
    )
    dropped.report(len(items), "news", allow_empty=True)
    return headlines


def _headline(r: Reader, item: Any, path: str) -> Headline:
    item = r.obj(item, path)
    return Headline(
        ticker=r.ticker,
        title=r.string(r.field(item, "title", path), join(path, "title")).strip(),
        published_at=r.unix(r.field(item, "providerPublishTime", path), join(path, "providerPublishTime")),
        publisher=r.optional_string(item.get("publisher"), join(path, "publisher")),
        url=r.optional_string(item.get("link"), join(path, "link")),
    )
