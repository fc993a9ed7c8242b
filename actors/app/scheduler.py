"""The scheduler actor: scans on schedule, one at a time, and resumes unfinished runs when the LLM is healthy.

*Receives:* :class:`~messages.daemon.Reschedule` (SIGHUP: new schedule settings; the next scan
time is recomputed at once), ``Request(ShutDown(grace))`` (SIGTERM: stop scheduling, give
the scans and resumes in flight ``grace`` seconds, cancel what is left, answer when none is),
and the dashboard's buttons ``Request(ScanNow())`` / ``Request(ResumeNow(run_id))``, answered
at once with a :class:`~messages.daemon.ButtonAnswer` (refused while a scan or resume runs).
From the bus it reads :class:`~messages.health.LLMHealth` (a HEALTHY report starts a resume
pass) and :class:`~messages.health.BreakerState` (for the status line).

*Sends:* scans to the coordinator and resumes to the persister and debate runner, through the
callables in :class:`SchedulerDeps` (the daemon builds them on :class:`actors.system.System`).

*Owns* (in :class:`SchedulerHome`, which outlives a restart): the schedule
(:mod:`actors.app.schedule`), the scan and resume jobs in flight, and the counters.

- **Never two scans at once.** A scan due while one runs is skipped, logged at WARNING with
  the run that is still going, and counted (``skipped``). Resumes run beside scans (they share
  the debate pool's LLM slots), one at a time.
- **Catch-up and scan_on_start** are decided once, when the first incarnation starts.
- **Resume.** A HEALTHY report (the health monitor probes every ``health_interval`` even when
  idle), the end of a scan and the start each ask for a pass: every run of the last
  ``resume_window`` that :mod:`actors.app.resume` can finish is resumed, oldest first. A run
  whose resume did not finish it waits ``retry_after`` seconds before the next try; one with
  nothing left to do is not tried again by this process.
- **Wall clock.** Injected (``wall_clock``: aware datetimes); sleeps are on trio's clock in
  steps of at most :data:`MAX_SLEEP`, so a wall clock that jumps (suspend, NTP) is noticed.

On failure: a scan or resume that raises is logged and counted; a bug in the actor's own loop
crashes it and the supervisor restarts it on the same home (jobs in flight were cancelled:
their runs are marked INTERRUPTED and stay resumable). On cancellation: the same.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import trio

from actors.app.calendar import TradingCalendar
from actors.app.schedule import ScheduleSpec, next_due
from actors.app.timespec import format_duration
from actors.errors import StoreError
from actors.runtime import EventBus, Request, answer
from messages.daemon import ButtonAnswer, Reschedule, ResumeNow, ScanNow, ShutDown
from messages.health import BreakerState, HealthStatus, LLMHealth

__all__ = ["MAX_SLEEP", "SchedulerDeps", "SchedulerHome", "SchedulerStatistics", "scheduler_actor"]

logger = logging.getLogger(__name__)

#: The longest single sleep; the next scan time is recomputed from the wall clock after each.
MAX_SLEEP = 300.0
#: How long a cancelled scan waits (shielded) for the coordinator to mark its run INTERRUPTED.
CANCEL_WAIT = 30.0


@attrs.frozen(kw_only=True)
class SchedulerDeps:
    """What the scheduler talks to (built by the daemon on the system)."""

    scan: Callable[[str, str], Awaitable[Any]]  #: (run_id, reason) → the scan's outcome
    cancel_scan: Callable[[str], Awaitable[bool]]
    list_resumable: Callable[[dt.datetime], Awaitable[tuple[str, ...]]]
    resume: Callable[[str], Awaitable[Any]]  #: run_id → ResumeOutcome
    new_run_id: Callable[[dt.datetime], str]
    events: EventBus
    wall_clock: Callable[[], dt.datetime]
    calendar: TradingCalendar
    retry_after: float = 60.0


@attrs.frozen
class SchedulerStatistics:
    """Counters since the daemon started, and what it does now."""

    scheduled: int  #: scans that came due (on schedule, catch-up, on start)
    started: int
    skipped: int  #: due while another scan ran
    failed: int  #: scans that raised (their runs are INTERRUPTED)
    resumes: int  #: resume attempts
    resumes_finished: int  #: resumes that left the run COMPLETED
    next_due: dt.datetime | None
    scanning: str | None
    resuming: str | None


@attrs.define(eq=False)
class SchedulerHome:
    """The scheduler's state, kept across restarts of the actor."""

    deps: SchedulerDeps
    spec: ScheduleSpec
    resume_window: float
    catch_up: dt.datetime | None = None  #: a missed scan time to run at start (decided by the daemon)
    scan_on_start: bool = False
    started_once: bool = False
    stopping: bool = False
    scheduled: int = 0
    started: int = 0
    skipped: int = 0
    failed: int = 0
    resumes: int = 0
    resumes_finished: int = 0
    next_due: dt.datetime | None = None
    scanning: str | None = None
    resuming: str | None = None
    breaker: str = "closed"
    llm: str = "unknown"
    jobs: dict[str, trio.CancelScope] = attrs.Factory(dict)
    jobs_changed: trio.Event = attrs.Factory(trio.Event)
    wake: trio.Event = attrs.Factory(trio.Event)
    resume_wanted: trio.Event = attrs.Factory(trio.Event)
    status_changed: trio.Event = attrs.Factory(trio.Event)  #: poked when the status line may differ
    last_attempt: dict[str, float] = attrs.Factory(dict)
    nothing_to_do: set[str] = attrs.Factory(set)
    last_fired: dt.datetime | None = None

    def statistics(self) -> SchedulerStatistics:
        return SchedulerStatistics(
            scheduled=self.scheduled, started=self.started, skipped=self.skipped, failed=self.failed,
            resumes=self.resumes, resumes_finished=self.resumes_finished, next_due=self.next_due,
            scanning=self.scanning, resuming=self.resuming,
        )

    def status_line(self) -> str:
        """``STATUS=`` text: what runs, the next scan, the LLM and breaker, the counters."""
        if self.stopping:
            doing = "stopping"
        elif self.scanning:
            doing = f"scanning (run {self.scanning})"
        elif self.resuming:
            doing = f"resuming run {self.resuming}"
        else:
            doing = "idle"
        if self.next_due is None:
            nxt = "no scan scheduled"
        else:
            local = self.next_due.astimezone(self.spec.zone)
            nxt = f"next scan {local:%a %Y-%m-%d %H:%M %Z}"
        return (f"{doing}; {nxt}; LLM {self.llm}, breaker {self.breaker}; scans {self.started} run, "
                f"{self.skipped} skipped; resumed {self.resumes_finished} of {self.resumes} tries")

    def _poke(self, name: str) -> None:
        event = getattr(self, name)
        event.set()
        setattr(self, name, trio.Event())
        if name != "status_changed":
            self._poke("status_changed")


