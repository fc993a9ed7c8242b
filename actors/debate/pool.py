"""The debate pool: bull → bear → risk per ticker, tickers in parallel, one phase deadline.

*Receives:* the checkpointed top-N :class:`~messages.scan.TickerResult` rows of a run
(:meth:`DebatePool.run`).
*Sends:* ``SaveAgentOutcome`` for every agent call as soon as it ends (thesis or failure) and
``SaveDebate`` for every ticker, to the persister; each :class:`~messages.debate.DebateFinished`
on ``publish``. Returns a :class:`~actors.coordinator.DebateSummary`.
*Owns:* nothing per run: each :meth:`DebatePool.run` keeps its state (schedule, theses, what
is running and finished, its writer) in its own ``_Run``, so two runs at once never mix. The
LLM slots come from a :class:`~actors.llm.limiter.ConcurrencyLimiter` that may be shared with
other users of the same LLM.

Within a ticker the three agents run strictly in order (the bear reads the bull's thesis, the
risk agent reads both); a failed agent ends that debate as FAILED with its failure kind — no
later agent runs on a missing input and nothing is made up. Across tickers, the pool runs
*agent steps*: each time a slot is free, :class:`~actors.debate.schedule.DebateSchedule` picks
the step to run (depth-first by rank, a new ticker promoted only when the end or the deadline
needs it; see that module for the exact guarantee), with the limiter's current limit as the
slot count.

Every LLM call is admitted by the circuit breaker actor (``Admit``, through
:class:`~actors.breaker.supervised.BreakerClient`) and runs in its permit's cancel scope: when
the breaker opens, in-flight calls
are cancelled (their debates become CUT_OFF) and queued debates are SKIPPED, both with reason
``llm_stopped_responding``. At the phase deadline (``phase_timeout``) running debates are
cancelled and marked CUT_OFF (reason ``deadline``); finished ones stay. When the whole phase is
cancelled (Ctrl-C, SIGTERM), started debates get a CUT_OFF row and the others a SKIPPED row,
reason ``interrupted``, before the cancellation goes on. Writes to the store are shielded so a
cancellation never loses a thesis that exists.

A row the store refuses (after its own busy retries) is not dropped: the summary carries it in
``unsaved_outcomes`` / ``unsaved_debates`` with the store's error, so the run is never COMPLETED
and the row is still shown, marked unsaved.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import attrs
import trio

from actors.breaker.actor import BreakerOpen, Permit
from actors.coordinator import DebateSummary
from actors.core.prompts import REPLY_TYPES, build_messages
from actors.debate.schedule import DebateSchedule
from actors.llm.budget import Timeouts
from actors.llm.protocol import ChatClient, ChatMessage
from actors.llm.limiter import ConcurrencyLimiter, Slot
from actors.llm.outcome import CallOutcome, FailureKind
from actors.store.client import StoreClient
from actors.errors import StoreError
from messages.debate import AgentOutcome, AgentRole, DebateFinished, DebateStatus, RiskAssessment
from messages.scan import TickerResult
from messages.storage import SaveAgentOutcome, SaveDebate

logger = logging.getLogger(__name__)

LLM_STOPPED = "llm_stopped_responding"
DEADLINE = "deadline"
INTERRUPTED = "interrupted"
ROLES = (AgentRole.BULL, AgentRole.BEAR, AgentRole.RISK)


class Admission(Protocol):
    """Who admits LLM calls: the breaker actor's :class:`~actors.breaker.supervised.BreakerClient`
    (or an in-task :class:`~actors.breaker.actor.CircuitBreaker`)."""

    def guard(self) -> AbstractAsyncContextManager[Permit]: ...


@attrs.frozen
class PoolStatistics:
    """Debates not started, running and finished over the runs in progress; LLM calls since start."""

    queued: int
    running: int
    finished: int
    calls: int


@attrs.define
class _Running:
    """The agent call a debate has in flight (mutable, owned by its run; never sent anywhere)."""

    role: AgentRole
    started: float


@attrs.define(eq=False)
class _Run:
    """One phase's state: the schedule, theses so far, calls in flight, results, the writer, unsaved rows."""

    run_id: str
    candidates: Sequence[TickerResult]
    writes: trio.MemorySendChannel[object]
    schedule: DebateSchedule
    theses: list[dict[AgentRole, object]]
    running: dict[str, _Running] = attrs.Factory(dict)
    finished: dict[str, DebateFinished] = attrs.Factory(dict)
    unsaved: list[tuple[object, StoreError]] = attrs.Factory(list)  # rows the store refused
    changed: trio.Event = attrs.Factory(trio.Event)


