"""The debate pool under virtual time: order, concurrency, failures, deadline (the breaker: tests/breaker)."""

import datetime as dt

import pytest
import trio

from actors.config import Settings
from actors.debate.pool import DebatePool, PoolStatistics
from actors.llm.outcome import FailureKind
from messages.debate import AgentRole, DebateStatus
from messages.storage import BeginRun
from tests.debate.fakes import FakeChat, breaker_actor_from, memory_store, ticker_results

RUN = "run-1"


async def _begin(store):
    await store.send(BeginRun(RUN, dt.datetime(2026, 7, 24, tzinfo=dt.timezone.utc), "sim", 10))


async def _run_pool(client_kwargs, n=10, *, concurrency=3, phase_timeout=600.0, failures=3):
    published = []
    async with memory_store() as (memory, store):
        await _begin(store)
        client = FakeChat(**client_kwargs)
        async with breaker_actor_from(Settings(breaker_failures=failures, breaker_cooldown=30), published.append) as breaker:
            pool = DebatePool(client, store=store, breaker=breaker.client, publish=published.append,
                              concurrency=concurrency, phase_timeout=phase_timeout)
            summary = await pool.run(RUN, ticker_results(n))
    return summary, memory, client, published


async def test_happy_path_matches_the_lower_bound(autojump_clock):
    """10 tickers, 3 slots, 1 s per call: ceil(30/3) * 1 s = 10 s exactly (depth-first took 12)."""
    start = trio.current_time()
    summary, memory, client, _ = await _run_pool({"latency": 1.0})
    assert trio.current_time() - start == pytest.approx(10.0, abs=0.05)
    assert summary.requested == summary.completed == 10
    assert summary.status == "ok"
    assert len(memory.outcomes) == 30
    assert {d.status for d in memory.debates.values()} == {DebateStatus.COMPLETED}


async def test_agents_run_in_order_and_read_earlier_theses(autojump_clock):
    """Per ticker bull → bear → risk; the bear sees the bull's thesis, risk sees both."""
    _, _, client, _ = await _run_pool({"latency": 1.0}, n=4)
    for ticker in ("T00", "T03"):
        calls = [(t, role, msgs) for t, tk, role, msgs in client.calls if tk == ticker]
        assert [role for _, role, _ in calls] == [0, 1, 2]
        assert [t for t, _, _ in calls] == sorted(t for t, _, _ in calls)
        bear_prompt = calls[1][2][-1].content
        risk_prompt = calls[2][2][-1].content
        assert f"{ticker} summary" in bear_prompt and "Bull thesis" in bear_prompt
        assert "Bull thesis" in risk_prompt and "Bear thesis" in risk_prompt


async def test_each_thesis_is_saved_as_soon_as_it_exists(autojump_clock):
    """A thesis is in the store while other debates are still running."""
    async with memory_store() as (memory, store):
        await _begin(store)
        async with breaker_actor_from(Settings(), lambda e: None) as breaker:
            pool = DebatePool(FakeChat(latency=1.0), store=store, breaker=breaker.client, publish=lambda e: None, concurrency=2)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(pool.run, RUN, ticker_results(4))
                await trio.sleep(1.5)
                assert len(memory.outcomes) == 2  # two bulls done, nothing else finished yet
                assert all(o.role is AgentRole.BULL for o in memory.outcomes)


async def test_failed_agent_fails_the_debate_and_risk_never_runs(autojump_clock):
    """A bear that fails ends the debate as FAILED with the kind; no risk call, no made-up verdict."""
    script = lambda ticker, role, attempt: FailureKind.HTTP_STATUS if (ticker == "T01" and role == 1) else None
    summary, memory, client, _ = await _run_pool({"latency": 1.0, "script": script}, n=3, failures=99)
    t01 = memory.debates[(RUN, "T01")]
    assert t01.status is DebateStatus.FAILED
    assert t01.reason == "bear: http_status"
    assert t01.verdict is None and t01.conviction is None
    assert not [c for c in client.calls if c[1] == "T01" and c[2] == 2]
    assert summary.completed == 2
    failed = [o for o in memory.outcomes if o.ticker == "T01" and o.role is AgentRole.BEAR]
    assert failed[0].failure == "http_status" and failed[0].thesis is None