async def scheduler_actor(
    inbox: trio.MemoryReceiveChannel[Any], home: SchedulerHome, *, task_status: trio.TaskStatus[None]
) -> None:
    """The scheduler's loop (see the module docstring); run it under the system's supervisor."""
    async with trio.open_nursery() as nursery:
        await nursery.start(_follow_events, home)
        nursery.start_soon(_timer, home, nursery)
        nursery.start_soon(_resumer, home, nursery)
        task_status.started()
        if not home.started_once:
            home.started_once = True
            _at_start(home, nursery)
        async for message in inbox:
            if isinstance(message, Reschedule):
                _reschedule(home, message)
            elif isinstance(message, Request) and isinstance(message.payload, ShutDown):
                nursery.start_soon(_shut_down, home, message)
            elif isinstance(message, Request) and isinstance(message.payload, ScanNow):
                answer(message, _scan_now(home, nursery))
            elif isinstance(message, Request) and isinstance(message.payload, ResumeNow):
                answer(message, _resume_now(home, nursery, message.payload.run_id))
            else:
                logger.error("scheduler: unexpected message %r ignored", message)
        nursery.cancel_scope.cancel()


def _at_start(home: SchedulerHome, nursery: trio.Nursery) -> None:
    if home.catch_up is not None:
        local = home.catch_up.astimezone(home.spec.zone)
        logger.info("scan due at %s was missed while the daemon was down: running it now", f"{local:%Y-%m-%d %H:%M %Z}")
        _fire(home, nursery, "catch-up", home.catch_up)
    elif home.scan_on_start:
        _fire(home, nursery, "start", home.deps.wall_clock())
    home._poke("resume_wanted")