def saved_theses(
    candidates: Sequence[TickerResult], saved: Sequence[AgentOutcome]
) -> list[dict[AgentRole, object]]:
    """Per candidate, the saved theses a resumed debate continues from: bull, then bear, then risk.

    Only successful outcomes count, and only as a prefix of bull → bear → risk (a bear without
    its bull is not used: the bull would run again and the bear must read it). The latest
    saved thesis of a role wins.
    """
    by_ticker: dict[str, dict[AgentRole, object]] = {}
    for outcome in saved:
        if outcome.thesis is not None and outcome.failure is None:
            by_ticker.setdefault(outcome.ticker, {})[outcome.role] = outcome.thesis
    theses = []
    for result in candidates:
        found = by_ticker.get(result.ticker, {})
        prefix: dict[AgentRole, object] = {}
        for role in ROLES:
            if role not in found:
                break
            prefix[role] = found[role]
        theses.append(prefix)
    return theses


class DebatePool:
    """See the module docstring.

    ``limiter`` hands out the LLM slots (shared with other users of the same LLM); without one
    the pool uses a fixed limit of ``concurrency``.
    """

    def __init__(
        self,
        client: ChatClient,
        *,
        store: StoreClient,
        breaker: Admission,
        publish: Callable[[object], None],
        concurrency: int = 3,
        limiter: ConcurrencyLimiter | None = None,
        phase_timeout: float = 600.0,
        timeouts: Timeouts | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        if phase_timeout <= 0:
            raise ValueError(f"phase_timeout must be > 0, got {phase_timeout}")
        self._client = client
        self._store = store
        self._breaker = breaker
        self._publish = publish
        self._limiter = limiter if limiter is not None else ConcurrencyLimiter.fixed(concurrency)
        self._phase_timeout = phase_timeout
        self._timeouts = timeouts
        self._runs: set[_Run] = set()
        self._calls = 0

    def statistics(self) -> PoolStatistics:
        """Totals over the runs in progress (and LLM calls since start)."""
        return PoolStatistics(
            queued=sum(run.schedule.unstarted() for run in self._runs),
            running=sum(len(run.running) for run in self._runs),
            finished=sum(len(run.finished) for run in self._runs),
            calls=self._calls,
        )

    async def run(
        self, run_id: str, candidates: Sequence[TickerResult], *, saved: Sequence[AgentOutcome] = ()
    ) -> DebateSummary:
        """Debate ``candidates`` until done, the deadline, or the breaker stops the LLM.

        ``saved`` are theses this run already has (a resumed run): each debate continues at its
        first agent without a saved thesis (bull and bear saved → only the risk agent runs), and
        one whose three theses are saved is finished COMPLETED without an LLM call.

        Store writes go through one writer task, in order, so a step never waits for a
        commit before the next LLM call; the writer drains everything queued (shielded) before
        this returns, even when the phase is cancelled.
        """
        theses = saved_theses(candidates, saved)
        writes_send, writes_receive = trio.open_memory_channel[object](math.inf)
        run = _Run(
            run_id=run_id,
            candidates=candidates,
            writes=writes_send,
            schedule=DebateSchedule(len(candidates), steps=len(ROLES),
                                    deadline=trio.current_time() + self._phase_timeout,
                                    done=[len(t) for t in theses]),
            theses=theses,
        )
        async with trio.open_nursery() as writer_nursery:
            writer_nursery.start_soon(self._writer, writes_receive, run.unsaved)
            self._runs.add(run)
            try:
                for result, known in zip(candidates, theses):
                    if len(known) == len(ROLES):  # every thesis saved; only the debate row was missing
                        risk = known[AgentRole.RISK]
                        assert isinstance(risk, RiskAssessment)
                        await self._finish(run, result.ticker, DebateStatus.COMPLETED, verdict=risk.verdict,
                                           conviction=risk.conviction)
                summary = await self._run(run)
            except BaseException:  # cancelled (Ctrl-C, SIGTERM) or crashed: what was in flight gets its row
                self._record_interrupted(run)
                raise
            finally:
                self._runs.discard(run)
                writes_send.close()
        return self._summary_with_unsaved(run, summary)

    async def _writer(self, receive: trio.MemoryReceiveChannel[object],
                      unsaved: list[tuple[object, StoreError]]) -> None:
        with trio.CancelScope(shield=True):
            async with receive:
                async for command in receive:
                    try:
                        await self._store.send(command)
                    except StoreError as exc:  # kept for the summary: shown unsaved, run not COMPLETED
                        logger.error("could not save %s: %s", type(command).__name__, exc)
                        unsaved.append((command, exc))

    def _record_interrupted(self, run: _Run) -> None:
        """Queue the rows of debates the cancellation stops (sync: runs inside a cancelled scope)."""
        for index, result in enumerate(run.candidates):
            ticker = result.ticker
            if ticker in run.finished:
                continue
            running = run.running.pop(ticker, None)
            if running is not None:
                cancelled = self._cancelled_outcome(run.run_id, ticker, running, INTERRUPTED)
                run.writes.send_nowait(SaveAgentOutcome(cancelled))
            status = DebateStatus.CUT_OFF if run.schedule.started(index) else DebateStatus.SKIPPED
            finished = DebateFinished(run.run_id, ticker, status, None, None, INTERRUPTED)
            run.finished[ticker] = finished
            self._publish(finished)
            run.writes.send_nowait(SaveDebate(finished))

    def _summary_with_unsaved(self, run: _Run, summary: DebateSummary) -> DebateSummary:
        """``summary`` with the rows the store refused (known only once the writer has drained)."""
        if not run.unsaved:
            return summary
        return attrs.evolve(
            summary,
            unsaved_outcomes=tuple(c.outcome for c, _ in run.unsaved if isinstance(c, SaveAgentOutcome)),
            unsaved_debates=tuple(c.finished for c, _ in run.unsaved if isinstance(c, SaveDebate)),
            unsaved_error=str(run.unsaved[0][1]),
        )

    async def _run(self, run: _Run) -> DebateSummary:
        started = trio.current_time()
        with trio.move_on_after(self._phase_timeout) as deadline:
            async with trio.open_nursery() as steps:
                await self._dispatch(run, steps)

        # What the deadline interrupted: started debates are cut off, the others never started.
        for index, result in enumerate(run.candidates):
            if result.ticker in run.finished:
                continue
            running = run.running.pop(result.ticker, None)
            if running is not None:
                await self._save_outcome(run, self._cancelled_outcome(run.run_id, result.ticker, running, DEADLINE))
            status = DebateStatus.CUT_OFF if run.schedule.started(index) else DebateStatus.SKIPPED
            await self._finish(run, result.ticker, status, reason=DEADLINE)
        return self._summary(run, run.candidates, started, deadline.cancelled_caught)

    def _summary(self, run: _Run, candidates: Sequence[TickerResult], started: float,
                 hit_deadline: bool) -> DebateSummary:
        finished = tuple(run.finished[r.ticker] for r in candidates)
        completed = sum(1 for f in finished if f.status is DebateStatus.COMPLETED)
        reasons = sorted({f.reason for f in finished if f.status is not DebateStatus.COMPLETED and f.reason})
        if completed == len(candidates):
            status, why = "ok", None
        else:
            status = "partial"
            if LLM_STOPPED in reasons:
                why = LLM_STOPPED
            elif hit_deadline:
                why = f"{DEADLINE}: ai_debate_phase_timeout of {self._phase_timeout:g} s reached"
            else:
                why = "debates failed: " + ", ".join(reasons)
        return DebateSummary(
            requested=len(candidates),
            completed=completed,
            skipped_reason=why,
            finished=finished,
            status=status,
            seconds=trio.current_time() - started,
        )

    async def _dispatch(self, run: _Run, steps: trio.Nursery) -> None:
        """Each time an LLM slot is free, start the step the schedule picks, until all debates end."""
        while not run.schedule.finished:
            slot = await self._limiter.acquire()
            index = run.schedule.next_step(trio.current_time(), self._limiter.limit)
            if index is None:  # every open debate has its step in flight: wait for one to end
                slot.release()
                if run.schedule.finished:
                    return
                run.changed = trio.Event()
                await run.changed.wait()
                continue
            steps.start_soon(self._step, run, index, slot)

    async def _step(self, run: _Run, index: int, slot: Slot) -> None:
        """One agent call of debate ``index`` on ``slot``; ends the debate when it fails or was the last."""
        result = run.candidates[index]
        ticker, theses = result.ticker, run.theses[index]
        role = ROLES[run.schedule.step_of(index)]
        running = run.running[ticker] = _Running(role=role, started=trio.current_time())
        messages = [
            ChatMessage(r, c)
            for r, c in build_messages(role, result, bull=theses.get(AgentRole.BULL), bear=theses.get(AgentRole.BEAR))
        ]
        try:
            try:
                with slot.measuring():
                    outcome = await self._call(messages, REPLY_TYPES[role])
            except BreakerOpen as exc:
                del run.running[ticker]
                run.schedule.close(index)
                if exc.in_flight:
                    await self._save_outcome(run, self._cancelled_outcome(run.run_id, ticker, running, LLM_STOPPED))
                    await self._finish(run, ticker, DebateStatus.CUT_OFF, reason=LLM_STOPPED)
                else:
                    status = DebateStatus.SKIPPED if role is AgentRole.BULL else DebateStatus.CUT_OFF
                    await self._finish(run, ticker, status, reason=LLM_STOPPED)
                return
            del run.running[ticker]
            run.schedule.step_finished(index, trio.current_time(), more=outcome.ok)
            await self._save_outcome(run, self._agent_outcome(run.run_id, ticker, role, outcome))
            if not outcome.ok:
                kind = outcome.failure.value if outcome.failure else "unknown"
                logger.info("%s debate failed at the %s agent: %s (%s)", ticker, role.value, kind, outcome.detail)
                await self._finish(run, ticker, DebateStatus.FAILED, reason=f"{role.value}: {kind}")
                return
            theses[role] = outcome.value
            if role is ROLES[-1]:
                risk = theses[AgentRole.RISK]
                assert isinstance(risk, RiskAssessment)
                await self._finish(run, ticker, DebateStatus.COMPLETED, verdict=risk.verdict,
                                   conviction=risk.conviction)
        finally:
            slot.release()
            run.changed.set()

    async def _call(self, messages: list[ChatMessage], reply_type: type) -> CallOutcome:
        """One guarded LLM call: the breaker may refuse it or cut it off (``BreakerOpen``).

        Its attempts, successes included, reach the breaker through the client's observer as
        each one ends; the whole call's outcome is not reported again.
        """
        self._calls += 1
        async with self._breaker.guard():
            return await self._client.complete(messages, reply_type, timeouts=self._timeouts)

    def _agent_outcome(self, run_id: str, ticker: str, role: AgentRole, outcome: CallOutcome) -> AgentOutcome:
        return AgentOutcome(
            run_id=run_id,
            ticker=ticker,
            role=role,
            model=outcome.model,
            thesis=outcome.value,
            failure=outcome.failure.value if outcome.failure else None,
            attempts=outcome.attempts,
            latency=round(outcome.latency, 4),
            detail=outcome.detail,
            input_tokens=outcome.input_tokens,
            output_tokens=outcome.output_tokens,
            generation_seconds=outcome.generation_seconds,
            prompt_seconds=outcome.prompt_seconds,
            load_seconds=outcome.load_seconds,
        )

    def _cancelled_outcome(self, run_id: str, ticker: str, running: _Running, reason: str) -> AgentOutcome:
        return AgentOutcome(
            run_id=run_id,
            ticker=ticker,
            role=running.role,
            model=self._client.model,
            thesis=None,
            failure=FailureKind.CANCELLED.value,
            attempts=0,
            latency=round(trio.current_time() - running.started, 4),
            detail=f"cut off: {reason}",
        )

    async def _save_outcome(self, run: _Run, outcome: AgentOutcome) -> None:
        await self._save(run, SaveAgentOutcome(outcome))

    async def _finish(self, run: _Run, ticker: str, status: DebateStatus, *, reason: str | None = None,
                      verdict=None, conviction: float | None = None) -> None:
        finished = DebateFinished(run.run_id, ticker, status, verdict, conviction, reason)
        run.finished[ticker] = finished
        self._publish(finished)
        await self._save(run, SaveDebate(finished))

    async def _save(self, run: _Run, command: object) -> None:
        """Queue ``command`` for the run's writer (never blocks: the queue holds at most 4 per ticker)."""
        run.writes.send_nowait(command)
