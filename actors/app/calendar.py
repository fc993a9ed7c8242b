"""Trading days: weekdays minus NYSE holidays (pure, no clock of its own).

The holiday table is the ``holidays`` package's NYSE financial calendar
(``holidays.financial_holidays("NYSE")``): maintained upstream, computed by rule for any year
(so a daemon running into next year needs no table update), and it includes the observed
days (July 4 on a Saturday closes Friday the 3rd) and one-off closures the exchange announced.
Early closes (the day after Thanksgiving) are trading days here: a scan at 16:30 still finds
that day's data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container

import holidays

__all__ = ["TradingCalendar"]


class TradingCalendar:
    """Which dates are trading days. ``closed`` replaces the NYSE holiday table (tests, other exchanges)."""

    def __init__(self, closed: Container[dt.date] | None = None) -> None:
        self._closed = holidays.financial_holidays("NYSE") if closed is None else closed

    def is_trading_day(self, day: dt.date) -> bool:
        """True on a weekday that is not an exchange holiday."""
        return day.weekday() < 5 and day not in self._closed

    def closed_because(self, day: dt.date) -> str | None:
        """Why ``day`` is not a trading day (``"weekend"``, the holiday's name), or None if it is one."""
        if day.weekday() >= 5:
            return "weekend"
        if day in self._closed:
            name = self._closed.get(day) if hasattr(self._closed, "get") else None
            return str(name) if name else "holiday"
        return None
