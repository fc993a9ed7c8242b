"""The debate schedule: makespan against the lower bound, and debates completed by a deadline
against depth-first, for n = 1..30 tickers on c = 1..8 slots.

``depth_first_completed`` is the reference: one worker per debate, bull → bear → risk, the next
ticker by rank when a worker frees up (the pool before this schedule). The pure tests replay the
schedule in a small event loop with every order of simultaneous completions shuffled; the
virtual-time tests run the real pool (breaker, memory store) around a client whose every call
takes 1 s.
"""

from __future__ import annotations

import datetime as dt
import math
import random

import pytest
import trio

from actors.config import Settings
from actors.debate.pool import DebatePool
from actors.debate.schedule import DebateSchedule
from messages.debate import AgentRole, DebateStatus
from messages.storage import BeginRun
from tests.debate.fakes import FakeChat, breaker_actor_from, memory_store, ticker_results

SIZES = [(n, c) for n in range(1, 31) for c in range(1, 9)]


def lower_bound(n: int, c: int) -> int:
    """Step times no schedule can beat: the longest chain, or all 3n steps spread over c slots."""
    return max(3, math.ceil(3 * n / c))


def depth_first_completed(n: int, c: int, deadline: float, latency: float = 1.0) -> int:
    """Debates depth-first finishes by ``deadline``: c at a time, each 3 calls long."""
    return min(n, c * math.floor(deadline / (3 * latency)))


def deadlines(n: int, c: int) -> list[float]:
    """Deadlines between step ends (never on one), from too short for a debate to past the end."""
    bound = lower_bound(n, c)
    return sorted({2.5, 3.5, 4.5, bound / 2 + 0.25, bound - 0.5, bound + 0.5})


def replay(n: int, c: int, *, deadline: float | None, rng: random.Random) -> tuple[list[float], float]:
    """Run the schedule with 1 s steps, reporting simultaneous ends in a random order and
    sometimes filling slots between two of them (as the pool's dispatcher may). Returns the
    completion times and the end."""
    schedule = DebateSchedule(n, deadline=deadline)
    running: dict[int, float] = {}
    completions: list[float] = []
    now = 0.0

    def fill() -> None:
        while len(running) < c and (index := schedule.next_step(now, c)) is not None:
            running[index] = now + 1.0

    fill()
    while running:
        now = min(running.values())
        if deadline is not None and now > deadline:
            break
        ending = [i for i, end in running.items() if end == now]
        rng.shuffle(ending)
        for index in ending:
            del running[index]
            last = schedule.step_of(index) == 2
            schedule.step_finished(index, now)
            if last:
                completions.append(now)
            if rng.random() < 0.5:
                fill()
        fill()
    return completions, now


class TestPure:
    def test_makespan_is_the_lower_bound(self):
        """Without a binding deadline every size ends after exactly max(3, ceil(3n/c)) step times."""
        rng = random.Random(16)
        for n, c in SIZES:
            for _ in range(2):
                completions, end = replay(n, c, deadline=None, rng=rng)
                assert (len(completions), end) == (n, lower_bound(n, c)), (n, c)

    def test_never_fewer_completed_by_a_deadline_than_depth_first(self):
        """For every size and deadline, completed-by-deadline >= the depth-first reference."""
        rng = random.Random(8)
        better = 0
        for n, c in SIZES:
            for deadline in deadlines(n, c):
                for _ in range(2):
                    completions, _ = replay(n, c, deadline=deadline, rng=rng)
                    done = sum(1 for t in completions if t <= deadline)
                    reference = depth_first_completed(n, c, deadline)
                    assert done >= reference, (n, c, deadline, done, reference)
                    better += done > reference
        assert better > 0  # the deadline-aware plan often beats depth-first, never loses to it

    def test_started_debates_go_first_until_the_end_needs_a_new_one(self):
        """10 tickers, 3 slots: the first 6 debates run depth-first; the 10th starts 3 step times before the end."""
        schedule = DebateSchedule(10)
        starts: dict[int, float] = {}
        running: dict[int, float] = {}
        now = 0.0
        while not schedule.finished:
            while len(running) < 3 and (index := schedule.next_step(now, 3)) is not None:
                starts.setdefault(index, now)
                running[index] = now + 1
            now = min(running.values())
            for index in [i for i, end in running.items() if end == now]:
                del running[index]
                schedule.step_finished(index, now)
        assert [starts[i] for i in range(6)] == [0, 0, 0, 3, 3, 3]
        assert starts[9] == 7 and now == 10

    def test_a_failed_debate_frees_its_remaining_steps(self):
        """step_finished(more=False) ends the debate: its later steps are never scheduled."""
        schedule = DebateSchedule(2)
        assert (schedule.next_step(0.0, 1), schedule.next_step(0.0, 1)) == (0, 1)
        schedule.step_finished(0, 1.0, more=False)
        assert schedule.next_step(1.0, 1) is None  # debate 1 is in flight, debate 0 is over
        schedule.step_finished(1, 1.0)
        assert schedule.next_step(1.0, 1) == 1 and schedule.step_of(1) == 1

    def test_bad_arguments_are_named(self):
        with pytest.raises(ValueError, match="count must be >= 0"):
            DebateSchedule(-1)
        with pytest.raises(ValueError, match="no step in flight"):
            DebateSchedule(1).step_finished(0, 1.0)


# -- the real pool in virtual time ------------------------------------------------------------


async def _pool_run(store, run_id: str, n: int, c: int, phase_timeout: float):
    await store.send(BeginRun(run_id, dt.datetime(2026, 7, 24, tzinfo=dt.timezone.utc), "sim", n))
    async with breaker_actor_from(Settings(), lambda e: None) as breaker:
        pool = DebatePool(FakeChat(latency=1.0), store=store, breaker=breaker.client, publish=lambda e: None,
                          concurrency=c, phase_timeout=phase_timeout)
        start = trio.current_time()
        summary = await pool.run(run_id, ticker_results(n))
        return summary, trio.current_time() - start


POOL_SIZES = (1, 2, 3, 4, 5, 7, 10, 11, 16, 23, 30)


@pytest.mark.parametrize("c", range(1, 9))
async def test_pool_meets_the_bound_and_beats_depth_first_by_every_deadline(autojump_clock, c):
    """The real pool, n in 1..30 on c slots: phase time == bound; by each deadline >= depth-first."""
    async with memory_store() as (memory, store):
        for n in POOL_SIZES:
            summary, elapsed = await _pool_run(store, f"b-{n}", n, c, 600.0)
            assert summary.completed == n
            assert elapsed == pytest.approx(lower_bound(n, c), abs=1e-6), (n, c)
            for deadline in sorted({3.5, lower_bound(n, c) / 2 + 0.25, lower_bound(n, c) - 0.5}):
                if deadline >= lower_bound(n, c):
                    continue
                summary, elapsed = await _pool_run(store, f"d-{n}-{deadline}", n, c, deadline)
                assert summary.completed >= depth_first_completed(n, c, deadline), (n, c, deadline)
                statuses = {d.status for d in summary.finished}
                assert statuses <= {DebateStatus.COMPLETED, DebateStatus.CUT_OFF, DebateStatus.SKIPPED}
        # every thesis of a completed debate was saved, in role order per ticker
        theses = [o for o in memory.outcomes if o.run_id == "b-30"]
        assert len(theses) == 90
        for ticker in {o.ticker for o in theses}:
            assert [o.role for o in theses if o.ticker == ticker] == [AgentRole.BULL, AgentRole.BEAR, AgentRole.RISK]
