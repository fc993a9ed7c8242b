"""When the daemon scans: pure functions of an aware wall-clock time, the settings and a calendar.

Scan times are ``scan_at`` (``HH:MM`` wall-clock times) and, when ``scan_every`` is set, every
``scan_every`` from local midnight (00:00, 00:30, ... for ``30m``), both only on trading days
and in ``scan_timezone``. Wall-clock times follow daylight saving: ``16:30`` is 16:30 New York
time in January and in July (21:30 and 20:30 UTC). A time that does not exist on a
spring-forward day (02:30) is taken with the offset before the change, as ``zoneinfo`` does
(fold 0); on a fall-back day an ambiguous time is its first occurrence.

:func:`next_due` gives the next scan time after a moment; :func:`catch_up_due` decides, at start,
whether a scheduled scan missed while the daemon was down should run now.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from typing import Protocol

import attrs

from actors.app.calendar import TradingCalendar
from actors.app.timespec import parse_clock_time

__all__ = ["ScheduleSpec", "catch_up_due", "due_times", "next_due"]

#: How far :func:`next_due` looks ahead for a trading day (the longest NYSE closure is 4 days).
LOOKAHEAD_DAYS = 15


class ScheduleSettings(Protocol):
    """The settings the schedule reads."""

    scan_at: tuple[str, ...]
    scan_timezone: str
    scan_every: float


@attrs.frozen(kw_only=True)
class ScheduleSpec:
    """Scan times on trading days: ``times`` (wall clock) and every ``every`` seconds (0 = off), in ``zone``."""

    times: tuple[dt.time, ...]
    zone: zoneinfo.ZoneInfo
    every: float = 0.0

    @classmethod
    def from_settings(cls, settings: ScheduleSettings) -> ScheduleSpec:
        return cls(
            times=tuple(sorted(parse_clock_time(t) for t in settings.scan_at)),
            zone=zoneinfo.ZoneInfo(settings.scan_timezone),
            every=float(settings.scan_every),
        )

    @property
    def empty(self) -> bool:
        """Nothing is scheduled (no ``scan_at`` and ``scan_every`` off)."""
        return not self.times and not self.every

    def wall_times(self) -> tuple[dt.time, ...]:
        """Every wall-clock time of a trading day on which a scan is due, sorted."""
        times = set(self.times)
        if self.every > 0:
            step = int(self.every)
            times.update(
                dt.time(s // 3600, s // 60 % 60, s % 60) for s in range(0, 86400, max(step, 1))
            )
        return tuple(sorted(times))


def _day_times(day: dt.date, spec: ScheduleSpec) -> list[dt.datetime]:
    """The UTC instants of ``day``'s scan times (zoneinfo fold 0), sorted and unique."""
    instants = {
        dt.datetime.combine(day, t, tzinfo=spec.zone).astimezone(dt.timezone.utc) for t in spec.wall_times()
    }
    return sorted(instants)


def due_times(after: dt.datetime, spec: ScheduleSpec, calendar: TradingCalendar) -> Iterator[dt.datetime]:
    """Scan times strictly after ``after`` (aware), in order, as aware UTC datetimes; endless."""
    if after.tzinfo is None:
        raise ValueError("after must be an aware datetime")
    if spec.empty:
        return
    after = after.astimezone(dt.timezone.utc)  # compare instants, never wall times of one zone
    day = after.astimezone(spec.zone).date() - dt.timedelta(days=1)  # a DST edge may move times across midnight
    while True:
        if calendar.is_trading_day(day):
            for instant in _day_times(day, spec):
                if instant > after:
                    yield instant
        day += dt.timedelta(days=1)


def next_due(now: dt.datetime, spec: ScheduleSpec, calendar: TradingCalendar) -> dt.datetime | None:
    """The first scan time after ``now``, or None when nothing is scheduled."""
    if spec.empty:
        return None
    horizon = now + dt.timedelta(days=LOOKAHEAD_DAYS)
    for instant in due_times(now, spec, calendar):
        return instant if instant <= horizon else None
    return None


def last_due(now: dt.datetime, spec: ScheduleSpec, calendar: TradingCalendar, *, since: dt.datetime) -> dt.datetime | None:
    """The latest scan time in ``(since, now]``, or None."""
    latest = None
    for instant in due_times(since, spec, calendar):
        if instant > now:
            break
        latest = instant
    return latest


def catch_up_due(
    now: dt.datetime,
    spec: ScheduleSpec,
    calendar: TradingCalendar,
    *,
    window: float,
    last_scan: dt.datetime | None,
) -> dt.datetime | None:
    """The missed scan time to catch up on at start, or None.

    A scan time within the last ``window`` seconds (not in the future) was missed when no scan
    started at or after it (``last_scan``: when the newest run in the store started). Only the
    latest missed time counts: a catch-up is one scan, never a burst.
    """
    if window <= 0:
        return None
    missed = last_due(now, spec, calendar, since=now - dt.timedelta(seconds=window))
    if missed is None or (last_scan is not None and last_scan >= missed):
        return None
    return missed
