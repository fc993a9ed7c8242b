"""The adaptive LLM concurrency limit: its policy, its slots, and convergence through the real client.

Convergence runs ``OllamaChat`` over ``httpx.MockTransport`` against ``CapacityServer`` (an
Ollama-like server serving P requests at once and queueing the rest) in virtual time: the
first-chunk times the client's ``ChunkTimer`` reports are the limiter's only signal.
"""

from __future__ import annotations

import random
import statistics

import httpx
import pytest
import trio
import trio.testing

from actors.llm import ChatMessage, RetryPolicy, Timeouts
from actors.llm.budget import FIRST_CHUNK_LISTENER
from actors.llm.limiter import AdaptiveLimit, ConcurrencyLimiter
from actors.llm.ollama_client import OllamaChat
from messages.debate import Thesis

from tests.llm.capacity_server import CapacityServer

MESSAGES = (ChatMessage("system", "You are a bull."), ChatMessage("user", "Ticker: AAPL"))


class TestAdaptiveLimit:
    """The pure policy."""

    def test_bounds_are_checked_and_named(self):
        """minimum > maximum, or a bound < 1, is refused with the field's name."""
        with pytest.raises(ValueError, match=r"minimum \(4\) must be <= maximum \(2\)"):
            AdaptiveLimit(minimum=4, maximum=2)
        with pytest.raises(ValueError, match="maximum must be an integer >= 1"):
            AdaptiveLimit(maximum=0)

    def test_starts_at_three_within_bounds(self):
        """The first limit is 3 (the old fixed default), clamped into [minimum, maximum]."""
        assert AdaptiveLimit(maximum=8).current == 3
        assert AdaptiveLimit(maximum=2).current == 2
        assert AdaptiveLimit(minimum=4, maximum=8).current == 4

    def test_slow_start_doubles_what_the_server_proved(self):
        """An unqueued first chunk with x of ours streaming (the whole limit in use) makes the limit 2x."""
        limit = AdaptiveLimit(maximum=10, initial=2)
        for expected in (4, 8, 10, 10):
            limit.on_first_chunk(0.1, in_flight=limit.current, streaming=limit.current)
            assert limit.current == expected

    def test_slow_start_allows_for_a_call_that_just_ended(self):
        """x at the server when sent, none other streaming now: only x - 1 are proven (one may have ended)."""
        limit = AdaptiveLimit(maximum=10, initial=3)
        limit.on_first_chunk(0.1, in_flight=3, streaming=1)
        assert limit.current == 4

    def test_idle_capacity_does_not_grow_the_limit(self):
        """A first chunk of a call made with part of the limit unused proves nothing new."""
        limit = AdaptiveLimit(maximum=8, initial=6)
        limit.on_first_chunk(0.1, in_flight=5)
        assert limit.current == 6

    def test_a_queued_first_chunk_drops_below_what_was_in_flight(self):
        """Waiting a service time above the floor with 5 in flight means the server serves at most 4."""
        limit = AdaptiveLimit(maximum=8, initial=8)
        limit.on_first_chunk(0.1, in_flight=1)
        limit.on_service(1.0)
        limit.on_first_chunk(1.1, in_flight=5)
        assert limit.current == 4 and not limit.slow_start

    def test_a_queued_call_that_arrived_out_of_order_does_not_undercut_the_proof(self):
        """Three sent together, the third served at once (2 proven), the second queued: the limit stays >= 2."""
        limit = AdaptiveLimit(maximum=8, initial=4)
        limit.on_first_chunk(0.2, in_flight=1, sent_at=0.0, streaming=1)
        limit.on_service(0.2)
        limit.on_first_chunk(0.2, in_flight=3, sent_at=0.0, streaming=1)
        limit.on_first_chunk(0.4, in_flight=2, sent_at=0.0)
        assert limit.current == 2 and not limit.slow_start  # x - 1 = 1 would starve a server serving 2

    def test_a_wait_of_several_replies_halves_the_limit(self):
        """Queued for over 1.5 reply times (the server shrank): the limit at least halves."""
        limit = AdaptiveLimit(maximum=8, initial=8)
        limit.on_first_chunk(0.1, in_flight=1)
        limit.on_service(1.0)
        limit.on_first_chunk(2.2, in_flight=8)
        assert limit.current == 4

    def test_queueing_is_not_judged_before_a_reply_time_is_known(self):
        """Before any reply has ended, a slow first chunk (a long prompt?) lowers nothing."""
        limit = AdaptiveLimit(maximum=8, initial=4)
        limit.on_first_chunk(0.1, in_flight=1)
        limit.on_first_chunk(0.9, in_flight=2)
        assert limit.current == 4 and limit.counts["queued"] == 0

    def test_small_jitter_is_not_queueing(self):
        """A first chunk a little above the floor (under a quarter of a service time) is not queueing."""
        limit = AdaptiveLimit(maximum=8, initial=4)
        limit.on_first_chunk(0.1, in_flight=1)
        limit.on_service(1.0)
        assert not limit.queued(0.3) and limit.queued(0.4)

    def test_one_decrease_per_round_of_calls(self):
        """Queued first chunks of calls sent before the latest decrease do not lower the limit again."""
        limit = AdaptiveLimit(maximum=8, initial=8)
        limit.on_first_chunk(0.1, in_flight=1, sent_at=0.0)
        limit.on_service(1.0)
        limit.on_first_chunk(1.1, in_flight=7, sent_at=0.0)  # decided at 1.1 s
        assert limit.current == 6
        limit.on_first_chunk(1.1, in_flight=3, sent_at=0.05)  # sent under the old limit
        limit.on_first_chunk_timeout(5.0, in_flight=8, sent_at=0.05)
        assert limit.current == 6 and limit.counts["queued"] == 2
        limit.on_first_chunk(1.1, in_flight=6, sent_at=1.2)  # sent after the decrease: counts
        assert limit.current == 5

    def test_first_chunk_timeout_halves_the_limit(self):
        """No first chunk within the budget halves the limit (never below the minimum)."""
        limit = AdaptiveLimit(maximum=8, initial=8)
        limit.on_first_chunk_timeout(90.0, in_flight=8)
        assert limit.current == 4
        for _ in range(5):
            limit.on_first_chunk_timeout(90.0, in_flight=8)
        assert limit.current == 1

    def test_probing_adds_one_per_four_rounds_after_slow_start(self):
        """After the first queueing, ``4 × limit`` unqueued first chunks add one slot."""
        limit = AdaptiveLimit(maximum=8, initial=8)
        limit.on_first_chunk(0.1, in_flight=1)
        limit.on_service(1.0)
        limit.on_first_chunk(2.0, in_flight=4)
        assert limit.current == 3
        for _ in range(11):
            limit.on_first_chunk(0.1, in_flight=3)
        assert limit.current == 3
        limit.on_first_chunk(0.1, in_flight=3)
        assert limit.current == 4

    def test_no_probing_when_a_service_time_nears_the_first_chunk_timeout(self):
        """A probe costs up to one service time of queueing: not allowed above half the timeout."""
        limit = AdaptiveLimit(maximum=8, initial=2, first_chunk_timeout=10.0)
        limit.on_service(6.0)
        limit.on_first_chunk(0.1, in_flight=2)
        assert limit.current == 2

    def test_equal_bounds_pin_the_limit(self):
        """minimum == maximum: samples never move it."""
        limit = AdaptiveLimit(minimum=3, maximum=3)
        limit.on_first_chunk(0.1, in_flight=1)
        limit.on_first_chunk(5.0, in_flight=3)
        limit.on_first_chunk_timeout(9.0, in_flight=3)
        assert limit.current == 3 and limit.pinned


