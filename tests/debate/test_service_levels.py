"""The debate phase's service levels with default settings, in virtual time.

Wires the real health monitor, circuit breaker and pool (``open_debate_runner``) around a
scripted client; the store is the in-memory persister.
"""

import datetime as dt
import random

import trio

from actors.debate.wiring import open_debate_runner
from actors.llm.outcome import FailureKind
from messages.debate import DebateStatus
from messages.health import HealthStatus
from messages.storage import BeginRun
from tests.debate.fakes import FakeChat, memory_store, settings, ticker_results

RUN = "run-sl"


async def _phase(client: FakeChat, n: int = 10, **overrides):
    s = settings(**overrides)
    async with memory_store() as (memory, store):
        await store.send(BeginRun(RUN, dt.datetime(2026, 7, 24, tzinfo=dt.timezone.utc), "sim", n))
        def factory(observer):
            client.observer = observer
            return client
        async with open_debate_runner(s, store=store, publish=lambda e: None, disabled=None,
                                      client_factory=factory) as (runner, disabled):
            assert disabled is None
            start = trio.current_time()
            summary = await runner(RUN, ticker_results(n))
            elapsed = trio.current_time() - start
    assert client.closed
    return summary, elapsed, memory


async def test_llm_down_ends_the_phase_in_under_a_second(autojump_clock):
    """Connection refused: the health check says unreachable and every debate is skipped at once."""
    summary, elapsed, memory = await _phase(FakeChat(probe_status=HealthStatus.UNREACHABLE))
    assert elapsed < 1.0
    assert summary.status == "skipped" and summary.skipped_reason.startswith("llm_unreachable")
    assert {d.status for d in memory.debates.values()} == {DebateStatus.SKIPPED}
    assert len(memory.debates) == 10


async def test_model_missing_is_reported_as_such(autojump_clock):
    """A missing model skips the phase with reason model_missing."""
    summary, elapsed, _ = await _phase(FakeChat(probe_status=HealthStatus.MODEL_MISSING))
    assert summary.skipped_reason.startswith("model_missing") and elapsed < 1.0


async def test_llm_hung_ends_within_health_timeout_plus_one_second(autojump_clock):
    """A server that accepts and never answers costs the health timeout (3 s), not the call budgets."""
    summary, elapsed, _ = await _phase(FakeChat(probe_status=HealthStatus.TIMEOUT))
    assert elapsed <= 3.0 + 1.0
    assert summary.skipped_reason.startswith("llm_not_responding")
    assert summary.completed == 0


async def test_llm_dying_mid_phase_cuts_off_within_probe_interval_plus_timeout(autojump_clock):
    """After 7 replies the server hangs (chat and /api/tags): the rest is cut off within 2 + 3 + 1 s."""
    client = FakeChat(latency=1.0, hang_after=7)
    summary, elapsed, memory = await _phase(client)
    hang_started = client.calls[7][0]  # the 8th call never returns
    assert elapsed - (hang_started - client.calls[0][0]) <= 2.0 + 3.0 + 1.0 + 0.01
    assert summary.skipped_reason == "llm_stopped_responding"
    statuses = [d.status for d in summary.finished]
    assert DebateStatus.CUT_OFF in statuses and DebateStatus.SKIPPED in statuses
    assert statuses.count(DebateStatus.COMPLETED) < 10


async def test_transient_failures_still_complete_nine_of_ten_within_twice_the_happy_path(autojump_clock):
    """35 % of attempts fail (500s and bad JSON) with retries: >= 9 of 10 finish in <= 2x the ideal."""
    rng = random.Random(35)
    kinds = [FailureKind.HTTP_STATUS, FailureKind.INVALID_OUTPUT]

    def script(ticker, role, attempt):
        return rng.choice(kinds) if rng.random() < 0.35 else None

    latency = 1.0
    happy = 4 * 3 * latency
    client = FakeChat(latency=latency, script=script, max_attempts=4, retry_delay=latency)
    summary, elapsed, _ = await _phase(client)
    assert summary.completed >= 9
    assert elapsed <= 2 * happy


async def test_happy_path_phase_is_within_five_percent_of_ideal(autojump_clock):
    """With a healthy LLM the phase takes ceil(10/3) * 3 calls * latency (+ the health check)."""
    summary, elapsed, _ = await _phase(FakeChat(latency=1.0))
    assert summary.completed == 10
    assert elapsed <= 1.05 * 12.0
