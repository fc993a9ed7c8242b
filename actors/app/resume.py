"""Resume: finish the debates of a checkpointed run, on the same ``scan_runs`` row.

Used by the daemon's scheduler (every run of the last ``resume_window`` that needs it, whenever
the LLM is healthy) and by ``bin/scan resume RUN_ID`` (one run, in the foreground).

One resume, in order:

1. ``ReopenRun`` to the persister: in one transaction the run is checked (finished, PARTIAL or
   INTERRUPTED, checkpointed), set back to PARTIAL with no ``finished_at`` and owned by this
   process's lease, and its candidates, debate rows and saved theses are read. A run another
   live process has open is refused, so a resume never collides with a scan or another resume.
2. :func:`plan_resume` (pure): which debates to run again. COMPLETED debates stay, and so do
   debates FAILED because the model's reply was unusable (invalid output, truncated) or our
   request was wrong: running them again would most likely fail the same way. Every other
   debate (missing, SKIPPED, CUT_OFF, FAILED because the LLM was down or erring) runs again
   from its first agent without a saved thesis: bull and bear saved → only the risk agent.
3. The debate runner (health pre-check, then the pool with ``saved=``), then one ``RecordPhase``
   (``ai_debate``) and one ``FinishRun`` with the counts over the whole run: COMPLETED when
   every debate is complete, else PARTIAL with the reason.

Cancelled (SIGTERM) midway: the pool records the interrupted debates, and the run is finished
INTERRUPTED (shielded, bounded) so it stays resumable; if even that fails, start-up recovery
does it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

import attrs
import trio

from actors.coordinator import DebateSummary, run_status
from actors.errors import StoreError
from actors.llm.outcome import FailureKind
from actors.store.client import StoreClient
from messages.debate import AgentOutcome, DebateFinished, DebateStatus
from messages.llm import BreakerMeaning
from messages.progress import PhaseFinished, PhaseStarted, RunFinished
from messages.resume import ReopenedRun, ReopenRun
from messages.scan import Phase, RunStatus, TickerResult
from messages.storage import FinishRun, RecordPhase

__all__ = ["ResumeOutcome", "ResumePlan", "plan_resume", "resume_run"]

logger = logging.getLogger(__name__)

#: Failure meanings of a FAILED debate that a resume does not retry (the model's answer, or our request).
_KEPT_FAILURES = (BreakerMeaning.ANSWERED_INVALID, BreakerMeaning.REQUEST_WRONG)

#: status_reason of a run whose resume was stopped (SIGTERM): it stays resumable.
STOPPED_REASON = "stopped while resuming its debates; resumable"


class Runner(Protocol):
    """What runs debates: :class:`actors.debate.wiring.PhaseRunner` (``saved=`` for resumed theses)."""

    async def __call__(
        self, run_id: str, candidates: Sequence[TickerResult], *, saved: Sequence[AgentOutcome] = ()
    ) -> DebateSummary: ...


@attrs.frozen(kw_only=True)
class ResumePlan:
    """What a resume does: ``todo`` (candidates to debate), ``kept`` (debate rows that stay)."""

    todo: tuple[TickerResult, ...]
    kept: tuple[DebateFinished, ...]
    saved: tuple[AgentOutcome, ...]
    requested: int

    @property
    def completed_before(self) -> int:
        return sum(d.status is DebateStatus.COMPLETED for d in self.kept)


@attrs.frozen(kw_only=True)
class ResumeOutcome:
    """How a resume ended: the run's new status and counts, and what this resume itself did."""

    run_id: str
    status: RunStatus
    reason: str | None
    requested: int
    completed: int
    resumed: int  #: debates this resume ran (or tried to)
    summary: DebateSummary | None  #: the debate phase of this resume (None: nothing to do)
    saved: bool = True  #: False when the final status could not be saved (recovery finishes it)


def _kept(debate: DebateFinished) -> bool:
    if debate.status is DebateStatus.COMPLETED:
        return True
    if debate.status is not DebateStatus.FAILED:
        return False
    kind = (debate.reason or "").rpartition(": ")[2]
    try:
        return FailureKind(kind).breaker_meaning(None) in _KEPT_FAILURES
    except ValueError:
        return True  # a failure we cannot classify: not retried blindly


def plan_resume(reopened: ReopenedRun) -> ResumePlan:
    """The debates a reopened run still needs (see the module docstring, step 2)."""
    candidates = {c.ticker for c in reopened.candidates}
    kept = tuple(d for d in reopened.debates if d.ticker in candidates and _kept(d))
    done = {d.ticker for d in kept}
    todo = tuple(c for c in reopened.candidates if c.ticker not in done)
    todo_tickers = {c.ticker for c in todo}
    return ResumePlan(
        todo=todo,
        kept=kept,
        saved=tuple(o for o in reopened.saved if o.ticker in todo_tickers),
        requested=len(reopened.candidates),
    )


