"""Nasdaq earnings calendar for one day (``api.nasdaq.com/api/calendar/earnings?date=YYYY-MM-DD``).

Shape::

    {"data": {"asOf": "Mon, Jul 1, 2024", "headers": {...},
              "rows": [{"symbol": "STZ", "time": "time-pre-market", "name": ..., ...}]},
     "message": null, "status": {"rCode": 200, ...}}

One document is the whole market's calendar for one day: a symbol absent from it has no
earnings that day. ``rows`` of null or [] is a known day without reports. ``time`` maps
``time-pre-market`` → "before_open", ``time-after-hours`` → "after_close",
``time-not-supplied`` → None; any other value is MalformedData.

A bad row fails the whole day, unlike a bad contract or headline: dropping it would turn
"reports that day" into "no earnings that day", a wrong answer where "unknown" is honest (the
snapshot provider treats a window with an unusable day as unknown). ``asOf`` must lie between
1970 and ``EARNINGS_AHEAD`` after today (calendars are published months ahead).
"""

from __future__ import annotations

import datetime as dt

from attrs import frozen

from actors.providers.parsers._common import Reader, join
from messages.market import EarningsEvent

__all__ = ["EARNINGS_AHEAD", "EarningsDay", "parse_nasdaq_earnings"]

#: How far after today a calendar day may lie.
EARNINGS_AHEAD = dt.timedelta(days=2 * 366)

_TIMES = {"time-pre-market": "before_open", "time-after-hours": "after_close", "time-not-supplied": None}
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}


@frozen
class EarningsDay:
    """One calendar day: every company reporting that day."""

    day: dt.date
    events: tuple[EarningsEvent, ...]

    def for_ticker(self, ticker: str) -> tuple[EarningsEvent, ...]:
        wanted = ticker.upper()
        return tuple(e for e in self.events if e.ticker == wanted)


def parse_nasdaq_earnings(raw: bytes | str, *, ticker: str = "*", today: dt.date | None = None) -> EarningsDay:
    """Parse one day of the Nasdaq earnings calendar (``ticker`` only labels errors).

    Raises:
        MalformedData: naming the field path and why (including a non-200 ``status.rCode``).
    """
    r = Reader(ticker, "earnings", today=today)
    doc = r.obj(r.json(raw), "$")
    status = doc.get("status")
    if isinstance(status, dict) and status.get("rCode") not in (None, 200):
        raise r.error("status.rCode", f"Nasdaq answered {status.get('rCode')!r}: {status.get('bCodeMessage')!r:.120}")
    data = r.obj(r.field(doc, "data", "$"), "data")
    day = _as_of(r, r.field(data, "asOf", "data"))
    rows = data.get("rows")
    rows = [] if rows is None else r.arr(rows, "data.rows")
    events = []
    for i, row in enumerate(rows):
        path = join("data.rows", i)
        row = r.obj(row, path)
        symbol = r.string(r.field(row, "symbol", path), join(path, "symbol")).strip().upper()
        time = r.field(row, "time", path)
        if not isinstance(time, str) or time not in _TIMES:
            allowed = ", ".join(repr(t) for t in _TIMES)
            raise r.error(join(path, "time"), f"expected one of {allowed}, got {time!r:.40}")
        events.append(EarningsEvent(ticker=symbol, date=day, time=_TIMES[time]))
    return EarningsDay(day=day, events=tuple(events))


def _as_of(r: Reader, value: object) -> dt.date:
    """``"Mon, Jul 1, 2024"`` → ``date(2024, 7, 1)`` (parsed by hand: strptime's %b follows the locale)."""
    try:
        assert isinstance(value, str) and len(value) <= 40
        _weekday, month_day, year = (part.strip() for part in value.split(","))
        month, day = month_day.split()
        date = dt.date(int(year), _MONTHS[month[:3].lower()], int(day))
    except (AssertionError, ValueError, KeyError):
        raise r.error("data.asOf", f"expected a date like 'Mon, Jul 1, 2024', got {value!r:.40}") from None
    return r.in_range(date, "data.asOf", latest=r.today + EARNINGS_AHEAD)
