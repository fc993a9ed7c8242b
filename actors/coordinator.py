"""One scan's phases: :func:`run_scan` is the task the coordinator actor runs per scan.

The actor itself (its inbox, concurrent scans, cancelling one) is
:mod:`actors.coordinator_actor`; everything here is per scan, in the scan's task.

*Receives:* a :class:`~messages.scan.ScanRequested` (through :func:`run_scan`), the
:class:`~actors.fetch_score.TickerScan` stream (each ticker fetched and scored, in this process
or in worker processes: ``scan_workers``), store acknowledgements, and the debate pool's summary.
*Sends:* progress events (``PhaseStarted``/``PhaseProgress``/``PhaseFinished``/``RunFinished``)
through ``publish``; store commands (``BeginRun``, ``RecordPhase``, ``SaveCheckpoint``,
``FinishRun``) to the persister, each awaited until committed.
*Owns (per scan, in its task):* the run id, phase timings, and the in-memory results until the checkpoint commits.

Phases, in order: ``data_fetch → scoring → catalysts → options → persist → ai_debate``.
Fetching and scoring overlap (a ticker is scored as soon as its data arrives). The checkpoint
(scores + picks, status PARTIAL) commits before any debate; the debate phase only updates the
same run. FAILED only when no ticker produced data.

On cancellation (Ctrl-C, SIGTERM) the run is marked INTERRUPTED in a shielded, bounded write
naming the phase; what was checkpointed stays.

Write failures are reported, never dropped: a store failure at the checkpoint makes the run
FAILED with the store's message, and the results are still returned (``results_saved`` False)
so they are shown, marked unsaved. A phase row, thesis or debate row that could not be saved
makes the run PARTIAL (never COMPLETED) with a reason naming what was not saved; a final
status that could not be saved is reported in :attr:`ScanOutcome.unsaved`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable, Sequence

import attrs
import trio

from actors.config import Settings
from actors.errors import StoreError
from actors.fetch_actor import FetcherClient
from actors.fetch_score import TickerScan, fetch_and_score, resolve_workers
from actors.fetcher import Fetcher
from actors.core.ranking import (
    Scored, choose_contracts, debate_candidates, flag_earnings_at_expiry, rank, selection_settings,
)
from actors.news.catalyst_phase import news_effects_for_scan, save_run_news
from actors.news.client import NewsClient
from actors.serving import single_cause
from actors.store.client import StoreClient
from messages.debate import AgentOutcome, DebateFinished
from messages.market import DataError
from messages.progress import PhaseFinished, PhaseProgress, PhaseStarted, RunFinished
from messages.scan import Checkpoint, Phase, RunStatus, ScanRequested, TickerResult
from messages.storage import BeginRun, FinishRun, RecordPhase, SaveCheckpoint

logger = logging.getLogger(__name__)

Publish = Callable[[object], None]


@attrs.frozen
class PhaseRecord:
    phase: Phase
    status: str  # "ok" | "skipped" | "partial" | "failed"
    seconds: float
    errors: int = 0
    detail: str = ""


@attrs.frozen
class DebateSummary:
    """What the debate phase did: how many were asked for, finished, and why the rest did not."""

    requested: int
    completed: int
    skipped_reason: str | None
    finished: tuple[DebateFinished, ...] = ()
    status: str = "ok"  # phase status: "ok" | "skipped" | "partial"
    seconds: float = 0.0
    #: Rows the store refused (after its busy retries): shown, marked unsaved; the run is not COMPLETED.
    unsaved_outcomes: tuple[AgentOutcome, ...] = ()
    unsaved_debates: tuple[DebateFinished, ...] = ()
    unsaved_error: str | None = None

    def unsaved_description(self) -> str | None:
        """``"3 theses and 1 debate row (AAPL, MSFT) not saved: <first store error>"``, or None."""
        theses, debates = len(self.unsaved_outcomes), len(self.unsaved_debates)
        if not theses and not debates:
            return None
        parts = [f"{theses} {'thesis' if theses == 1 else 'theses'}"] if theses else []
        parts += [f"{debates} debate row{'' if debates == 1 else 's'}"] if debates else []
        tickers = sorted({o.ticker for o in self.unsaved_outcomes} | {d.ticker for d in self.unsaved_debates})
        why = f": {self.unsaved_error}" if self.unsaved_error else ""
        return f"{' and '.join(parts)} ({', '.join(tickers)}) not saved{why}"


DebateRunner = Callable[[str, Sequence[TickerResult]], Awaitable[DebateSummary]]


@attrs.frozen
class ScanOutcome:
    run_id: str
    status: RunStatus
    reason: str | None
    results: tuple[TickerResult, ...]
    phases: tuple[PhaseRecord, ...]
    errors: tuple[DataError, ...]
    debate: DebateSummary
    seconds: float
    tickers_requested: int
    #: What was computed but not saved (the checkpoint, phase rows, theses, the final status).
    unsaved: tuple[str, ...] = ()
    #: False when the checkpoint failed: ``results`` exist only in this outcome.
    results_saved: bool = True
    #: False when the final ``FinishRun`` failed: the stored run is still open (recovery finishes it).
    status_saved: bool = True


def new_run_id(now: dt.datetime | None = None) -> str:
    """A sortable, unique run id: ``20260724T193012-1a2b3c``."""
    import secrets

    now = now or dt.datetime.now(dt.timezone.utc)
    return f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


class _Phases:
    """Times phases on trio's clock, publishes their events and records them in the store."""

    def __init__(self, run_id: str, publish: Publish, store: StoreClient) -> None:
        self.run_id, self._publish, self._store = run_id, publish, store
        self.records: list[PhaseRecord] = []
        self.unsaved: list[str] = []
        self._started: dict[Phase, float] = {}

    @property
    def current(self) -> str:
        """The phases started and not finished (``"data_fetch+scoring"``), or the last one finished."""
        done = {r.phase for r in self.records}
        running = [p.value for p in self._started if p not in done]
        if running:
            return "+".join(running)
        return self.records[-1].phase.value if self.records else "start"

    def start(self, phase: Phase, total: int | None = None) -> None:
        self._started[phase] = trio.current_time()
        self._publish(PhaseStarted(self.run_id, phase, total))

    def progress(self, phase: Phase, done: int, total: int | None) -> None:
        self._publish(PhaseProgress(self.run_id, phase, done, total))

    async def finish(self, phase: Phase, status: str = "ok", errors: int = 0, detail: str = "") -> None:
        seconds = trio.current_time() - self._started.get(phase, trio.current_time())
        record = PhaseRecord(phase, status, round(seconds, 4), errors, detail)
        self.records.append(record)
        self._publish(PhaseFinished(self.run_id, phase, status, record.seconds, errors, detail))
        try:
            await self._store.send(RecordPhase(self.run_id, phase, status, record.seconds, errors, detail))
        except StoreError as exc:  # reported on the run, never fatal: the results matter more
            logger.error("run %s: could not save the %s phase row: %s", self.run_id, phase.value, exc)
            self.unsaved.append(f"{phase.value} phase row not saved: {exc}")