class TestConcurrencyLimiter:
    """Slots under the limit."""

    async def test_never_more_than_the_limit_and_first_come_first_served(self, autojump_clock):
        """With a pinned limit of 2, calls run two at a time in arrival order."""
        limiter = ConcurrencyLimiter.fixed(2)
        started: list[tuple[int, float]] = []

        async def call(i: int) -> None:
            async with limiter.slot():
                started.append((i, trio.current_time()))
                assert limiter.in_flight <= 2
                await trio.sleep(1)

        async with trio.open_nursery() as nursery:
            for i in range(5):
                nursery.start_soon(call, i)
                await trio.testing.wait_all_tasks_blocked()
        assert sorted(started) == [(0, 0), (1, 0), (2, 1), (3, 1), (4, 2)]  # (the same instant runs in any order)
        assert limiter.statistics().max_in_flight == 2

    async def test_a_cancelled_waiter_takes_no_slot(self, autojump_clock):
        """A caller cancelled while waiting leaves the queue; the slot goes to the next one."""
        limiter = ConcurrencyLimiter.fixed(1)
        order: list[str] = []

        async def call(name: str, hold: float) -> None:
            async with limiter.slot():
                order.append(name)
                await trio.sleep(hold)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(call, "a", 1.0)
            await trio.testing.wait_all_tasks_blocked()
            with trio.move_on_after(0.5):
                await call("cancelled", 1.0)
            nursery.start_soon(call, "b", 1.0)
        assert order == ["a", "b"] and limiter.in_flight == 0

    async def test_slot_is_the_first_chunk_listener_only_inside_the_block(self, autojump_clock):
        """``FIRST_CHUNK_LISTENER`` is the slot inside ``async with limiter.slot()`` and None after."""
        limiter = ConcurrencyLimiter.fixed(1)
        async with limiter.slot() as slot:
            assert FIRST_CHUNK_LISTENER.get() is slot
        assert FIRST_CHUNK_LISTENER.get() is None

    async def test_a_larger_limit_wakes_waiters(self, autojump_clock):
        """When a first chunk raises the limit, a waiting caller starts at once."""
        limiter = ConcurrencyLimiter(AdaptiveLimit(maximum=4, initial=1))
        starts: list[float] = []

        async def call() -> None:
            async with limiter.slot() as slot:
                starts.append(trio.current_time())
                slot.attempt_started()
                await trio.sleep(0.1)
                slot.first_chunk(0.1)
                await trio.sleep(0.9)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(call)
            await trio.testing.wait_all_tasks_blocked()
            nursery.start_soon(call)
        assert starts == [0.0, pytest.approx(0.1)]