def _reschedule(home: SchedulerHome, message: Reschedule) -> None:
    home.spec = ScheduleSpec.from_settings(message)
    home.resume_window = message.resume_window
    home.nothing_to_do.clear()
    home.next_due = next_due(home.deps.wall_clock(), home.spec, home.deps.calendar)
    logger.info("schedule reloaded: scan_at %s, scan_every %s, %s", ",".join(message.scan_at) or "-",
                format_duration(message.scan_every), message.scan_timezone)
    home._poke("wake")


async def _timer(home: SchedulerHome, nursery: trio.Nursery) -> None:
    deps = home.deps
    while not home.stopping:
        now = deps.wall_clock()
        due = next_due(now, home.spec, deps.calendar)
        if due != home.next_due:
            home.next_due = due
            home._poke("status_changed")
        wake = home.wake
        wait = MAX_SLEEP if due is None else min(MAX_SLEEP, (due - now).total_seconds())
        with trio.move_on_after(max(wait, 0.0)):
            await wake.wait()
            continue  # rescheduled: recompute
        if due is not None and deps.wall_clock() >= due and (home.last_fired is None or due > home.last_fired):
            home.last_fired = due
            _fire(home, nursery, "scheduled", due)


def _busy(home: SchedulerHome) -> str | None:
    if home.stopping:
        return "the daemon is stopping"
    if home.scanning is not None:
        return f"scan {home.scanning} is still running"
    if home.resuming is not None:
        return f"run {home.resuming} is being resumed"
    return None


def _scan_now(home: SchedulerHome, nursery: trio.Nursery) -> ButtonAnswer:
    """The dashboard's "scan now": the same start as a scheduled scan, refused while anything runs."""
    busy = _busy(home)
    if busy is not None:
        return ButtonAnswer(accepted=False, message=f"refused: {busy}")
    run_id = _fire(home, nursery, "dashboard", home.deps.wall_clock())
    return ButtonAnswer(accepted=True, message=f"scan {run_id} started", run_id=run_id)


def _resume_now(home: SchedulerHome, nursery: trio.Nursery, run_id: str) -> ButtonAnswer:
    """The dashboard's "resume this run"; whether the run can be resumed is the store's answer (logged)."""
    busy = _busy(home)
    if busy is not None:
        return ButtonAnswer(accepted=False, message=f"refused: {busy}")
    home.resuming = run_id  # at once, so that a second click is refused
    home.last_attempt[run_id] = trio.current_time()
    nursery.start_soon(_resume_job, home, run_id)
    return ButtonAnswer(accepted=True, message=f"resuming run {run_id}", run_id=run_id)


def _fire(home: SchedulerHome, nursery: trio.Nursery, reason: str, due: dt.datetime) -> str | None:
    """A scan is due: start it (its run id), unless one runs (skipped, logged, counted) or we are stopping."""
    if home.stopping:
        return None
    home.scheduled += 1
    local = due.astimezone(home.spec.zone)
    if home.scanning is not None:
        home.skipped += 1
        logger.warning("scan due at %s skipped: run %s is still running (%d skipped so far)",
                       f"{local:%Y-%m-%d %H:%M %Z}", home.scanning, home.skipped)
        return None
    run_id = home.deps.new_run_id(home.deps.wall_clock())
    home.scanning = run_id
    home.started += 1
    home._poke("status_changed")
    logger.info("run %s: starting the %s scan due at %s", run_id, reason, f"{local:%Y-%m-%d %H:%M %Z}")
    scope = trio.CancelScope()
    _add_job(home, f"scan:{run_id}", scope)
    nursery.start_soon(_scan_job, home, run_id, reason, scope, name=f"scan:{run_id}")
    return run_id


