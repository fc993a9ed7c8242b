"""Yahoo Finance search news (``query2.finance.yahoo.com/v1/finance/search?q=<T>&newsCount=N``).

Shape::

    {"news": [{"uuid": "...", "title": "...", "publisher": "TheStreet", "link": "https://...",
               "providerPublishTime": 1740443580, "type": "STORY", "relatedTickers": [...]}],
     "quotes": [...], ...}

Headlines keep the document's order. An empty ``news`` array is a valid answer (no news).
"""

from __future__ import annotations

from actors.providers.parsers._common import Reader, join
from messages.market import Headline

__all__ = ["parse_yahoo_news"]


def parse_yahoo_news(raw: bytes | str, *, ticker: str) -> tuple[Headline, ...]:
    """Parse the ``news`` of a Yahoo search answer into headlines for ``ticker``.

    Raises:
        MalformedData: naming the field path and why.
    """
    r = Reader(ticker, "news")
    doc = r.obj(r.json(raw), "$")
    items = r.arr(r.field(doc, "news", "$"), "news")
    headlines = []
    for i, item in enumerate(items):
        path = join("news", i)
        item = r.obj(item, path)
        headlines.append(
            Headline(
                ticker=ticker,
                title=r.string(r.field(item, "title", path), join(path, "title")).strip(),
                published_at=r.unix(r.field(item, "providerPublishTime", path), join(path, "providerPublishTime")),
                publisher=r.optional_string(item.get("publisher"), join(path, "publisher")),
                url=r.optional_string(item.get("link"), join(path, "link")),
            )
        )
    return tuple(headlines)