async def run_scan(
    request: ScanRequested,
    *,
    run_id: str,
    settings: Settings,
    fetcher: Fetcher | FetcherClient,
    store: StoreClient,
    publish: Publish,
    debate: DebateRunner | None,
    debate_disabled_reason: str | None = None,
    settings_json: str = "{}",
    news: NewsClient | None = None,
    news_unavailable: str | None = None,
) -> ScanOutcome:
    """Run one scan through every phase; see the module docstring.

    ``fetcher`` is the fetcher actor's client (the system) or a :class:`Fetcher` used directly
    in this task (tests and benchmarks of the phases alone). ``news`` is the news scorer's
    client, drained before the catalyst phase when the request asks for it (``score_news``);
    ``news_unavailable`` says why there is none.
    """
    started = trio.current_time()
    phases = _Phases(run_id, publish, store)
    tickers = request.universe
    await store.send(
        BeginRun(
            run_id=run_id,
            started_at=request.requested_at,
            source=request.source,
            tickers_requested=len(tickers),
            settings_json=settings_json,
        )
    )
    try:
        return await _run_phases(
            request, run_id, settings, fetcher, store, publish, phases, debate, debate_disabled_reason, started,
            news, news_unavailable,
        )
    except BaseException as exc:
        if _is_cancellation(exc):
            reason = f"interrupted by the user or the service manager during {phases.current}"
        else:
            cause = single_cause(exc)
            reason = f"stopped by an internal error during {phases.current}: {type(cause).__name__}: {cause}"
        await _mark_interrupted(store, run_id, started, reason)
        raise


