"""An in-memory persister: the same message protocol and acks, no threads.

Runs, checkpoints and theses are kept in Python objects. The news queue runs the real store's
SQL (``actors.store.articles``) on a private in-memory SQLite connection, synchronously, so
virtual-time tests of the news scorer exercise the same queue as production.

For virtual-time tests (``MockClock(autojump_threshold=0)``), where the real persister's worker
threads would break virtual time. Swap it in at the channel boundary: whatever sends
``Request(command, reply_to)`` to the persister's inbox cannot tell the difference, except that
nothing survives the process.

*Receives:* ``Request(command, reply_to)`` with a ``messages.storage`` command.
*Sends:* the same answer the real persister sends for the same command sequence
(``Committed``, ``CheckpointCommitted``, ``Article``/None, or ``Failure(StoreError)``).
*Owns:* the committed state, readable by tests: :attr:`runs`, :attr:`phases`,
:attr:`checkpoints`, :attr:`outcomes`, :attr:`debates`, :attr:`committed`, and the news
tables in :attr:`news_db` (an apsw connection).

Test hooks: :meth:`fail_next` answers the next N commands with a failure (``DiskFull`` unless
told otherwise) without applying them; :meth:`fail_matching` does so for every command a
predicate picks (e.g. one ticker's theses), until cleared; :attr:`delay` sleeps that many (virtual) seconds before
applying each command. *Cancellation* during the delay drops the command in hand unanswered and
unapplied, as a crash before COMMIT would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import apsw
import attrs
import trio

from actors.errors import DiskFull, StoreError
from actors.runtime.envelope import Failure, Request, answer
from actors.store.articles import ARTICLE_HANDLERS
from actors.store.codec import describe, utc
from actors.store.persister import PersisterStatistics
from actors.store.reader import RunSummary
from actors.store.resume import RESUMABLE_STATUSES, candidates_of
from actors.store.schema import SCHEMA_VERSION, map_apsw_error, migrate
from actors.store.writes import INTERRUPTED_REASON, OPEN_STATUSES
from messages.debate import AgentOutcome, DebateFinished, DebateStatus
from messages.resume import ListResumable, ReopenedRun, ReopenRun
from messages.scan import Checkpoint, CheckpointCommitted, Phase, RunStatus
from messages.storage import (
    BeginRun,
    Committed,
    FinishRun,
    RecordPhase,
    SaveAgentOutcome,
    SaveCheckpoint,
    SaveDebate,
    StoreOpened,
)

__all__ = ["MemoryPersister"]

logger = logging.getLogger(__name__)


class MemoryPersister:
    """A stand-in for :class:`actors.store.persister.Persister`; ``await fake.run(inbox)``."""

    def __init__(self, *, delay: float = 0.0) -> None:
        if delay < 0:
            raise ValueError(f"delay must be >= 0 seconds, got {delay!r}")
        self.delay = delay
        self.runs: dict[str, RunSummary] = {}
        self.settings: dict[str, str] = {}
        self.run_errors: dict[str, tuple[str, ...]] = {}
        self.phases: dict[tuple[str, Phase], RecordPhase] = {}
        self.checkpoints: dict[str, Checkpoint] = {}
        self.outcomes: list[AgentOutcome] = []
        self.debates: dict[tuple[str, str], DebateFinished] = {}
        self.news_db = apsw.Connection(":memory:")
        migrate(self.news_db, path=":memory:")
        self.committed: list[Any] = []
        self._fail: list[BaseException] = []
        self._fail_matching: tuple[Callable[[Any], bool], BaseException] | None = None
        self._inbox: trio.MemoryReceiveChannel[Any] | None = None
        self._failures = 0
        self._last_failure: str | None = None
        self._running = False

    def fail_next(self, n: int = 1, error: BaseException | None = None) -> None:
        """Answer the next ``n`` commands with ``Failure(error)`` (default ``DiskFull``), unapplied."""
        for _ in range(n):
            self._fail.append(error or DiskFull("injected failure: database or disk is full"))

    def fail_matching(self, predicate: Callable[[Any], bool] | None, error: BaseException | None = None) -> None:
        """Refuse, unapplied, every command ``predicate(command)`` is true for (None stops it)."""
        self._fail_matching = None if predicate is None else (
            predicate, error or DiskFull("injected failure: database or disk is full"))

    def statistics(self) -> PersisterStatistics:
        depth = self._inbox.statistics().current_buffer_used if self._inbox is not None else 0
        return PersisterStatistics(
            commands_done=len(self.committed), failures=self._failures, queue_depth=depth,
            last_failure=self._last_failure, running=self._running,
        )

    def interrupt_running(self) -> StoreOpened:
        """What a restart would do: RUNNING runs → INTERRUPTED, scoring articles → pending."""
        interrupted = tuple(sorted(
            (r for r in self.runs.values() if r.status is RunStatus.RUNNING), key=lambda r: r.started_at
        ))
        for r in interrupted:
            self.runs[r.id] = attrs.evolve(r, status=RunStatus.INTERRUPTED, status_reason=INTERRUPTED_REASON)
        requeued = 0  # leases expire by their time (the next claim ends them, counting the attempt)
        return StoreOpened(
            db_path=":memory:", schema_version=SCHEMA_VERSION, migrated_from=SCHEMA_VERSION,
            interrupted_runs=tuple(r.id for r in interrupted), requeued_articles=requeued,
        )

    async def run(
        self,
        inbox: trio.MemoryReceiveChannel[Any],
        *,
        task_status: trio.TaskStatus[StoreOpened] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Report ``StoreOpened`` (after the same recovery), then serve until the inbox closes."""
        self._inbox = inbox
        self._running = True
        try:
            task_status.started(self.interrupt_running())
            async for request in inbox:
                if not isinstance(request, Request):
                    logger.error("memory persister: dropped %r: not a Request", type(request).__name__)
                    continue
                if self.delay:
                    await trio.sleep(self.delay)
                answer(request, self._apply(request.payload))
        finally:
            self._running = False

    def _apply(self, command: Any) -> Any:
        doing = describe(command)
        if self._fail:
            error = self._fail.pop(0)
            return self._failed(error)
        if self._fail_matching is not None and self._fail_matching[0](command):
            return self._failed(type(self._fail_matching[1])(f"{doing}: {self._fail_matching[1]}"))
        handler = self._handlers().get(type(command))
        if handler is None:
            return self._failed(StoreError(f"the persister does not understand {type(command).__name__!r}"))
        try:
            ack = handler(command)
        except StoreError as exc:
            return self._failed(type(exc)(f"{doing}: {exc}"))
        self.committed.append(command)
        return ack

    def _failed(self, error: BaseException) -> Failure:
        self._failures += 1
        self._last_failure = str(error)
        return Failure(error)

    def _handlers(self) -> dict[type, Callable[[Any], Any]]:
        return {
            BeginRun: self._begin_run, RecordPhase: self._record_phase,
            SaveCheckpoint: self._save_checkpoint, SaveAgentOutcome: self._save_outcome,
            SaveDebate: self._save_debate, FinishRun: self._finish_run,
            ListResumable: self._list_resumable, ReopenRun: self._reopen_run,
            **{command: self._news for command in ARTICLE_HANDLERS},
        }

    def _list_resumable(self, cmd: ListResumable) -> tuple[str, ...]:
        since = utc(cmd.since)
        runs = sorted(self.runs.values(), key=lambda r: (r.started_at, r.id))
        return tuple(
            r.id for r in runs
            if r.started_at >= since and r.finished_at is not None
            and r.status.value in RESUMABLE_STATUSES and self.checkpoints.get(r.id) is not None
        )

    def _reopen_run(self, cmd: ReopenRun) -> ReopenedRun:  # the same checks as actors.store.resume
        run = self.runs.get(cmd.run_id)
        if run is None:
            raise StoreError(f"unknown run id {cmd.run_id!r}")
        if run.finished_at is None:
            raise StoreError(f"run {cmd.run_id} is still open: its process is running it (or resuming it)")
        if run.status.value not in RESUMABLE_STATUSES:
            raise StoreError(f"run {cmd.run_id} is {run.status.value}; only PARTIAL or INTERRUPTED runs can be resumed")
        checkpoint = self.checkpoints.get(cmd.run_id)
        if checkpoint is None:
            raise StoreError(f"run {cmd.run_id} has no checkpoint (it ended before its results were saved)")
        self.runs[cmd.run_id] = attrs.evolve(
            run, status=RunStatus.PARTIAL, finished_at=None, status_reason="resuming its debates")
        results = sorted(checkpoint.results, key=lambda r: (r.rank, r.ticker))
        debates = tuple(sorted((d for (rid, _), d in self.debates.items() if rid == cmd.run_id), key=lambda d: d.ticker))
        return ReopenedRun(
            run_id=cmd.run_id,
            candidates=candidates_of(results, debates, self.settings.get(cmd.run_id)),
            debates=debates,
            saved=tuple(o for o in self.outcomes if o.run_id == cmd.run_id and o.thesis is not None and not o.failure),
            duration_seconds=float(run.duration_seconds or 0.0),
            previous_status=run.status.value,
        )

    def _run(self, run_id: str) -> RunSummary:
        if run_id not in self.runs:
            raise StoreError(f"unknown run id {run_id!r} (send BeginRun first)")
        return self.runs[run_id]

    def _begin_run(self, cmd: BeginRun) -> Committed:
        if cmd.run_id in self.runs:
            raise StoreError(f"run id {cmd.run_id!r} already exists")
        self.runs[cmd.run_id] = RunSummary(
            id=cmd.run_id, started_at=utc(cmd.started_at), finished_at=None, status=RunStatus.RUNNING,
            source=cmd.source, tickers_requested=cmd.tickers_requested, tickers_scored=0,
            options_chosen=0, debates_requested=0, debates_completed=0, status_reason=None,
            duration_seconds=None,
        )
        self.settings[cmd.run_id] = cmd.settings_json
        return Committed("BeginRun", cmd.run_id, 1)

    def _record_phase(self, cmd: RecordPhase) -> Committed:
        self._run(cmd.run_id)
        self.phases[(cmd.run_id, cmd.phase)] = cmd
        return Committed("RecordPhase", cmd.run_id, 1)

    def _save_checkpoint(self, cmd: SaveCheckpoint) -> CheckpointCommitted:
        cp = cmd.checkpoint
        run = self._run(cp.run_id)
        if run.status.value not in OPEN_STATUSES:
            raise StoreError(f"run {cp.run_id!r} is already {run.status.value}; its checkpoint cannot change")
        tickers = [r.ticker for r in cp.results]
        if len(set(tickers)) != len(tickers):
            raise StoreError("ConstraintError: UNIQUE constraint failed: ticker_scores.run_id, ticker_scores.ticker")
        self.checkpoints[cp.run_id] = cp
        self.runs[cp.run_id] = attrs.evolve(
            run, status=RunStatus.PARTIAL, tickers_requested=cp.tickers_requested,
            tickers_scored=len(cp.results), options_chosen=sum(r.option is not None for r in cp.results),
        )
        return CheckpointCommitted(cp.run_id, len(cp.results))

    def _save_outcome(self, cmd: SaveAgentOutcome) -> Committed:
        self._run(cmd.outcome.run_id)
        self.outcomes.append(cmd.outcome)
        return Committed("SaveAgentOutcome", cmd.outcome.run_id, 1)

    def _save_debate(self, cmd: SaveDebate) -> Committed:
        f = cmd.finished
        self._run(f.run_id)
        self.debates[(f.run_id, f.ticker)] = f
        return Committed("SaveDebate", f.run_id, 1)

    def _finish_run(self, cmd: FinishRun) -> Committed:
        run = self._run(cmd.run_id)
        requested, completed = cmd.debates_requested, cmd.debates_completed
        if cmd.status is RunStatus.INTERRUPTED:  # as the real store: what the saved rows show
            debates = [d for (rid, _), d in self.debates.items() if rid == cmd.run_id]
            tickers = {d.ticker for d in debates} | {o.ticker for o in self.outcomes if o.run_id == cmd.run_id}
            requested = max(requested, len(tickers))
            completed = max(completed, sum(d.status is DebateStatus.COMPLETED for d in debates))
        self.runs[cmd.run_id] = attrs.evolve(
            run, status=cmd.status, status_reason=cmd.reason, debates_requested=requested,
            debates_completed=completed, duration_seconds=float(cmd.duration_seconds),
            finished_at=utc(cmd.finished_at),
        )
        self.run_errors[cmd.run_id] = cmd.errors
        return Committed("FinishRun", cmd.run_id, 1)

    def _news(self, cmd: Any) -> Any:
        """A news-queue command: the real store's SQL on the in-memory connection, one transaction."""
        conn = self.news_db
        conn.execute("BEGIN IMMEDIATE")
        try:
            ack = ARTICLE_HANDLERS[type(cmd)](conn, cmd)
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, apsw.Error):
                raise map_apsw_error(exc, describe(cmd)) from exc
            raise
        return ack
