"""Yahoo Finance chart v8 (``query2.finance.yahoo.com/v8/finance/chart/<T>?interval=1d``).

Shape::

    {"chart": {"error": null,
               "result": [{"meta": {"symbol": "AAPL", "gmtoffset": -18000, ...},
                           "timestamp": [1598880600, ...],
                           "indicators": {"quote": [{"open": [...], "high": [...], "low": [...],
                                                     "close": [...], "volume": [...]}]}}]}}

A day whose open/high/low/close holds a null is a skipped day (Yahoo pads halts and holidays
that way) and is dropped; a null volume with prices present counts as 0. The bar's date is the
timestamp shifted by ``meta.gmtoffset`` (daily timestamps are the session open, so a DST hour
never changes the day). ``chart.error`` "Not Found" raises UnknownTicker, other errors and a
result without timestamps raise DataNotAvailable.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from actors.errors import DataNotAvailable, UnknownTicker
from actors.providers.parsers._common import BarBuilder, Reader, join
from messages.market import PriceHistory

__all__ = ["parse_yahoo_chart", "yahoo_error"]

SOURCE = "yahoo"
_FIELDS = ("open", "high", "low", "close", "volume")


def yahoo_error(r: Reader, container: dict[str, Any], path: str) -> None:
    """Raise for a non-null ``error`` member of a Yahoo envelope (``chart`` or ``optionChain``)."""
    error = container.get("error")
    if error is None:
        return
    error = r.obj(error, join(path, "error"))
    code = str(error.get("code", ""))
    description = str(error.get("description", ""))[:200]
    if code.lower() == "not found":
        raise UnknownTicker(r.ticker, r.piece, f"Yahoo says: {description or code}")
    raise DataNotAvailable(r.ticker, r.piece, f"Yahoo error {code!r}: {description}")


def parse_yahoo_chart(raw: bytes | str, *, ticker: str, today: dt.date | None = None) -> PriceHistory:
    """Parse a Yahoo v8 daily chart for ``ticker``; bars oldest first.

    Raises:
        MalformedData: naming the field path and why.
        UnknownTicker: Yahoo says the symbol is not found.
        DataNotAvailable: Yahoo reports another error, or the chart has no bars.
    """
    r = Reader(ticker, "history", today=today)
    doc = r.obj(r.json(raw), "$")
    chart = r.obj(r.field(doc, "chart", "$"), "chart")
    yahoo_error(r, chart, "chart")
    results = r.arr(r.field(chart, "result", "chart"), "chart.result")
    if not results:
        raise r.error("chart.result", "expected one result, got an empty array")
    path = "chart.result[0]"
    result = r.obj(results[0], path)
    meta = r.obj(r.field(result, "meta", path), join(path, "meta"))
    r.symbol(r.field(meta, "symbol", join(path, "meta")), join(path, "meta.symbol"))
    offset = meta.get("gmtoffset", 0)
    if isinstance(offset, bool) or not isinstance(offset, int) or abs(offset) > 14 * 3600:
        raise r.error(join(path, "meta.gmtoffset"), f"expected seconds east of UTC, got {offset!r:.40}")
    stamps = result.get("timestamp")
    if stamps is None or stamps == []:
        raise DataNotAvailable(ticker, "history", "Yahoo chart has no bars")
    stamps = r.arr(stamps, join(path, "timestamp"))
    quote_path = join(path, "indicators.quote[0]")
    indicators = r.obj(r.field(result, "indicators", path), join(path, "indicators"))
    quotes = r.arr(r.field(indicators, "quote", join(path, "indicators")), join(path, "indicators.quote"))
    if not quotes:
        raise r.error(join(path, "indicators.quote"), "expected one quote series, got an empty array")
    quote = r.obj(quotes[0], quote_path)
    series = []
    for name in _FIELDS:
        values = r.arr(r.field(quote, name, quote_path), join(quote_path, name))
        if len(values) != len(stamps):
            raise r.error(
                join(quote_path, name), f"has {len(values)} values for {len(stamps)} timestamps"
            )
        series.append(values)
    builder = BarBuilder(r)
    shift = dt.timedelta(seconds=offset)
    number = r.number
    for i, (stamp, o, h, l, c, v) in enumerate(zip(stamps, *series)):
        if o is None or h is None or l is None or c is None:
            continue  # a skipped day
        date = (r.unix(stamp, f"{path}.timestamp[{i}]") + shift).date()
        names = (
            f"{path}.timestamp[{i}]",
            f"{quote_path}.open[{i}]",
            f"{quote_path}.high[{i}]",
            f"{quote_path}.low[{i}]",
            f"{quote_path}.close[{i}]",
            f"{quote_path}.volume[{i}]",
        )
        builder.add(
            "",
            date,
            number(o, names[1]),
            number(h, names[2]),
            number(l, names[3]),
            number(c, names[4]),
            0.0 if v is None else number(v, names[5]),
            names,
        )
    if not builder.bars:
        raise DataNotAvailable(ticker, "history", "Yahoo chart has only empty days")
    bars = tuple(builder.bars)
    return PriceHistory(ticker=ticker, bars=bars, as_of=bars[-1].date, source=SOURCE)
