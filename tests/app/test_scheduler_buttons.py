"""The dashboard's buttons as requests to the real scheduler actor: one job at a time, refusals name the job."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

import trio

from actors.app.calendar import TradingCalendar
from actors.app.resume import ResumeOutcome
from actors.app.schedule import ScheduleSpec
from actors.app.scheduler import SchedulerDeps, SchedulerHome, scheduler_actor
from actors.runtime import ChildSpec, EventBus, open_supervisor, request
from messages.daemon import ButtonAnswer, ResumeNow, ScanNow
from messages.scan import RunStatus

UTC = dt.timezone.utc


def _home(calls: list[tuple[str, str]], *, scan_seconds: float, resume_seconds: float) -> SchedulerHome:
    async def scan(run_id: str, reason: str) -> None:
        calls.append(("scan", reason))
        await trio.sleep(scan_seconds)

    async def resume(run_id: str):
        calls.append(("resume", run_id))
        await trio.sleep(resume_seconds)
        return ResumeOutcome(run_id=run_id, status=RunStatus.COMPLETED, reason=None, requested=1, completed=1,
                             resumed=1, summary=None)

    async def nothing_resumable(since: dt.datetime) -> tuple[str, ...]:
        return ()

    async def cancel(run_id: str) -> bool:
        return True

    start = dt.datetime(2026, 12, 7, 15, tzinfo=UTC)
    origin = trio.current_time()
    deps = SchedulerDeps(
        scan=scan, cancel_scan=cancel, list_resumable=nothing_resumable, resume=resume,
        new_run_id=lambda now: f"run-{now:%H%M%S}", events=EventBus(),
        wall_clock=lambda: start + dt.timedelta(seconds=trio.current_time() - origin),
        calendar=TradingCalendar(),
    )
    spec = ScheduleSpec(times=(), zone=zoneinfo.ZoneInfo("America/New_York"))
    return SchedulerHome(deps=deps, spec=spec, resume_window=86400.0)


async def _press(address, button) -> ButtonAnswer:
    return await request(address, button, timeout=5)


async def test_scan_now_runs_one_scan_and_refuses_a_second_naming_the_first(autojump_clock):
    calls: list[tuple[str, str]] = []
    home = _home(calls, scan_seconds=60, resume_seconds=60)
    async with open_supervisor(name="t") as sup:
        scheduler = await sup.start(ChildSpec("scheduler", functools.partial(scheduler_actor, home=home)))
        first = await _press(scheduler, ScanNow())
        second = await _press(scheduler, ScanNow())
        resume = await _press(scheduler, ResumeNow(run_id="old-run"))
        await trio.sleep(61)
        third = await _press(scheduler, ScanNow())
        await trio.sleep(61)
        await sup.stop()
    assert first.accepted and first.run_id and first.message == f"scan {first.run_id} started"
    assert not second.accepted and second.message == f"refused: scan {first.run_id} is still running"
    assert not resume.accepted and resume.message == f"refused: scan {first.run_id} is still running"
    assert third.accepted and third.run_id != first.run_id
    assert calls == [("scan", "dashboard"), ("scan", "dashboard")]
    assert home.started == 2 and home.skipped == 0  # a refused press is not a skipped scheduled scan


async def test_resume_now_resumes_that_run_and_refuses_scans_until_it_ends(autojump_clock):
    calls: list[tuple[str, str]] = []
    home = _home(calls, scan_seconds=10, resume_seconds=30)
    async with open_supervisor(name="t") as sup:
        scheduler = await sup.start(ChildSpec("scheduler", functools.partial(scheduler_actor, home=home)))
        resumed = await _press(scheduler, ResumeNow(run_id="R1"))
        again = await _press(scheduler, ResumeNow(run_id="R2"))
        scan = await _press(scheduler, ScanNow())
        await trio.sleep(31)
        later = await _press(scheduler, ScanNow())
        await trio.sleep(11)
        await sup.stop()
    assert resumed.accepted and resumed.message == "resuming run R1"
    assert not again.accepted and again.message == "refused: run R1 is being resumed"
    assert not scan.accepted and scan.message == "refused: run R1 is being resumed"
    assert later.accepted
    assert calls == [("resume", "R1"), ("scan", "dashboard")]
    assert (home.resumes, home.resumes_finished) == (1, 1)
