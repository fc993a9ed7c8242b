"""The debate phase on a server that serves P requests at once, with 8 slots configured (issue 16).

Virtual time; the real pool, breaker (with the client's observer), adaptive limiter and
``OllamaChat`` over ``httpx.MockTransport`` against ``CapacityServer``: 0.2 s per reply, a 1 s
first-chunk budget — the setting where a fixed concurrency of 8 lost every debate.
"""

from __future__ import annotations

import datetime as dt
import math

import httpx
import pytest

from actors.breaker.supervised import AttemptReporter
from actors.config import Settings
from actors.debate.pool import DebatePool
from actors.llm import RetryPolicy, Timeouts
from actors.llm.limiter import AdaptiveLimit, ConcurrencyLimiter
from actors.llm.ollama_client import OllamaChat
from messages.storage import BeginRun
from tests.debate.fakes import breaker_actor_from, memory_store, ticker_results
from tests.llm.capacity_server import CapacityServer

LATENCY = 0.2
TIMEOUTS = Timeouts(connect=0.5, first_chunk=1.0, stall=1.0, total=5.0)


async def _phase(capacity: int, limiter: ConcurrencyLimiter, n: int = 10):
    server = CapacityServer(capacity, prefill=0.01, generation=LATENCY - 0.01)
    async with memory_store() as (memory, store):
        await store.send(BeginRun("cap", dt.datetime(2026, 7, 24, tzinfo=dt.timezone.utc), "sim", n))
        async with breaker_actor_from(Settings(), lambda e: None) as breaker:
            client = OllamaChat(model="m", host="http://ollama.test:11434", transport=httpx.MockTransport(server),
                                timeouts=TIMEOUTS, retry=RetryPolicy(delays=(0.2, 0.4, 0.8), jitter=0),
                                observer=AttemptReporter(breaker.address))
            try:
                pool = DebatePool(client, store=store, breaker=breaker.client, publish=lambda e: None,
                                  limiter=limiter, phase_timeout=60.0)
                summary = await pool.run("cap", ticker_results(n))
            finally:
                await client.aclose()
    return summary, server


@pytest.mark.parametrize("capacity", [1, 2, 4])
async def test_adaptive_slots_finish_every_debate_without_a_timeout(autojump_clock, capacity):
    """P = 1, 2, 4 with 8 configured: 10/10 debates, no first-chunk timeout, phase <= 1.15 x ceil(30/P) x 0.2 s."""
    limiter = ConcurrencyLimiter(AdaptiveLimit(maximum=8, first_chunk_timeout=TIMEOUTS.first_chunk))
    summary, server = await _phase(capacity, limiter)
    assert summary.completed == 10
    assert limiter.statistics().timeouts == 0
    assert max(s.queued for s in server.served) < TIMEOUTS.first_chunk / 2
    assert summary.seconds <= 1.15 * math.ceil(30 / capacity) * LATENCY


async def test_fixed_eight_slots_on_a_one_at_a_time_server_lose_debates(autojump_clock):
    """The same phase pinned at 8 (the old behaviour): queued calls burn the first-chunk budget."""
    limiter = ConcurrencyLimiter.fixed(8)
    summary, server = await _phase(1, limiter)
    assert summary.completed < 10  # 0 of 10 today: three first-chunk timeouts open the breaker
    assert sum(1 for s in server.served if s.first_chunk is None) >= 3  # gave up while queued


def test_the_debate_wiring_builds_the_limiter_from_settings():
    """ai_concurrency_min / ai_debate_concurrency bound the limit; equal values pin it."""
    from actors.config import Settings
    from actors.debate.wiring import llm_limiter

    adaptive = llm_limiter(Settings(ai_concurrency_min=2, ai_debate_concurrency=6, ai_first_chunk_timeout=30.0))
    assert (adaptive.policy.minimum, adaptive.policy.maximum, adaptive.limit) == (2, 6, 3)
    assert adaptive.policy.first_chunk_timeout == 30.0 and not adaptive.policy.pinned
    pinned = llm_limiter(Settings(ai_concurrency_min=4, ai_debate_concurrency=4))
    assert pinned.policy.pinned and pinned.limit == 4
