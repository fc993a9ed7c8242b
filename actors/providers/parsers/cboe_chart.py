"""Cboe historical daily chart (``.../delayed_quotes/charts/historical/<T>.json``).

Shape::

    {"timestamp": "11:00:17", "symbol": "AAPL",
     "data": [{"date": "2004-01-02", "open": 0.39, "high": 0.39, "low": 0.38, "close": 0.38,
               "volume": 2024993600}, ...]}

An empty ``data`` array means "no bars" and raises DataNotAvailable (the document is well formed
and says there is nothing); anything malformed raises MalformedData.
"""

from __future__ import annotations

import datetime as dt

from actors.errors import DataNotAvailable
from actors.providers.parsers._common import BarBuilder, Reader, join
from messages.market import PriceHistory

__all__ = ["parse_cboe_chart"]

SOURCE = "cboe"


def parse_cboe_chart(raw: bytes | str, *, ticker: str, today: dt.date | None = None) -> PriceHistory:
    """Parse a Cboe daily chart for ``ticker``; bars oldest first.

    Raises:
        MalformedData: naming the field path and why.
        DataNotAvailable: the chart has no bars.
    """
    r = Reader(ticker, "history", today=today)
    doc = r.obj(r.json(raw), "$")
    if "symbol" in doc:
        r.symbol(doc["symbol"], "symbol")
    rows = r.arr(r.field(doc, "data", "$"), "data")
    if not rows:
        raise DataNotAvailable(ticker, "history", "Cboe chart has no bars")
    builder = BarBuilder(r)
    number = r.number
    field = r.field
    for i, row in enumerate(rows):
        path = join("data", i)
        row = r.obj(row, path)
        builder.add(
            path,
            r.iso_date(field(row, "date", path), join(path, "date")),
            number(field(row, "open", path), join(path, "open")),
            number(field(row, "high", path), join(path, "high")),
            number(field(row, "low", path), join(path, "low")),
            number(field(row, "close", path), join(path, "close")),
            number(field(row, "volume", path), join(path, "volume")),
        )
    bars = tuple(builder.bars)
    return PriceHistory(ticker=ticker, bars=bars, as_of=bars[-1].date, source=SOURCE)