async def _scan_job(home: SchedulerHome, run_id: str, reason: str, scope: trio.CancelScope) -> None:
    try:
        with scope:
            outcome = await home.deps.scan(run_id, reason)
            logger.info("run %s: scan ended %s", run_id, getattr(getattr(outcome, "status", None), "value", outcome))
        if scope.cancelled_caught:
            with trio.CancelScope(shield=True, deadline=trio.current_time() + CANCEL_WAIT):
                await home.deps.cancel_scan(run_id)
    except Exception as exc:  # the coordinator marked the run INTERRUPTED; the schedule goes on
        home.failed += 1
        logger.error("run %s: scan stopped: %s: %s", run_id, type(exc).__name__, exc)
    finally:
        home.scanning = None
        _end_job(home, f"scan:{run_id}")
        home._poke("resume_wanted")  # a scan that ended PARTIAL may be resumable at once


async def _follow_events(home: SchedulerHome, *, task_status: trio.TaskStatus[None]) -> None:
    async with home.deps.events.subscribe(LLMHealth, BreakerState, capacity=64) as events:
        task_status.started()
        async for event in events:
            if isinstance(event, LLMHealth):
                home.llm = event.status.value
                if event.status is HealthStatus.HEALTHY:
                    home._poke("resume_wanted")
            elif isinstance(event, BreakerState):
                home.breaker = event.state.value
            home._poke("status_changed")


async def _resumer(home: SchedulerHome, nursery: trio.Nursery) -> None:
    while True:
        wanted = home.resume_wanted
        await wanted.wait()
        if home.stopping:
            return
        if home.llm != HealthStatus.HEALTHY.value:
            continue  # wait for a healthy report: resuming against a down LLM only skips again
        await _resume_pass(home)


async def _resume_pass(home: SchedulerHome) -> None:
    deps = home.deps
    since = deps.wall_clock() - dt.timedelta(seconds=home.resume_window)
    try:
        run_ids = await deps.list_resumable(since)
    except StoreError as exc:
        logger.error("resume: could not list unfinished runs: %s", exc)
        return
    for run_id in run_ids:
        if home.stopping or home.llm != HealthStatus.HEALTHY.value:
            return
        tried = home.last_attempt.get(run_id)
        if run_id in home.nothing_to_do or (tried is not None and trio.current_time() - tried < deps.retry_after):
            continue
        home.last_attempt[run_id] = trio.current_time()
        await _resume_job(home, run_id)


async def _resume_job(home: SchedulerHome, run_id: str) -> None:
    scope = trio.CancelScope()
    _add_job(home, f"resume:{run_id}", scope)
    home.resuming = run_id
    home.resumes += 1
    home._poke("status_changed")
    try:
        with scope:
            outcome = await home.deps.resume(run_id)
            if outcome.resumed == 0:
                home.nothing_to_do.add(run_id)
            if outcome.status.value == "COMPLETED":
                home.resumes_finished += 1
    except StoreError as exc:  # another process holds it, or it is no longer resumable
        logger.info("run %s: not resumed: %s", run_id, exc)
    except Exception as exc:
        logger.error("run %s: resume stopped: %s: %s", run_id, type(exc).__name__, exc)
    finally:
        home.resuming = None
        _end_job(home, f"resume:{run_id}")


def _add_job(home: SchedulerHome, key: str, scope: trio.CancelScope) -> None:
    home.jobs[key] = scope
    home._poke("jobs_changed")


def _end_job(home: SchedulerHome, key: str) -> None:
    home.jobs.pop(key, None)
    home._poke("jobs_changed")


async def _shut_down(home: SchedulerHome, envelope: Request[Any]) -> None:
    grace = envelope.payload.grace
    home.stopping = True
    home._poke("wake")
    home._poke("resume_wanted")
    if home.jobs:
        logger.info("stopping: %d job(s) in flight (%s) get %s to finish", len(home.jobs), ", ".join(home.jobs),
                    format_duration(grace))
    with trio.move_on_after(grace):
        await _until_no_jobs(home)
    if home.jobs:
        logger.warning("stopping: cancelling %s after the %s grace; what was saved stays, resumable",
                       ", ".join(home.jobs), format_duration(grace))
        for scope in list(home.jobs.values()):
            scope.cancel()
        await _until_no_jobs(home)
    answer(envelope, home.statistics())


async def _until_no_jobs(home: SchedulerHome) -> None:
    while home.jobs:
        await home.jobs_changed.wait()
