"""The coordinator: phase order, checkpoint before debate, statuses, interruption (virtual time)."""

import datetime as dt

import trio

from actors.config import Settings
from actors.coordinator import DebateSummary, run_scan, run_status
from actors.errors import DiskFull
from actors.fetcher import Fetcher
from actors.providers.base import make_provider
from messages.debate import DebateFinished, DebateStatus, Verdict
from messages.progress import PhaseFinished, PhaseStarted, RunFinished
from messages.scan import PHASE_ORDER, Phase, RunStatus, ScanRequested
from tests.debate.fakes import memory_store


def _request(universe):
    return ScanRequested(tuple(universe), "sim", dt.datetime(2026, 7, 24, 20, tzinfo=dt.timezone.utc))


async def _scan(memory_and_store, *, universe=None, debate=None, disabled=None, settings=None, publish=None, size=40):
    memory, store = memory_and_store
    provider = make_provider("sim", size=size, seed=3)
    settings = settings or Settings(source="sim", top_n_options=10, top_n_ai_debate=5)
    events = []

    def record(event):
        events.append(event)
        if publish:
            publish(event, memory)

    outcome = await run_scan(
        _request(universe or provider.default_universe()),
        run_id="run-c",
        settings=settings,
        fetcher=Fetcher(provider, concurrency=4),
        store=store,
        publish=record,
        debate=debate,
        debate_disabled_reason=disabled,
    )
    return outcome, events


async def test_phases_run_in_order_and_debate_without_backend_is_skipped(autojump_clock):
    """All six phases finish in the documented order; ai_backend=none completes the run."""
    async with memory_store() as ms:
        outcome, events = await _scan(ms, disabled="ai_backend = none")
        memory = ms[0]
    finished = [e.phase for e in events if isinstance(e, PhaseFinished)]
    # data_fetch finishes as the last ticker arrives; scoring right after its last item.
    assert finished == list(PHASE_ORDER)
    assert outcome.status is RunStatus.COMPLETED
    assert outcome.debate.skipped_reason == "skipped by configuration (ai_backend = none)"
    run = memory.runs["run-c"]
    assert run.status is RunStatus.COMPLETED
    assert len(memory.checkpoints["run-c"].results) == len(outcome.results) > 0
    assert isinstance(events[-1], RunFinished)


async def test_checkpoint_is_committed_before_any_debate(autojump_clock):
    """The debate runner sees a PARTIAL run whose scores and picks are already saved."""
    seen = {}

    async with memory_store() as ms:
        memory = ms[0]

        async def debate(run_id, candidates):
            seen["status"] = memory.runs[run_id].status
            seen["saved"] = len(memory.checkpoints[run_id].results)
            seen["candidates"] = [c.ticker for c in candidates]
            finished = tuple(DebateFinished(run_id, c.ticker, DebateStatus.COMPLETED, Verdict.TAKE, 0.6, None) for c in candidates)
            return DebateSummary(len(candidates), len(candidates), None, finished)

        outcome, _ = await _scan(ms, debate=debate)
    assert seen["status"] is RunStatus.PARTIAL
    assert seen["saved"] == len(outcome.results)
    with_contract = [r.ticker for r in outcome.results if r.option is not None]
    assert len(with_contract) >= 5
    assert seen["candidates"] == with_contract[:5]  # the best tickers that have a contract
    assert outcome.status is RunStatus.COMPLETED
    assert memory.runs["run-c"].debates_completed == 5


async def test_incomplete_debates_leave_the_run_partial_with_reason(autojump_clock):
    """Debates that did not finish make the run PARTIAL with the pool's reason."""
    async def debate(run_id, candidates):
        return DebateSummary(len(candidates), 2, "llm_stopped_responding", (), status="partial")

    async with memory_store() as ms:
        outcome, _ = await _scan(ms, debate=debate)
        run = ms[0].runs["run-c"]
    assert outcome.status is RunStatus.PARTIAL
    assert run.status is RunStatus.PARTIAL and run.status_reason == "llm_stopped_responding"
    assert (run.debates_requested, run.debates_completed) == (5, 2)


