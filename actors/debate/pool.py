"""The debate pool: bull → bear → risk per ticker, tickers in parallel, one phase deadline.

*Receives:* the checkpointed top-N :class:`~messages.scan.TickerResult` rows of a run
(:meth:`DebatePool.run`).
*Sends:* ``SaveAgentOutcome`` for every agent call as soon as it ends (thesis or failure) and
``SaveDebate`` for every ticker, to the persister; each :class:`~messages.debate.DebateFinished`
on ``publish``. Returns a :class:`~actors.coordinator.DebateSummary`.
*Owns:* ``concurrency`` workers, the queue of candidates, the phase deadline.

Within a ticker the three agents run strictly in order (the bear reads the bull's thesis, the
risk agent reads both); a failed agent ends that debate as FAILED with its failure kind — no
later agent runs on a missing input and nothing is made up. Across tickers, workers pull from
one queue, so no worker idles while a debate waits.

Every LLM call runs inside the circuit breaker's guard: when the breaker opens, in-flight calls
are cancelled (their debates become CUT_OFF) and queued debates are SKIPPED, both with reason
``llm_stopped_responding``. At the phase deadline (``phase_timeout``) running debates are
cancelled and marked CUT_OFF (reason ``deadline``); finished ones stay. When the whole phase is
cancelled (Ctrl-C, SIGTERM), running debates get a CUT_OFF row and queued ones a SKIPPED row,
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

import attrs
import trio

from actors.breaker.actor import BreakerOpen, CircuitBreaker
from actors.coordinator import DebateSummary
from actors.debate.prompts import REPLY_TYPES, build_messages
from actors.llm.budget import Timeouts
from actors.llm.client import ChatClient, ChatMessage
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


@attrs.frozen
class PoolStatistics:
    queued: int
    running: int
    finished: int
    calls: int


@attrs.define
class _Running:
    """Where one debate is (mutable, owned by the pool; never sent anywhere)."""

    role: AgentRole | None = None
    started: float = 0.0


class DebatePool:
    """See the module docstring."""

    def __init__(
        self,
        client: ChatClient,
        *,
        store: StoreClient,
        breaker: CircuitBreaker,
        publish: Callable[[object], None],
        concurrency: int = 3,
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
        self._concurrency = concurrency
        self._phase_timeout = phase_timeout
        self._timeouts = timeouts
        self._finished: dict[str, DebateFinished] = {}
        self._running: dict[str, _Running] = {}
        self._queued = 0
        self._calls = 0
        self._writes: trio.MemorySendChannel[object] | None = None
        self._unsaved: list[tuple[object, StoreError]] = []

    def statistics(self) -> PoolStatistics:
        return PoolStatistics(self._queued, len(self._running), len(self._finished), self._calls)

    async def run(self, run_id: str, candidates: Sequence[TickerResult]) -> DebateSummary:
        """Debate ``candidates`` until done, the deadline, or the breaker stops the LLM.

        Store writes go through one writer task, in order, so a worker never waits for a
        commit before its next LLM call; the writer drains everything queued (shielded) before
        this returns, even when the phase is cancelled.
        """
        writes_send, writes_receive = trio.open_memory_channel[object](math.inf)
        self._unsaved = []
        async with trio.open_nursery() as writer_nursery:
            writer_nursery.start_soon(self._writer, writes_receive)
            self._writes = writes_send
            try:
                summary = await self._run(run_id, candidates)
            except BaseException:  # cancelled (Ctrl-C, SIGTERM) or crashed: what was in flight gets its row
                self._record_interrupted(run_id, candidates)
                raise
            finally:
                writes_send.close()
        return self._summary_with_unsaved(summary)

    async def _writer(self, receive: trio.MemoryReceiveChannel[object]) -> None:
        with trio.CancelScope(shield=True):
            async with receive:
                async for command in receive:
                    try:
                        await self._store.send(command)
                    except StoreError as exc:  # kept for the summary: shown unsaved, run not COMPLETED
                        logger.error("could not save %s: %s", type(command).__name__, exc)
                        self._unsaved.append((command, exc))

    def _record_interrupted(self, run_id: str, candidates: Sequence[TickerResult]) -> None:
        """Queue the rows of debates the cancellation stops (sync: runs inside a cancelled scope)."""
        for result in candidates:
            ticker = result.ticker
            if ticker in self._finished:
                continue
            running = self._running.pop(ticker, None)
            if running is not None and running.role is not None:
                cancelled = self._cancelled_outcome(run_id, ticker, running, INTERRUPTED)
                self._writes.send_nowait(SaveAgentOutcome(cancelled))
            status = DebateStatus.CUT_OFF if running is not None else DebateStatus.SKIPPED
            finished = DebateFinished(run_id, ticker, status, None, None, INTERRUPTED)
            self._finished[ticker] = finished
            self._publish(finished)
            self._writes.send_nowait(SaveDebate(finished))

    def _summary_with_unsaved(self, summary: DebateSummary) -> DebateSummary:
        """``summary`` with the rows the store refused (known only once the writer has drained)."""
        if not self._unsaved:
            return summary
        return attrs.evolve(
            summary,
            unsaved_outcomes=tuple(c.outcome for c, _ in self._unsaved if isinstance(c, SaveAgentOutcome)),
            unsaved_debates=tuple(c.finished for c, _ in self._unsaved if isinstance(c, SaveDebate)),
            unsaved_error=str(self._unsaved[0][1]),
        )

    async def _run(self, run_id: str, candidates: Sequence[TickerResult]) -> DebateSummary:
        started = trio.current_time()
        self._finished, self._running = {}, {}
        send, receive = trio.open_memory_channel[TickerResult](len(candidates) or 1)
        for result in candidates:
            send.send_nowait(result)
        send.close()
        self._queued = len(candidates)

        with trio.move_on_after(self._phase_timeout) as deadline:
            async with trio.open_nursery() as nursery:
                for _ in range(min(self._concurrency, len(candidates))):
                    nursery.start_soon(self._worker, run_id, receive.clone())
        receive.close()

        # What the deadline interrupted: running debates are cut off, queued ones never started.
        for result in candidates:
            if result.ticker in self._finished:
                continue
            running = self._running.pop(result.ticker, None)
            if running is not None:
                if running.role is not None:
                    await self._save_outcome(self._cancelled_outcome(run_id, result.ticker, running, DEADLINE))
                await self._finish(run_id, result.ticker, DebateStatus.CUT_OFF, reason=DEADLINE)
            else:
                await self._finish(run_id, result.ticker, DebateStatus.SKIPPED, reason=DEADLINE)
        return self._summary(candidates, started, deadline.cancelled_caught)

    def _summary(self, candidates: Sequence[TickerResult], started: float, hit_deadline: bool) -> DebateSummary:
        finished = tuple(self._finished[r.ticker] for r in candidates)
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

    async def _worker(self, run_id: str, queue: trio.MemoryReceiveChannel[TickerResult]) -> None:
        async with queue:
            async for result in queue:
                self._queued -= 1
                await self._debate(run_id, result)

    async def _debate(self, run_id: str, result: TickerResult) -> None:
        ticker = result.ticker
        running = self._running[ticker] = _Running(started=trio.current_time())
        theses: dict[AgentRole, object] = {}
        for role in ROLES:
            running.role = role
            messages = [
                ChatMessage(r, c)
                for r, c in build_messages(role, result, bull=theses.get(AgentRole.BULL), bear=theses.get(AgentRole.BEAR))
            ]
            try:
                outcome = await self._call(messages, REPLY_TYPES[role])
            except BreakerOpen as exc:
                del self._running[ticker]
                if exc.in_flight:
                    await self._save_outcome(self._cancelled_outcome(run_id, ticker, running, LLM_STOPPED))
                    await self._finish(run_id, ticker, DebateStatus.CUT_OFF, reason=LLM_STOPPED)
                else:
                    status = DebateStatus.SKIPPED if role is AgentRole.BULL else DebateStatus.CUT_OFF
                    await self._finish(run_id, ticker, status, reason=LLM_STOPPED)
                return
            await self._save_outcome(self._agent_outcome(run_id, ticker, role, outcome))
            if not outcome.ok:
                del self._running[ticker]
                kind = outcome.failure.value if outcome.failure else "unknown"
                logger.info("%s debate failed at the %s agent: %s (%s)", ticker, role.value, kind, outcome.detail)
                await self._finish(run_id, ticker, DebateStatus.FAILED, reason=f"{role.value}: {kind}")
                return
            theses[role] = outcome.value
        del self._running[ticker]
        risk = theses[AgentRole.RISK]
        assert isinstance(risk, RiskAssessment)
        await self._finish(run_id, ticker, DebateStatus.COMPLETED, verdict=risk.verdict, conviction=risk.conviction)

    async def _call(self, messages: list[ChatMessage], reply_type: type) -> CallOutcome:
        """One guarded LLM call: the breaker may refuse it or cut it off (``BreakerOpen``).

        Its attempts, successes included, reach the breaker through the client's observer as
        each one ends; the whole call's outcome is not reported again.
        """
        self._calls += 1
        with self._breaker.guard():
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
        assert running.role is not None
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

    async def _save_outcome(self, outcome: AgentOutcome) -> None:
        await self._save(SaveAgentOutcome(outcome))

    async def _finish(self, run_id: str, ticker: str, status: DebateStatus, *, reason: str | None = None,
                      verdict=None, conviction: float | None = None) -> None:
        finished = DebateFinished(run_id, ticker, status, verdict, conviction, reason)
        self._finished[ticker] = finished
        self._publish(finished)
        await self._save(SaveDebate(finished))

    async def _save(self, command: object) -> None:
        """Queue ``command`` for the writer (never blocks: the queue holds at most 4 per ticker)."""
        self._writes.send_nowait(command)
