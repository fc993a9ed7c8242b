"""What the coordinator does for the terminal: options progress per ticker, debate slots to tickers with a
contract, and a phase with no candidate skipped by configuration (virtual time)."""

from __future__ import annotations

from actors.config import Settings
from actors.coordinator import DebateSummary
from messages.debate import DebateFinished, DebateStatus, Verdict
from messages.progress import PhaseFinished, PhaseProgress
from messages.scan import Phase, RunStatus
from tests.debate.fakes import memory_store
from tests.test_coordinator import _scan


async def test_the_options_phase_reports_progress_per_ticker(autojump_clock):
    """top_n_options = 10: ten PhaseProgress events for options, 1..10 of 10, before the phase ends."""
    async with memory_store() as ms:
        _, events = await _scan(ms, disabled="ai_backend = none")
    done = [e.done for e in events if isinstance(e, PhaseProgress) and e.phase is Phase.OPTIONS]
    assert done == list(range(1, 11))
    assert all(e.total == 10 for e in events if isinstance(e, PhaseProgress) and e.phase is Phase.OPTIONS)


async def _debated(settings: Settings) -> tuple[list[str], object]:
    seen: list[str] = []

    async def debate(run_id, candidates):
        seen.extend(c.ticker for c in candidates)
        finished = tuple(DebateFinished(run_id, c.ticker, DebateStatus.COMPLETED, Verdict.TAKE, 0.6, None)
                         for c in candidates)
        return DebateSummary(len(candidates), len(candidates), None, finished)

    async with memory_store() as ms:
        outcome, events = await _scan(ms, debate=debate, settings=settings)
    return seen, (outcome, events)


async def test_debate_slots_go_to_tickers_with_a_contract_unless_the_setting_says_otherwise(autojump_clock):
    """Default: the best 8 with a contract; debate_without_contract = true: the best 8 ranked, contract or not."""
    seen, (outcome, _) = await _debated(Settings(source="sim", top_n_options=10, top_n_ai_debate=8))
    with_contract = [r.ticker for r in outcome.results if r.option is not None]
    without = [r.ticker for r in outcome.results[:8] if r.option is None]
    assert without, "the sim market should leave some of the best 8 without a contract"
    assert seen == with_contract[:8]
    seen, (outcome, _) = await _debated(Settings(source="sim", top_n_options=10, top_n_ai_debate=8,
                                                 debate_without_contract=True))
    assert seen == [r.ticker for r in outcome.results[:8]]


async def test_no_ticker_with_a_contract_skips_the_debates_by_configuration(autojump_clock):
    """top_n_options = 0 (no contracts): no debate starts; the run is COMPLETED, the phase says why."""
    seen, (outcome, events) = await _debated(Settings(source="sim", top_n_options=0, top_n_ai_debate=5))
    assert seen == []
    assert outcome.status is RunStatus.COMPLETED
    finished = [e for e in events if isinstance(e, PhaseFinished) and e.phase is Phase.AI_DEBATE]
    assert finished[0].status == "skipped" and "no ticker with a contract" in finished[0].detail
