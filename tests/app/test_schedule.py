"""The daemon's schedule as pure functions: trading days, holidays, DST, scan_every, catch-up."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from actors.app.calendar import TradingCalendar
from actors.app.schedule import ScheduleSpec, catch_up_due, due_times, next_due
from actors.app.timespec import format_duration, parse_clock_time, parse_duration

NY = zoneinfo.ZoneInfo("America/New_York")
UTC = dt.timezone.utc
CAL = TradingCalendar()


def spec(*times: str, every: float = 0.0) -> ScheduleSpec:
    return ScheduleSpec(times=tuple(parse_clock_time(t) for t in times), zone=NY, every=every)


def ny(y, m, d, hh=0, mm=0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=NY)


def take(after: dt.datetime, s: ScheduleSpec, n: int) -> list[dt.datetime]:
    it = due_times(after, s, CAL)
    return [next(it) for _ in range(n)]


class TestTradingCalendar:
    def test_weekends_and_nyse_holidays_are_closed(self):
        """Saturday, Sunday, Thanksgiving and an observed July 4 are not trading days; a plain Tuesday is."""
        assert CAL.closed_because(dt.date(2026, 12, 5)) == "weekend"
        assert CAL.closed_because(dt.date(2026, 12, 6)) == "weekend"
        assert "Thanksgiving" in CAL.closed_because(dt.date(2026, 11, 26))
        assert not CAL.is_trading_day(dt.date(2026, 7, 3))  # July 4 is a Saturday
        assert CAL.is_trading_day(dt.date(2026, 12, 8))
        assert CAL.closed_because(dt.date(2026, 12, 8)) is None

    def test_injected_table_replaces_nyse(self):
        """A calendar built on another table uses it alone."""
        cal = TradingCalendar(closed={dt.date(2026, 12, 8)})
        assert not cal.is_trading_day(dt.date(2026, 12, 8))
        assert cal.is_trading_day(dt.date(2026, 11, 26))


class TestNextDue:
    def test_skips_the_weekend(self):
        """After Friday's scan the next one is Monday's, at the same wall-clock time."""
        after_friday = ny(2026, 12, 4, 16, 31)
        assert next_due(after_friday, spec("16:30"), CAL) == ny(2026, 12, 7, 16, 30).astimezone(UTC)

    def test_skips_a_holiday(self):
        """Wednesday before Thanksgiving → Friday (Thursday is closed)."""
        got = take(ny(2026, 11, 25, 17, 0), spec("16:30"), 2)
        assert got == [ny(2026, 11, 27, 16, 30).astimezone(UTC), ny(2026, 11, 30, 16, 30).astimezone(UTC)]

    def test_follows_daylight_saving(self):
        """16:30 New York is 21:30 UTC before the spring change (Mar 8, 2026) and 20:30 UTC after it."""
        got = take(ny(2026, 3, 5, 17, 0), spec("16:30"), 3)
        assert [g.strftime("%m-%d %H:%M") for g in got] == ["03-06 21:30", "03-09 20:30", "03-10 20:30"]
        autumn = take(ny(2026, 10, 29, 17, 0), spec("16:30"), 2)  # clocks go back Sunday Nov 1
        assert [g.strftime("%m-%d %H:%M") for g in autumn] == ["10-30 20:30", "11-02 21:30"]

    def test_every_and_times_merge_in_order_without_duplicates(self):
        """scan_every 6h plus 06:00 and 09:45 on a trading day: 00:00, 06:00, 09:45, 12:00, 18:00."""
        got = take(ny(2026, 12, 7, 0, 0) - dt.timedelta(seconds=1), spec("06:00", "09:45", every=6 * 3600), 5)
        assert [g.astimezone(NY).strftime("%H:%M") for g in got] == ["00:00", "06:00", "09:45", "12:00", "18:00"]

    def test_every_counts_wall_clock_slots_on_a_dst_day(self):
        """On the fall-back day (a Sunday: none) and the Monday after, 12h slots stay at 00:00 and 12:00 local."""
        got = take(ny(2026, 10, 30, 13, 0), spec(every=12 * 3600), 2)
        assert [g.astimezone(NY).strftime("%a %H:%M") for g in got] == ["Mon 00:00", "Mon 12:00"]

    def test_nothing_scheduled(self):
        """No times and scan_every 0: nothing is ever due."""
        assert next_due(ny(2026, 12, 7), spec(), CAL) is None

    def test_strictly_after(self):
        """A scan due exactly now is not 'next': the caller already ran it."""
        now = ny(2026, 12, 7, 16, 30).astimezone(UTC)
        assert next_due(now, spec("16:30"), CAL) == ny(2026, 12, 8, 16, 30).astimezone(UTC)


class TestCatchUp:
    def test_missed_within_the_window_runs_once(self):
        """Down from 16:00 to 17:10: the 16:30 scan is caught up (one scan, the latest missed time)."""
        missed = catch_up_due(ny(2026, 12, 7, 17, 10), spec("16:30", "16:45"), CAL, window=7200, last_scan=None)
        assert missed == ny(2026, 12, 7, 16, 45).astimezone(UTC)

    def test_missed_outside_the_window_is_not_caught_up(self):
        """Started 3 h after the scan time with a 2 h window: nothing to catch up."""
        assert catch_up_due(ny(2026, 12, 7, 19, 31), spec("16:30"), CAL, window=7200, last_scan=None) is None

    def test_a_scan_already_started_after_it_means_nothing_missed(self):
        """The store's newest run started after the due time: no catch-up."""
        last = ny(2026, 12, 7, 16, 30, ).astimezone(UTC) + dt.timedelta(seconds=5)
        assert catch_up_due(ny(2026, 12, 7, 17, 0), spec("16:30"), CAL, window=7200, last_scan=last) is None
        earlier = ny(2026, 12, 7, 9, 0).astimezone(UTC)
        assert catch_up_due(ny(2026, 12, 7, 17, 0), spec("16:30"), CAL, window=7200, last_scan=earlier) is not None

    def test_no_catch_up_for_a_holiday(self):
        """Thanksgiving had no scan due, so starting at 17:00 that day catches nothing up."""
        assert catch_up_due(ny(2026, 11, 26, 17, 0), spec("16:30"), CAL, window=7200, last_scan=None) is None

    def test_window_zero_turns_catch_up_off(self):
        assert catch_up_due(ny(2026, 12, 7, 16, 31), spec("16:30"), CAL, window=0, last_scan=None) is None


class TestTimespec:
    @pytest.mark.parametrize(("text", "seconds"), [("30m", 1800), ("2h", 7200), ("1d", 86400), ("45s", 45),
                                                   ("0", 0), ("1.5h", 5400), (90, 90)])
    def test_durations(self, text, seconds):
        assert parse_duration(text) == seconds

    @pytest.mark.parametrize("bad", ["", "3x", "-5m", "m", True, None, float("inf")])
    def test_bad_durations(self, bad):
        with pytest.raises(ValueError, match="duration such as"):
            parse_duration(bad)

    def test_clock_times(self):
        assert parse_clock_time("9:05") == dt.time(9, 5)
        for bad in ("24:00", "12:60", "noon", 1230):
            with pytest.raises(ValueError, match="HH:MM"):
                parse_clock_time(bad)

    def test_format_duration(self):
        assert format_duration(5400) == "1h30m" and format_duration(0) == "0s" and format_duration(86461) == "1d1m1s"