# -- convergence through the real client ------------------------------------------------------


async def _workload(server: CapacityServer, limiter: ConcurrencyLimiter, *, calls: int, callers: int = 8,
                    timeouts: Timeouts) -> dict:
    """``callers`` tasks share ``calls`` calls through one limiter and a real OllamaChat."""
    client = OllamaChat(model="m", host="http://ollama.test:11434", transport=httpx.MockTransport(server),
                        retry=RetryPolicy(delays=(), jitter=0), timeouts=timeouts)
    left = calls
    outcomes = []
    limits: list[int] = []
    start = trio.current_time()

    async def caller() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            async with limiter.slot():
                outcomes.append(await client.complete(MESSAGES, Thesis))
            limits.append(limiter.limit)

    try:
        async with trio.open_nursery() as nursery:
            for _ in range(callers):
                nursery.start_soon(caller)
    finally:
        await client.aclose()
    return {"outcomes": outcomes, "limits": limits, "elapsed": trio.current_time() - start}


@pytest.mark.parametrize("capacity", [1, 2, 4])
@pytest.mark.parametrize("initial", [1, 8], ids=["from_below", "from_above"])
async def test_limit_converges_to_the_servers_capacity(autojump_clock, capacity, initial):
    """From 1 or from 8, the limit settles at P (probing P + 1 once a round), the server stays busy.

    100 calls of 1 s on a server serving P at once: every call succeeds, the limit ends within
    [P, P + 1] and spends most of the second half there, and the whole takes at most 10 % more
    than 100 / P seconds (the server is never starved).
    """
    server = CapacityServer(capacity)
    limiter = ConcurrencyLimiter(AdaptiveLimit(maximum=8, initial=initial, first_chunk_timeout=30.0))
    result = await _workload(server, limiter, calls=100,
                             timeouts=Timeouts(connect=1, first_chunk=30, stall=30, total=60))
    assert all(o.ok for o in result["outcomes"])
    second_half = result["limits"][50:]
    assert result["limits"][-1] in (capacity, capacity + 1)
    assert sum(1 for x in second_half if x in (capacity, capacity + 1)) >= 0.9 * len(second_half)
    assert result["elapsed"] <= 1.10 * 100 / capacity + 1.0