async def test_no_usable_data_fails_the_run(autojump_clock):
    """Only unknown tickers: FAILED, with each ticker's error recorded."""
    async with memory_store() as ms:
        outcome, _ = await _scan(ms, universe=["NOPE1", "NOPE2"], disabled="x")
        run = ms[0].runs["run-c"]
    assert outcome.status is RunStatus.FAILED
    assert run.status is RunStatus.FAILED
    assert {e.ticker for e in outcome.errors} == {"NOPE1", "NOPE2"}
    assert {e.kind for e in outcome.errors} == {"unknown_ticker"}


async def test_unknown_ticker_among_good_ones_is_an_error_not_a_failure(autojump_clock):
    """A typo in the universe is reported for that ticker; the rest is scanned."""
    async with memory_store() as ms:
        outcome, _ = await _scan(ms, universe=["SIM0001", "SIM0002", "TYPO"], disabled="x")
    assert outcome.status is RunStatus.COMPLETED
    assert [e.ticker for e in outcome.errors if e.kind == "unknown_ticker"] == ["TYPO"]
    assert {r.ticker for r in outcome.results} == {"SIM0001", "SIM0002"}


async def test_full_disk_at_checkpoint_fails_the_run_but_keeps_results(autojump_clock):
    """A store failure at the checkpoint: FAILED with the store's message; results still returned."""
    def fail_checkpoint(event, memory):
        if isinstance(event, PhaseStarted) and event.phase is Phase.PERSIST:
            memory.fail_next(1, DiskFull("database or disk is full"))

    async with memory_store() as ms:
        outcome, _ = await _scan(ms, publish=fail_checkpoint, disabled="x")
        run = ms[0].runs["run-c"]
    assert outcome.status is RunStatus.FAILED
    assert "could not save the checkpoint" in outcome.reason and "full" in outcome.reason
    assert len(outcome.results) > 0
    assert run.status is RunStatus.FAILED


async def test_cancellation_marks_the_run_interrupted_and_keeps_the_checkpoint(autojump_clock):
    """Ctrl-C during the debate: the checkpoint stays and the run is INTERRUPTED."""
    async def debate(run_id, candidates):
        await trio.sleep_forever()

    async with memory_store() as ms:
        with trio.move_on_after(100):
            await _scan(ms, debate=debate)
        memory = ms[0]
    assert memory.runs["run-c"].status is RunStatus.INTERRUPTED
    assert len(memory.checkpoints["run-c"].results) > 0


class TestRunStatus:
    """run_status(): the one rule that turns a debate summary into the run's final status."""

    def test_all_debates_finished_is_completed(self):
        """Every requested debate finished: COMPLETED, no reason."""
        assert run_status(DebateSummary(5, 5, None)) == (RunStatus.COMPLETED, None)

    def test_skipped_by_configuration_is_completed(self):
        """Debates off by configuration: COMPLETED with the reason kept."""
        summary = DebateSummary(0, 0, "skipped by configuration (ai_backend = none)", status="skipped")
        assert run_status(summary) == (RunStatus.COMPLETED, summary.skipped_reason)

    def test_unhealthy_llm_is_partial_even_with_nothing_requested(self):
        """A skipped phase not caused by configuration is PARTIAL, even for zero candidates."""
        summary = DebateSummary(0, 0, "llm_unreachable: connection refused", status="skipped")
        assert run_status(summary) == (RunStatus.PARTIAL, "llm_unreachable: connection refused")

    def test_unfinished_debates_without_a_reason_are_counted(self):
        """PARTIAL says how many debates did not finish when the pool gave no reason."""
        assert run_status(DebateSummary(4, 1, None, status="partial")) == (
            RunStatus.PARTIAL, "3 of 4 debates did not finish")