def _is_cancellation(exc: BaseException) -> bool:
    """Cancelled / KeyboardInterrupt, alone or as every leaf of an exception group."""
    if isinstance(exc, BaseExceptionGroup):
        return all(_is_cancellation(e) for e in exc.exceptions)
    return isinstance(exc, (trio.Cancelled, KeyboardInterrupt))


def _finish_run(
    run_id: str,
    status: RunStatus,
    reason: str | None,
    seconds: float,
    *,
    requested: int = 0,
    completed: int = 0,
    errors: Sequence[DataError] = (),
) -> FinishRun:
    """The ``FinishRun`` command that closes a run (at most 50 data errors listed on the row)."""
    return FinishRun(
        run_id=run_id,
        status=status,
        reason=reason,
        debates_requested=requested,
        debates_completed=completed,
        duration_seconds=round(seconds, 3),
        finished_at=dt.datetime.now(dt.timezone.utc),
        errors=tuple(f"{e.ticker} {e.piece.value}: {e.message}" for e in errors[:50]),
    )


async def _mark_interrupted(store: StoreClient, run_id: str, started: float, reason: str) -> None:
    with trio.CancelScope(shield=True), trio.move_on_after(5):
        try:
            await store.send(_finish_run(run_id, RunStatus.INTERRUPTED, reason, trio.current_time() - started))
            logger.info("run %s marked INTERRUPTED: %s", run_id, reason)
        except StoreError as exc:  # the start-up recovery will mark it instead
            logger.warning("could not mark run %s INTERRUPTED: %s", run_id, exc)


