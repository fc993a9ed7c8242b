"""The daemon's schedule through the real path (serve → scheduler → coordinator → store), in virtual time:
across a weekend, a holiday and a DST change; catch-up; never two scans at once; SIGHUP reload."""

from __future__ import annotations

import datetime as dt
import signal
import zoneinfo

import trio

from actors.config import Settings
from actors.errors import ConfigError
from messages.scan import RunStatus
from tests.app.daemon_harness import running_daemon
from tests.system.providers import SlowSim

NY = zoneinfo.ZoneInfo("America/New_York")
UTC = dt.timezone.utc
BASE = dict(source="sim", top_n_options=5, top_n_ai_debate=0, ai_backend="none", fetch_concurrency=4,
            fetch_retry_delays=(0.5,), universe_size=30)


def ny(y, m, d, hh=0, mm=0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=NY)


def seconds(start: dt.datetime, end: dt.datetime) -> float:
    """Elapsed seconds between two instants (aware subtraction in one zone would ignore a DST change)."""
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()


def started(memory) -> list[str]:
    return sorted(r.started_at.astimezone(UTC).strftime("%m-%d %H:%M") for r in memory.runs.values())


async def test_fires_across_a_weekend_and_a_dst_change(autojump_clock):
    """16:30 New York from Thursday to Tuesday over the fall-back weekend: 20:30Z, then 21:30Z after it."""
    settings = Settings(**BASE, scan_at=("16:30",))
    start = ny(2026, 10, 29, 12, 0)
    async with running_daemon(settings, start=start) as daemon:
        await trio.sleep(seconds(start, ny(2026, 11, 3, 17, 0)))
        assert await daemon.stop() == 0
    assert started(daemon.memory) == ["10-29 20:30", "10-30 20:30", "11-02 21:30", "11-03 21:30"]
    assert {r.status for r in daemon.memory.runs.values()} == {RunStatus.COMPLETED}


async def test_skips_thanksgiving_and_runs_every_interval_on_trading_days(autojump_clock):
    """scan_every 4h from Wednesday noon (its 12:00 slot due at start: caught up) to Friday 23:00: nothing on
    Thanksgiving, 00/04/08/12/16/20 on Friday."""
    settings = Settings(**BASE, scan_at=(), scan_every=4 * 3600)
    start = ny(2026, 11, 25, 12, 0)
    async with running_daemon(settings, start=start) as daemon:
        await trio.sleep(seconds(start, ny(2026, 11, 27, 23, 0)))
        await daemon.stop()
    local = sorted(r.started_at.astimezone(NY).strftime("%a %H:%M") for r in daemon.memory.runs.values())
    assert local == sorted(["Wed 12:00", "Wed 16:00", "Wed 20:00", "Fri 00:00", "Fri 04:00", "Fri 08:00", "Fri 12:00",
                            "Fri 16:00", "Fri 20:00"])


async def test_catch_up_runs_the_missed_scan_once_at_start(autojump_clock):
    """Started at 17:10 with a 16:30 scan missed (window 2 h): one scan at once, then the next day's."""
    settings = Settings(**BASE, scan_at=("16:30",))
    start = ny(2026, 12, 7, 17, 10)
    async with running_daemon(settings, start=start) as daemon:
        await trio.sleep(60)
        assert started(daemon.memory) == ["12-07 22:10"]  # the catch-up, at start
        await trio.sleep(seconds(start, ny(2026, 12, 8, 17, 0)))
        await daemon.stop()
    assert started(daemon.memory) == ["12-07 22:10", "12-08 21:30"]


async def test_no_catch_up_outside_the_window_and_scan_on_start(autojump_clock):
    """Started 3 h after the scan time: no catch-up; scan_on_start scans at once instead."""
    settings = Settings(**BASE, scan_at=("16:30",))
    async with running_daemon(settings, start=ny(2026, 12, 7, 19, 31)) as daemon:
        await trio.sleep(600)
        await daemon.stop()
    assert started(daemon.memory) == []
    on_start = Settings(**BASE, scan_at=("16:30",), scan_on_start=True)
    async with running_daemon(on_start, start=ny(2026, 12, 7, 19, 31)) as daemon:
        await trio.sleep(600)
        await daemon.stop()
    assert started(daemon.memory) == ["12-08 00:31"]


async def test_a_scan_due_while_one_runs_is_skipped_and_counted(autojump_clock, caplog):
    """Scans every minute that take about 3 min: never two at once; the ones due meanwhile are skipped and logged."""
    settings = Settings(**{**BASE, "fetch_concurrency": 1}, scan_at=(), scan_every=60)
    start = ny(2026, 12, 7, 10, 0)
    overlapping: list[int] = []
    slow = SlowSim(size=30, latency=5.0)  # 30 tickers one at a time, plus chains: about 3 min per scan

    async with running_daemon(settings, start=start, provider=slow) as daemon:
        async def watch():
            while True:
                running = sum(1 for r in daemon.memory.runs.values() if r.finished_at is None)
                overlapping.append(running)
                await trio.sleep(1)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch)
            await trio.sleep(20 * 60)
            nursery.cancel_scope.cancel()
        await daemon.stop()
    runs = daemon.memory.runs.values()
    assert max(overlapping) == 1
    assert 6 <= len(runs) <= 8
    skipped = [r for r in caplog.records if "skipped: run" in r.getMessage()]
    assert len(skipped) >= 10
    ordered = sorted(runs, key=lambda r: r.started_at)  # the one running at SIGTERM outlived the 20 s grace
    assert [r.status for r in ordered] == [RunStatus.COMPLETED] * (len(ordered) - 1) + [RunStatus.INTERRUPTED]


async def test_sighup_applies_a_good_file_and_keeps_the_settings_on_a_bad_one(autojump_clock, caplog):
    """SIGHUP: a good reload moves the scan time at once; a bad one logs one ERROR line and the schedule stays."""
    settings = Settings(**BASE, scan_at=("16:30",))
    current: list[object] = [Settings(**BASE, scan_at=("11:00",))]

    def reload():
        value = current[0]
        if isinstance(value, Exception):
            raise value
        return value

    start = ny(2026, 12, 7, 10, 0)
    async with running_daemon(settings, start=start, reload=reload) as daemon:
        await daemon.signal(signal.SIGHUP)
        await trio.sleep(2 * 3600)  # 12:00: the reloaded 11:00 scan ran
        assert started(daemon.memory) == ["12-07 16:00"]
        current[0] = ConfigError("scan_at: expected a list of clock times HH:MM (00:00 to 23:59), got '25:00'")
        await daemon.signal(signal.SIGHUP)
        await trio.sleep(24 * 3600)
        await daemon.stop()
    assert started(daemon.memory) == ["12-07 16:00", "12-08 16:00"]  # 11:00 stays
    refused = [r for r in caplog.records if "reload refused" in r.getMessage()]
    assert len(refused) == 1 and refused[0].levelname == "ERROR" and "scan_at" in refused[0].getMessage()