def merged_summary(plan: ResumePlan, summary: DebateSummary | None) -> DebateSummary:
    """The whole run's debate summary: the kept rows plus what this resume did."""
    finished = plan.kept + (summary.finished if summary is not None else ())
    completed = sum(f.status is DebateStatus.COMPLETED for f in finished)
    reason = None
    if completed < plan.requested:
        reason = summary.skipped_reason if summary is not None and summary.skipped_reason else None
        if reason is None:
            failed = sorted({f.reason for f in finished if f.status is not DebateStatus.COMPLETED and f.reason})
            reason = "debates failed: " + ", ".join(failed) if failed else None
    return DebateSummary(
        requested=plan.requested,
        completed=completed,
        skipped_reason=reason,
        finished=finished,
        status="ok" if completed == plan.requested else "partial",
        seconds=summary.seconds if summary is not None else 0.0,
        unsaved_outcomes=summary.unsaved_outcomes if summary is not None else (),
        unsaved_debates=summary.unsaved_debates if summary is not None else (),
        unsaved_error=summary.unsaved_error if summary is not None else None,
    )


async def resume_run(
    run_id: str,
    *,
    store: StoreClient,
    runner: Runner,
    publish: Callable[[object], None],
    wall_clock: Callable[[], dt.datetime],
) -> ResumeOutcome:
    """Finish run ``run_id``'s debates (see the module docstring).

    Raises:
        StoreError: the run cannot be reopened (the message says why), or the store failed
            before anything was reopened.
    """
    reopened: ReopenedRun = await store.send(ReopenRun(run_id=run_id))
    started = trio.current_time()
    plan = plan_resume(reopened)
    logger.info(
        "run %s: resuming %d of %d debates (%d saved theses to continue from)",
        run_id, len(plan.todo), plan.requested, len(plan.saved),
    )
    publish(PhaseStarted(run_id, Phase.AI_DEBATE, len(plan.todo)))
    summary: DebateSummary | None = None
    try:
        if plan.todo:
            summary = await runner(run_id, plan.todo, saved=plan.saved)
    except BaseException:
        await _finish_stopped(store, run_id, reopened.duration_seconds + trio.current_time() - started, wall_clock)
        raise
    merged = merged_summary(plan, summary)
    unsaved = [merged.unsaved_description()] if merged.unsaved_description() else []
    status, reason = run_status(merged, unsaved=unsaved)
    seconds = trio.current_time() - started
    phase_status = "ok" if status is RunStatus.COMPLETED else "partial"
    detail = f"resumed {len(plan.todo)} of {plan.requested}" + (f"; {reason}" if reason else "")
    publish(PhaseFinished(run_id, Phase.AI_DEBATE, phase_status, round(seconds, 4), plan.requested - merged.completed,
                          detail))
    saved = True
    try:
        await store.send(RecordPhase(run_id, Phase.AI_DEBATE, phase_status, round(seconds, 4),
                                     plan.requested - merged.completed, detail))
    except StoreError as exc:
        logger.error("run %s: could not save the resumed ai_debate phase row: %s", run_id, exc)
    try:
        await store.send(FinishRun(
            run_id=run_id, status=status, reason=reason, debates_requested=plan.requested,
            debates_completed=merged.completed,
            duration_seconds=round(reopened.duration_seconds + seconds, 3), finished_at=wall_clock(),
        ))
    except StoreError as exc:  # the run stays open; start-up recovery finishes it, still resumable
        logger.error("run %s: could not save its status %s after resuming: %s", run_id, status.value, exc)
        saved = False
    publish(RunFinished(run_id, status.value, seconds, reason))
    logger.info("run %s resumed: %s, %d of %d debates complete", run_id, status.value, merged.completed,
                plan.requested)
    return ResumeOutcome(
        run_id=run_id, status=status, reason=reason, requested=plan.requested, completed=merged.completed,
        resumed=len(plan.todo), summary=summary, saved=saved,
    )


async def _finish_stopped(
    store: StoreClient, run_id: str, seconds: float, wall_clock: Callable[[], dt.datetime]
) -> None:
    with trio.CancelScope(shield=True), trio.move_on_after(5):
        try:
            await store.send(FinishRun(
                run_id=run_id, status=RunStatus.INTERRUPTED, reason=STOPPED_REASON, debates_requested=0,
                debates_completed=0, duration_seconds=round(seconds, 3), finished_at=wall_clock(),
            ))
            logger.info("run %s marked INTERRUPTED: %s", run_id, STOPPED_REASON)
        except StoreError as exc:
            logger.warning("could not mark run %s INTERRUPTED: %s", run_id, exc)