async def test_deadline_cuts_off_running_and_skips_queued(autojump_clock):
    """At the phase deadline running debates are CUT_OFF, queued SKIPPED, finished ones stay.

    4.5 s leaves 4 rounds of 3 slots: 4 debates fit (depth-first finishes 3), the 3 bulls started
    in the fifth round are cut off, the last 3 tickers never start.
    """
    start = trio.current_time()
    summary, memory, _, _ = await _run_pool({"latency": 1.0}, n=10, phase_timeout=4.5)
    assert trio.current_time() - start == pytest.approx(4.5, abs=0.05)
    statuses = [d.status for d in summary.finished]
    assert statuses == [DebateStatus.COMPLETED] * 4 + [DebateStatus.CUT_OFF] * 3 + [DebateStatus.SKIPPED] * 3
    assert summary.status == "partial" and summary.skipped_reason.startswith("deadline")
    cancelled = [o for o in memory.outcomes if o.failure == "cancelled"]
    assert len(cancelled) == 3 and all(o.detail == "cut off: deadline" for o in cancelled)


async def test_two_runs_at_once_share_slots_but_not_state(autojump_clock):
    """One pool, two runs at the same time: each summary and store row belongs to its own run."""
    async with memory_store() as (memory, store):
        for run_id in ("run-a", "run-b"):
            await store.send(BeginRun(run_id, dt.datetime(2026, 7, 24, tzinfo=dt.timezone.utc), "sim", 4))
        async with breaker_actor_from(Settings(), lambda e: None) as breaker:
            pool = DebatePool(FakeChat(latency=1.0), store=store, breaker=breaker.client, publish=lambda e: None,
                              concurrency=4)
            summaries = {}

            async def one(run_id, n):
                summaries[run_id] = await pool.run(run_id, ticker_results(n))

            async with trio.open_nursery() as nursery:
                nursery.start_soon(one, "run-a", 4)
                nursery.start_soon(one, "run-b", 2)
                await trio.sleep(0.5)
                stats = pool.statistics()
                assert stats.running == 4 and stats.queued == 2  # the 4 slots are shared by both runs
    assert summaries["run-a"].completed == 4 and summaries["run-b"].completed == 2
    assert [f.run_id for f in summaries["run-a"].finished] == ["run-a"] * 4
    assert [f.ticker for f in summaries["run-b"].finished] == ["T00", "T01"]
    assert sum(1 for o in memory.outcomes if o.run_id == "run-a") == 12
    assert sum(1 for o in memory.outcomes if o.run_id == "run-b") == 6
    assert pool.statistics() == PoolStatistics(queued=0, running=0, finished=0, calls=18)


async def test_an_interrupted_phase_cuts_off_started_debates_waiting_for_a_slot(autojump_clock):
    """5 tickers on 3 slots, cancelled at 2.5 s: the third round ran T00's risk and the bulls of T03
    and T04 (the latest start for the 5-call end), so T01 and T02 wait with bull and bear done.
    Every started debate is CUT_OFF 'interrupted'; only the calls in flight get a cancelled row."""
    async with memory_store() as (memory, store):
        await _begin(store)
        async with breaker_actor_from(Settings(), lambda e: None) as breaker:
            pool = DebatePool(FakeChat(latency=1.0), store=store, breaker=breaker.client, publish=lambda e: None,
                              concurrency=3)
            with trio.move_on_after(2.5):
                await pool.run(RUN, ticker_results(5))
    assert {t: (d.status, d.reason) for (_, t), d in memory.debates.items()} == {
        t: (DebateStatus.CUT_OFF, "interrupted") for t in ("T00", "T01", "T02", "T03", "T04")}
    cancelled = sorted((o.ticker, o.role) for o in memory.outcomes if o.failure == "cancelled")
    assert cancelled == [("T00", AgentRole.RISK), ("T03", AgentRole.BULL), ("T04", AgentRole.BULL)]
    theses = sorted((o.ticker, o.role.value) for o in memory.outcomes if o.failure is None)
    assert theses == sorted([(t, r) for t in ("T00", "T01", "T02") for r in ("bull", "bear")])
