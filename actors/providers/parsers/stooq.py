"""Stooq daily CSV (``stooq.com/q/d/l/?s=<sym>.us&i=d``).

Two header languages are in the wild, with CRLF or LF line endings::

    Date,Open,High,Low,Close,Volume
    Data,Otwarcie,Najwyzszy,Najnizszy,Zamkniecie,Wolumen

Volumes may be fractional (split-adjusted). Columns are found by name, so extra columns
(``OpenInt``) are ignored. Stooq answers some failures in plain text instead of CSV:
``No data`` / ``Brak danych`` (DataNotAvailable) and the daily hits limit (ProviderUnavailable).
Errors name the row as ``line N.Column`` (line 1 is the header).
"""

from __future__ import annotations

import datetime as dt

from actors.errors import DataNotAvailable, ProviderUnavailable
from actors.providers.parsers._common import BarBuilder, Reader
from messages.market import PriceHistory

__all__ = ["parse_stooq_csv"]

SOURCE = "stooq"

_HEADERS = (
    ("Date", "Open", "High", "Low", "Close", "Volume"),
    ("Data", "Otwarcie", "Najwyzszy", "Najnizszy", "Zamkniecie", "Wolumen"),
)
_NO_DATA = ("no data", "brak danych")
_LIMIT = ("exceeded the daily hits limit", "przekroczony dzienny limit")


def parse_stooq_csv(raw: bytes | str, *, ticker: str, today: dt.date | None = None) -> PriceHistory:
    """Parse a Stooq daily CSV for ``ticker``; bars oldest first.

    Raises:
        MalformedData: naming ``line N.Column`` and why.
        DataNotAvailable: Stooq says it has no data, or the CSV has a header and no rows.
        ProviderUnavailable: Stooq says the daily request limit is exhausted.
    """
    r = Reader(ticker, "history", today=today)
    lines = r.text(raw).splitlines()
    first = lines[0].strip() if lines else ""
    lowered = first.lower()
    if not first:
        raise r.error("line 1", "empty document")
    if lowered.startswith(_NO_DATA):
        raise DataNotAvailable(ticker, "history", f"Stooq says {first!r}")
    if lowered.startswith(_LIMIT):
        raise ProviderUnavailable(ticker, "history", f"Stooq says {first!r}")
    header = [name.strip() for name in first.split(",")]
    names, columns = _columns(r, header)
    width = len(header)
    builder = BarBuilder(r)
    number = r.csv_number
    i_date, i_open, i_high, i_low, i_close, i_volume = columns
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split(",")
        path = f"line {lineno}"
        if len(cells) != width:
            raise r.error(path, f"expected {width} fields, got {len(cells)}: {line[:60]!r}")
        try:
            date = dt.date.fromisoformat(cells[i_date].strip())
        except ValueError:
            raise r.error(f"{path}.{names[0]}", f"expected a date YYYY-MM-DD, got {cells[i_date][:20]!r}") from None
        builder.add(
            path,
            date,
            number(cells[i_open], f"{path}.{names[1]}"),
            number(cells[i_high], f"{path}.{names[2]}"),
            number(cells[i_low], f"{path}.{names[3]}"),
            number(cells[i_close], f"{path}.{names[4]}"),
            number(cells[i_volume], f"{path}.{names[5]}"),
            names,
        )
    if not builder.bars:
        raise DataNotAvailable(ticker, "history", "Stooq CSV has a header and no rows")
    bars = tuple(builder.bars)
    return PriceHistory(ticker=ticker, bars=bars, as_of=bars[-1].date, source=SOURCE)


def _columns(r: Reader, header: list[str]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    folded = [name.lower() for name in header]
    for names in _HEADERS:
        try:
            return names, tuple(folded.index(name.lower()) for name in names)
        except ValueError:
            continue
    raise r.error(
        "line 1",
        f"expected header {','.join(_HEADERS[0])} (or {','.join(_HEADERS[1])}), got {','.join(header)[:80]!r}",
    )
