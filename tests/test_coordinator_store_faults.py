"""The coordinator when the store refuses writes, and when a scan is interrupted mid-debate (virtual time)."""

import trio

from actors.config import Settings
from actors.debate.pool import DebatePool
from actors.errors import DiskFull, StoreBusy
from actors.coordinator import DebateSummary, run_status
from actors.report import advice, outcome_to_dict, scan_report
from messages.debate import DebateStatus
from messages.progress import PhaseStarted
from messages.scan import Phase, RunStatus
from messages.storage import FinishRun, RecordPhase, SaveAgentOutcome, SaveCheckpoint, SaveDebate
from tests.debate.fakes import FakeChat, breaker_actor_from, memory_store
from tests.test_coordinator import _scan


async def _scan_with_pool(ms, *, latency=1.0, **kwargs):
    async with breaker_actor_from(Settings(breaker_failures=99, breaker_cooldown=30), lambda e: None) as breaker:
        pool = DebatePool(FakeChat(latency=latency), store=ms[1], breaker=breaker.client, publish=lambda e: None,
                          concurrency=3)
        return await _scan(ms, debate=pool.run, **kwargs)


async def test_unsaved_theses_make_the_run_partial_naming_them(autojump_clock):
    """One ticker's theses and debate row refused (locked past the bound): PARTIAL, reason names them; no COMPLETED."""
    async with memory_store() as ms:
        memory = ms[0]
        victim = {}

        def refuse_second(command):
            if isinstance(command, (SaveAgentOutcome, SaveDebate)):
                ticker = command.outcome.ticker if isinstance(command, SaveAgentOutcome) else command.finished.ticker
                victim.setdefault("ticker", ticker)
                return ticker == victim["ticker"]
            return False

        memory.fail_matching(refuse_second, StoreBusy("database is locked by another connection"))
        outcome, _ = await _scan_with_pool(ms)
        run = memory.runs["run-c"]
        phase = memory.phases[("run-c", Phase.AI_DEBATE)]
    ticker = victim["ticker"]
    expected = f"3 theses and 1 debate row ({ticker}) not saved: "
    assert outcome.status is RunStatus.PARTIAL and run.status is RunStatus.PARTIAL
    assert run.status_reason.startswith(expected) and "database is locked" in run.status_reason
    assert run.finished_at is not None and (run.debates_requested, run.debates_completed) == (5, 5)
    assert phase.status == "partial" and expected in phase.detail
    assert outcome.unsaved == (run.status_reason,)
    report = outcome_to_dict(outcome, db="mem")
    row = next(r for r in report["results"] if r["ticker"] == ticker)
    assert row["debate"]["saved"] is False and row["saved"] is True
    assert [t["saved"] for t in row["debate"]["theses"]] == [False, False, False]
    others = [r for r in report["results"] if r["debate"] and r["ticker"] != ticker]
    assert len(others) == 4 and all(r["debate"]["saved"] for r in others)
    assert report["unsaved"] == [run.status_reason]


async def test_disk_full_at_the_checkpoint_shows_the_results_marked_unsaved(autojump_clock):
    """Checkpoint refused: FAILED, results kept and marked unsaved, advice does not say 'Nothing was ranked'."""
    def fail_checkpoint(event, memory):
        if isinstance(event, PhaseStarted) and event.phase is Phase.PERSIST:
            memory.fail_matching(lambda c: isinstance(c, SaveCheckpoint), DiskFull("database or disk is full"))

    async with memory_store() as ms:
        outcome, _ = await _scan(ms, publish=fail_checkpoint, disabled="x")
        run = ms[0].runs["run-c"]
    assert outcome.status is RunStatus.FAILED and run.status is RunStatus.FAILED
    assert outcome.results_saved is False and len(outcome.results) == 40 and outcome.status_saved is True
    assert outcome.unsaved[0].startswith("40 ranked tickers not saved (could not save the checkpoint: ")
    report = scan_report(outcome, None, db="mem")
    assert len(report["results"]) == 40 and {r["saved"] for r in report["results"]} == {False}
    text = advice(report)
    assert "Nothing was ranked" not in text and "40 ranked tickers above were computed but NOT saved" in text


async def test_an_unsaved_phase_row_makes_the_run_partial(autojump_clock):
    """The catalysts phase row refused: the scan goes on, ends PARTIAL naming the row."""
    async with memory_store() as ms:
        ms[0].fail_matching(lambda c: isinstance(c, RecordPhase) and c.phase is Phase.CATALYSTS)
        outcome, _ = await _scan(ms, disabled="ai_backend = none")
        run = ms[0].runs["run-c"]
    assert outcome.status is RunStatus.PARTIAL and run.status is RunStatus.PARTIAL
    assert "catalysts phase row not saved" in run.status_reason
    assert len(ms[0].checkpoints["run-c"].results) == 40


async def test_an_unsaved_final_status_is_reported_not_claimed(autojump_clock):
    """FinishRun refused: the outcome lists it unsaved; the stored run stays open for recovery."""
    async with memory_store() as ms:
        ms[0].fail_matching(lambda c: isinstance(c, FinishRun))
        outcome, _ = await _scan(ms, disabled="ai_backend = none")
        run = ms[0].runs["run-c"]
    assert outcome.status is RunStatus.COMPLETED and outcome.status_saved is False
    assert outcome.unsaved and outcome.unsaved[-1].startswith("final status COMPLETED not saved: ")
    assert run.status is RunStatus.PARTIAL and run.finished_at is None


async def test_interrupted_mid_debate_records_the_phase_and_the_debates_in_flight(autojump_clock):
    """Cancelled during the debates: INTERRUPTED 'during ai_debate', every candidate has a debates row,
    counts from the saved rows."""
    async with memory_store() as ms:
        memory = ms[0]
        with trio.move_on_after(30):
            await _scan_with_pool(ms, latency=100.0)
        run = memory.runs["run-c"]
        debates = [d for (rid, _), d in memory.debates.items() if rid == "run-c"]
    assert run.status is RunStatus.INTERRUPTED
    assert run.status_reason == "interrupted by the user or the service manager during ai_debate"
    assert sorted((d.status.value, d.reason) for d in debates) == sorted(
        [(DebateStatus.CUT_OFF.value, "interrupted")] * 3 + [(DebateStatus.SKIPPED.value, "interrupted")] * 2)
    assert (run.debates_requested, run.debates_completed) == (5, 0)
    assert len(memory.checkpoints["run-c"].results) == 40


class TestRunStatusWithUnsavedRows:
    """run_status(unsaved=...): a run with rows the store refused is never COMPLETED."""

    def test_all_debates_done_but_rows_unsaved_is_partial_naming_them(self):
        """Every debate finished, one row unsaved: PARTIAL, the reason is the unsaved description."""
        assert run_status(DebateSummary(5, 5, None), unsaved=["1 thesis (AAPL) not saved: locked"]) == (
            RunStatus.PARTIAL, "1 thesis (AAPL) not saved: locked")

    def test_skipped_by_configuration_with_an_unsaved_phase_row_keeps_both_reasons(self):
        """Debates off by configuration and a phase row unsaved: PARTIAL, both reasons joined."""
        summary = DebateSummary(0, 0, "skipped by configuration (--no-debate)", status="skipped")
        assert run_status(summary, unsaved=["scoring phase row not saved: full"]) == (
            RunStatus.PARTIAL, "skipped by configuration (--no-debate); scoring phase row not saved: full")
