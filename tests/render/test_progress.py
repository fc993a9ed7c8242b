"""What the progress display shows: the debate bar moves per debate, the LLM's state, skipped is not full."""

from __future__ import annotations

from actors.render.progress import ProgressState
from messages.debate import DebateFinished, DebateStatus, Verdict
from messages.health import BreakerState, BreakerStateName
from messages.llm import AttemptOutcome, BreakerMeaning
from messages.progress import PhaseFinished, PhaseProgress, PhaseStarted
from messages.scan import Phase

RUN = "run-1"


def _debate(ticker: str, status: DebateStatus = DebateStatus.COMPLETED) -> DebateFinished:
    completed = status is DebateStatus.COMPLETED
    return DebateFinished(RUN, ticker, status, Verdict.TAKE if completed else None, 0.7 if completed else None,
                          None if completed else "deadline")


def test_the_debate_bar_advances_per_finished_debate():
    """Each DebateFinished moves the ai_debate line by one; the phase's end fills it."""
    state = ProgressState()
    state.handle(PhaseStarted(RUN, Phase.AI_DEBATE, 10))
    seen = []
    for i in range(4):
        assert state.handle(_debate(f"T{i}")) == "ai_debate"
        seen.append(state.phases["ai_debate"].done)
    assert seen == [1, 2, 3, 4]
    state.handle(PhaseFinished(RUN, Phase.AI_DEBATE, "ok", 3.0, 0))
    assert (state.phases["ai_debate"].done, state.phases["ai_debate"].total) == (10, 10)


def test_failed_attempts_and_an_open_breaker_show_beside_the_debate_bar():
    """Failed attempts are counted; a breaker that is not closed is named with its reason; cut-off debates counted."""
    state = ProgressState()
    state.handle(PhaseStarted(RUN, Phase.AI_DEBATE, 10))
    state.handle(AttemptOutcome(kind=None, meaning=BreakerMeaning.ANSWERED))
    assert state.phases["ai_debate"].note == ""
    state.handle(AttemptOutcome(kind="http_status", meaning=BreakerMeaning.ANSWERED_ERROR, http_status=500))
    state.handle(AttemptOutcome(kind="stall", meaning=BreakerMeaning.NOT_RESPONDING))
    assert "2 failed LLM attempts" in state.phases["ai_debate"].note
    state.handle(BreakerState(BreakerStateName.OPEN, "3 consecutive failures: stall x3", 12.0))
    state.handle(_debate("T1", DebateStatus.CUT_OFF))
    note = state.phases["ai_debate"].note
    assert "breaker open: 3 consecutive failures" in note and "1 cut off" in note
    assert "stall x3" not in note  # the reason's detail is on the status line, not repeated here
    state.handle(BreakerState(BreakerStateName.CLOSED, "probe ok", 40.0))
    assert "breaker" not in state.phases["ai_debate"].note


def test_a_skipped_phase_is_shown_skipped_not_full():
    """Skipped debates (LLM down): the bar stays at 0 of 10 and says skipped with the reason."""
    state = ProgressState()
    state.handle(PhaseStarted(RUN, Phase.AI_DEBATE, 10))
    for i in range(10):  # skip_all publishes one SKIPPED per candidate before the phase ends
        state.handle(_debate(f"T{i}", DebateStatus.SKIPPED))
    state.handle(PhaseFinished(RUN, Phase.AI_DEBATE, "skipped", 0.01, 0, "llm_unreachable: refused"))
    line = state.phases["ai_debate"]
    assert line.status == "skipped"
    assert line.note == "skipped: llm_unreachable"  # the detail is said once, on the status line
    assert (line.done, line.total) == (0, 10)  # not a full bar


def test_debates_skipped_when_the_breaker_opens_mid_phase_do_not_fill_the_bar():
    """3 completed, 2 cut off, 5 skipped: the bar ends at 5 of 10 with the counts beside it."""
    state = ProgressState()
    state.handle(PhaseStarted(RUN, Phase.AI_DEBATE, 10))
    for i in range(3):
        state.handle(_debate(f"C{i}"))
    for i in range(2):
        state.handle(_debate(f"X{i}", DebateStatus.CUT_OFF))
    for i in range(5):
        state.handle(_debate(f"S{i}", DebateStatus.SKIPPED))
    assert state.phases["ai_debate"].done == 5
    state.handle(PhaseFinished(RUN, Phase.AI_DEBATE, "partial", 9.0, 7, "llm_stopped_responding"))
    line = state.phases["ai_debate"]
    assert (line.done, line.total) == (5, 10)
    assert line.note.startswith("partial: llm_stopped_responding") and "2 cut off, 5 skipped" in line.note


def test_progress_events_move_the_fetch_and_options_lines():
    """PhaseProgress sets done/total; events for a phase not shown are ignored."""
    state = ProgressState()
    assert state.handle(PhaseProgress(RUN, Phase.OPTIONS, 3, 50)) is None
    state.handle(PhaseStarted(RUN, Phase.OPTIONS, 50))
    state.handle(PhaseProgress(RUN, Phase.OPTIONS, 3, 50))
    assert (state.phases["options"].done, state.phases["options"].total) == (3, 50)
