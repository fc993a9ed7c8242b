"""The debate phase's service levels with default settings, in virtual time, through the real path.

The real OllamaChat (built from settings as the product builds it) talks to :class:`MockOllama`
over ``httpx.MockTransport``; its observer feeds the real circuit breaker; the real health
monitor and pool run around it (``open_debate_runner``); the store is the in-memory persister.
Retry delays are the defaults (2/4/8 s) unless a test says otherwise.
"""

import math

from messages.debate import DebateStatus
from tests.debate.fakes import MockOllama, debate_phase

LATENCY = 1.0
#: The schedule's lower bound for 10 tickers on 3 slots: max(3, ceil(3 n / c)) calls deep.
LOWER_BOUND = max(3, math.ceil(3 * 10 / 3)) * LATENCY


async def test_llm_down_ends_the_phase_in_under_a_second(autojump_clock):
    """Connection refused: the health check says unreachable and every debate is skipped at once."""
    phase = await debate_phase(MockOllama(refuse=True))
    assert phase.seconds < 1.0
    assert phase.summary.status == "skipped" and phase.summary.skipped_reason.startswith("llm_unreachable")
    assert {d.status for d in phase.memory.debates.values()} == {DebateStatus.SKIPPED}
    assert len(phase.memory.debates) == 10


async def test_model_missing_is_reported_as_such(autojump_clock):
    """A model that is not pulled skips the phase with reason model_missing."""
    phase = await debate_phase(MockOllama(models=["other:7b"]), ollama_model="llama3.1:8b")
    assert phase.summary.skipped_reason.startswith("model_missing") and phase.seconds < 1.0


async def test_llm_hung_ends_within_health_timeout_plus_one_second(autojump_clock):
    """A server that accepts and never answers costs the health timeout (3 s), not the call budgets."""
    server = MockOllama(hang_all=True)
    phase = await debate_phase(server)
    assert phase.seconds <= 3.0 + 1.0
    assert phase.summary.skipped_reason.startswith("llm_not_responding")
    assert phase.summary.completed == 0 and server.chats == []


async def test_llm_dying_mid_phase_cuts_off_within_probe_interval_plus_timeout(autojump_clock):
    """After 7 chat requests the server hangs (chat and /api/tags): the rest is cut off within 2 + 3 + 1 s."""
    server = MockOllama(hang_after=7, latency_first=LATENCY)
    phase = await debate_phase(server)
    hang_started = server.chats[7][0]  # the 8th chat request never gets an answer
    phase_started = server.chats[0][0]
    assert phase.seconds - (hang_started - phase_started) <= 2.0 + 3.0 + 1.0 + 0.01
    assert phase.summary.skipped_reason == "llm_stopped_responding"
    statuses = [d.status for d in phase.summary.finished]
    assert DebateStatus.CUT_OFF in statuses and DebateStatus.SKIPPED in statuses
    assert statuses.count(DebateStatus.COMPLETED) < 10
    assert "health: timeout" in phase.openings[0].reason


async def test_happy_path_phase_is_within_a_fifth_of_the_lower_bound(autojump_clock):
    """With a healthy LLM all 10 finish; depth-first takes ceil(10/3) x 3 calls (12 s) of the 10 s bound."""
    phase = await debate_phase(MockOllama(latency_first=LATENCY))
    assert phase.summary.completed == 10
    assert phase.seconds <= 1.2 * LOWER_BOUND + 0.1
    assert phase.openings == []