async def _run_phases(
    request, run_id, settings, fetcher, store, publish, phases, debate, debate_disabled_reason, started,
    news=None, news_unavailable=None,
) -> ScanOutcome:
    tickers = request.universe
    errors: list[DataError] = []
    scored: list[Scored] = []

    # data_fetch and scoring overlap: each ticker is scored as soon as its data arrives.
    phases.start(Phase.DATA_FETCH, len(tickers))
    phases.start(Phase.SCORING, len(tickers))
    send, receive = trio.open_memory_channel[TickerScan](max(16, settings.fetch_concurrency * 2))
    fetched = 0
    fetch_errors = 0
    workers = resolve_workers(settings.scan_workers, tickers=len(tickers), provider=fetcher.provider)
    every = max(1, len(tickers) // 200)  # progress events: at most ~200 per phase, and the last one

    async def fetch() -> None:
        if isinstance(fetcher, FetcherClient):
            await fetcher.fetch_and_score(tickers, send, workers=workers, run_id=run_id)
        else:
            await fetch_and_score(fetcher, tickers, send, workers=workers)
        await phases.finish(Phase.DATA_FETCH, errors=fetch_errors)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(fetch)
        async with receive:
            async for scan in receive:  # scored as fetched, in this process or in workers
                fetched += 1
                fetch_errors += bool(scan.data.errors)
                errors.extend(scan.data.errors)
                if scan.scored is not None:
                    scored.append(Scored(scan.scored, scan.data))
                elif scan.score_error is not None:
                    errors.append(scan.score_error)
                if fetched % every == 0 or fetched == len(tickers):
                    phases.progress(Phase.DATA_FETCH, fetched, len(tickers))
                    phases.progress(Phase.SCORING, fetched, len(tickers))
    scoring_errors = fetched - len(scored)
    await phases.finish(Phase.SCORING, errors=scoring_errors)

    if not scored:
        reason = f"no ticker produced usable data ({len(errors)} errors)"
        return await _finish_failed(request, run_id, store, publish, phases, errors, reason, started)

    phases.start(Phase.CATALYSTS, len(scored))
    news_step = await news_effects_for_scan(
        scored, settings=settings, store=store, news=news, score_news=request.score_news, unavailable=news_unavailable
    )
    ranked = rank(scored, horizon_days=settings.dte_max, news=news_step.effects)
    flagged = sum(1 for r in ranked if any(c.adjustment for c in r.catalysts))
    await phases.finish(Phase.CATALYSTS, detail=f"{flagged} tickers adjusted; news: {news_step.detail}")

    top = [r.ticker for r in ranked[: settings.top_n_options]]
    phases.start(Phase.OPTIONS, len(top))
    chains = await _fetch_chains(fetcher, top, phases)
    for value in chains.values():
        if isinstance(value, DataError):
            errors.append(value)
    results = choose_contracts(ranked, chains, top_n=settings.top_n_options, selection=selection_settings(settings),
                               now=dt.datetime.now(dt.timezone.utc))
    results = flag_earnings_at_expiry(results, {s.scored.ticker: s for s in scored})
    chosen = sum(1 for r in results if r.option is not None)
    await phases.finish(Phase.OPTIONS, detail=f"{chosen} of {len(top)} with a contract")

    phases.start(Phase.PERSIST, len(results))
    checkpoint = Checkpoint(run_id, tuple(results), tuple(errors), len(tickers))
    try:
        await store.send(SaveCheckpoint(checkpoint))
    except StoreError as exc:
        reason = f"could not save the checkpoint: {exc}"
        await phases.finish(Phase.PERSIST, "failed", errors=1, detail=reason)
        return await _finish_failed(request, run_id, store, publish, phases, errors, reason, started, results)
    await phases.finish(Phase.PERSIST, detail=f"{len(results)} tickers, {chosen} contracts")
    news_unsaved = await save_run_news(store, run_id, news_step.effects)
    if news_unsaved:
        phases.unsaved.append(news_unsaved)
    logger.info("run %s checkpointed: %d tickers, %d contracts", run_id, len(results), chosen)

    summary = await _debate_phase(run_id, results, settings, phases, debate, debate_disabled_reason)
    unsaved = [*phases.unsaved]
    if summary.unsaved_description():
        unsaved.append(summary.unsaved_description())
    status, reason = run_status(summary, unsaved=unsaved)
    seconds = trio.current_time() - started
    status_saved = True
    try:
        await store.send(
            _finish_run(run_id, status, reason, seconds, requested=summary.requested, completed=summary.completed)
        )
    except StoreError as exc:  # the run stays open; start-up recovery finishes it once we are gone
        logger.error("run %s: could not save its final status %s: %s", run_id, status.value, exc)
        unsaved.append(f"final status {status.value} not saved: {exc}")
        status_saved = False
    publish(RunFinished(run_id, status.value, seconds, reason))
    return ScanOutcome(
        run_id, status, reason, tuple(results), tuple(phases.records), tuple(errors), summary, seconds, len(tickers),
        unsaved=tuple(unsaved), status_saved=status_saved,
    )


SKIPPED_BY_CONFIG = "skipped by configuration"


def run_status(summary: DebateSummary, *, unsaved: Sequence[str] = ()) -> tuple[RunStatus, str | None]:
    """COMPLETED when every requested debate finished or debates are off by configuration, and
    everything was saved; otherwise PARTIAL (scores and contracts are saved) with the reason.

    ``unsaved`` lists rows that could not be saved (theses, debates, phase rows): a run with
    any is never COMPLETED, and its reason names them.
    """
    by_config = bool(summary.skipped_reason and summary.skipped_reason.startswith(SKIPPED_BY_CONFIG))
    if by_config or (summary.status != "skipped" and summary.completed == summary.requested):
        status, reason = RunStatus.COMPLETED, summary.skipped_reason
    else:
        missing = summary.requested - summary.completed
        status = RunStatus.PARTIAL
        reason = summary.skipped_reason or f"{missing} of {summary.requested} debates did not finish"
    if unsaved:
        status = RunStatus.PARTIAL
        reason = "; ".join([*([reason] if reason else []), *unsaved])
    return status, reason


async def _fetch_chains(fetcher, tickers: Sequence[str], phases: _Phases) -> dict:
    """The chains of ``tickers``, one request per ticker (the fetcher's limiter bounds how many
    run at once), so the options bar advances per ticker; in the order asked."""
    chains: dict = {}

    async def one(ticker: str) -> None:
        chains.update(await fetcher.fetch_chains([ticker]))
        phases.progress(Phase.OPTIONS, len(chains), len(tickers))

    async with trio.open_nursery() as nursery:
        for ticker in tickers:
            nursery.start_soon(one, ticker)
    return {ticker: chains[ticker] for ticker in tickers if ticker in chains}


async def _debate_phase(run_id, results, settings, phases, debate, disabled_reason) -> DebateSummary:
    candidates = debate_candidates(results, top_n=settings.top_n_ai_debate,
                                   without_contract=settings.debate_without_contract)
    phases.start(Phase.AI_DEBATE, len(candidates))
    if disabled_reason or debate is None or settings.top_n_ai_debate == 0:
        why = disabled_reason or ("top_n_ai_debate = 0" if settings.top_n_ai_debate == 0 else "no debate pool")
        summary = DebateSummary(0, 0, f"{SKIPPED_BY_CONFIG} ({why})", status="skipped")
        await phases.finish(Phase.AI_DEBATE, "skipped", detail=summary.skipped_reason)
        return summary
    if not candidates:
        why = "no ticker with a contract; debate_without_contract = false"
        summary = DebateSummary(0, 0, f"{SKIPPED_BY_CONFIG} ({why})", status="skipped")
        await phases.finish(Phase.AI_DEBATE, "skipped", detail=summary.skipped_reason)
        return summary
    summary = await debate(run_id, candidates)
    failed = summary.requested - summary.completed
    unsaved = summary.unsaved_description()
    status = "partial" if unsaved and summary.status == "ok" else summary.status
    detail = "; ".join(d for d in (summary.skipped_reason, unsaved) if d)
    await phases.finish(Phase.AI_DEBATE, status, errors=failed, detail=detail)
    return summary


async def _finish_failed(request, run_id, store, publish, phases, errors, reason, started, results=()) -> ScanOutcome:
    seconds = trio.current_time() - started
    logger.error("run %s FAILED: %s", run_id, reason)
    unsaved = [*phases.unsaved]
    if results:
        unsaved.insert(0, f"{len(results)} ranked tickers not saved ({reason})")
    status_saved = True
    try:
        await store.send(_finish_run(run_id, RunStatus.FAILED, reason, seconds, errors=errors))
    except StoreError as exc:  # the run stays open; start-up recovery finishes it once we are gone
        logger.error("could not record the failure of run %s: %s", run_id, exc)
        unsaved.append(f"final status FAILED not saved: {exc}")
        status_saved = False
    publish(RunFinished(run_id, RunStatus.FAILED.value, seconds, reason))
    return ScanOutcome(
        run_id,
        RunStatus.FAILED,
        reason,
        tuple(results),
        tuple(phases.records),
        tuple(errors),
        DebateSummary(0, 0, "run failed before the debate", status="skipped"),
        seconds,
        len(request.universe),
        unsaved=tuple(unsaved),
        results_saved=not results,
        status_saved=status_saved,
    )


def snapshot_json(snapshot: dict) -> str:
    return json.dumps(snapshot, sort_keys=True, default=str)