@pytest.mark.parametrize("capacity", [1, 2, 4])
async def test_queueing_never_reaches_the_first_chunk_timeout(autojump_clock, capacity):
    """Eight callers, a 2.5 s first-chunk budget, 1 s calls: no call waits long enough to time out.

    Before the first sign of queueing (one reply) up to 3 calls are out, so a one-at-a-time
    server may queue a call two replies; from the third second on no call queues more than about
    one reply (a probe).
    """
    server = CapacityServer(capacity)
    limiter = ConcurrencyLimiter(AdaptiveLimit(maximum=8, first_chunk_timeout=2.5))
    result = await _workload(server, limiter, calls=60,
                             timeouts=Timeouts(connect=1, first_chunk=2.5, stall=5, total=10))
    assert [o.failure for o in result["outcomes"] if not o.ok] == []
    assert max(s.queued for s in server.served) <= 2.0 + 1e-9
    assert max(s.queued for s in server.served if s.arrived >= 3) < 1.5
    assert limiter.statistics().timeouts == 0


@pytest.mark.parametrize("capacity", [1, 2, 4])
async def test_no_timeouts_and_a_busy_server_over_many_seeds_of_varying_replies(autojump_clock, capacity):
    """40 seeds per capacity; prefill and reply length vary +-50 % per request (0.5-1.5 s replies).

    With a 4 s first-chunk budget and 8 callers: no call times out; from the fourth second on
    (after the first sign of queueing) none queues 2 s; the limit ends within [P - 1, P + 1] in at least 95 % of
    seeds; and 24 calls take at most 25 % more than 24 / P mean reply times in every seed.
    """
    near = 0
    for seed in range(40):
        server = CapacityServer(capacity, rng=random.Random(seed), spread=0.5)
        limiter = ConcurrencyLimiter(AdaptiveLimit(maximum=8, first_chunk_timeout=4.0))
        start = trio.current_time()
        result = await _workload(server, limiter, calls=24,
                                 timeouts=Timeouts(connect=1, first_chunk=4, stall=5, total=10))
        assert all(o.ok for o in result["outcomes"]), seed
        assert max(s.queued for s in server.served if s.arrived - start >= 4) < 2.0, seed
        assert result["elapsed"] <= 1.25 * 24 / capacity + 1.5, seed
        near += capacity - 1 <= limiter.limit <= capacity + 1
    assert near >= 38


async def test_without_the_limiter_a_one_at_a_time_server_times_out(autojump_clock):
    """The same eight callers pinned at 8 on a one-at-a-time server burn first-chunk timeouts (the bug)."""
    server = CapacityServer(1)
    result = await _workload(server, ConcurrencyLimiter.fixed(8), calls=16,
                             timeouts=Timeouts(connect=1, first_chunk=2.5, stall=5, total=10))
    assert sum(1 for o in result["outcomes"] if o.failure is not None and o.failure.value == "timeout_first_chunk") >= 4


async def test_backs_off_when_the_server_gets_slower_to_start_replies(autojump_clock):
    """Capacity 4 drops to 1 after 20 s (another tenant): first chunks come later, the limit follows.

    The calls already queued at the server when it shrinks wait their turn (the 6 s budget
    covers that) and the limit comes down once per round of calls; from 10 s after the drop the
    limit averages at most 2 and no request queues more than 1.5 service times.
    """
    server = CapacityServer(4)
    limiter = ConcurrencyLimiter(AdaptiveLimit(maximum=8, first_chunk_timeout=6.0))
    seen: list[tuple[float, int]] = []

    async def squeeze() -> None:
        while True:
            seen.append((trio.current_time(), limiter.limit))
            if trio.current_time() >= 20:
                server.capacity = 1
            await trio.sleep(1)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(squeeze)
        result = await _workload(server, limiter, calls=120,
                                 timeouts=Timeouts(connect=1, first_chunk=6, stall=5, total=10))
        nursery.cancel_scope.cancel()
    assert all(o.ok for o in result["outcomes"])
    before = [limit for at, limit in seen if 5 <= at < 20]
    after = [limit for at, limit in seen if at >= 30]
    assert min(before) >= 4
    assert after and statistics.mean(after) <= 2.0
    assert max(s.queued for s in server.served if s.arrived >= 30) < 1.5
