"""One LLM side per process: runs requested at once share the breaker, the monitor and the slot budget.

Everything goes through ``open_debate_runner`` (the breaker, health and pool actors under a
supervisor) and the real ``OllamaChat`` over ``httpx.MockTransport``, in virtual time.
"""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
import trio
import trio.testing

from actors.debate.wiring import open_debate_runner
from actors.runtime import open_supervisor
from messages.debate import DebateStatus
from messages.health import HealthStatus, LLMHealth
from messages.storage import BeginRun
from tests.debate.fakes import MockOllama, memory_store, ollama_client, settings, ticker_results

LATENCY = 1.0


class CountingOllama(MockOllama):
    """MockOllama that records how many chat requests it is serving at once."""

    def __init__(self, **profile: object) -> None:
        super().__init__(**profile)
        self.serving = 0
        self.most = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/api/chat":
            return await super().__call__(request)
        self.serving += 1
        self.most = max(self.most, self.serving)
        try:
            return await super().__call__(request)
        finally:
            self.serving -= 1


async def begin(store, run_id: str, n: int) -> None:
    await store.send(BeginRun(run_id, dt.datetime(2026, 7, 24, tzinfo=dt.timezone.utc), "sim", n))


@pytest.mark.parametrize("slots", [1, 3])
async def test_two_runs_at_once_share_the_slot_budget_and_keep_their_own_results(autojump_clock, slots):
    """Two runs of 5 tickers requested together on one pool with `slots` slots: never more than
    `slots` chat requests at the server, every debate of both runs completes under its own run id,
    and the pair takes as long as one run of 10 would (30 calls / slots), not half of it."""
    server = CountingOllama(latency_first=LATENCY)
    s = settings(ollama_model=server.profile.models[0], ai_debate_concurrency=slots, ai_concurrency_min=slots)
    summaries = {}
    async with memory_store() as (memory, store):
        await begin(store, "run-a", 5)
        await begin(store, "run-b", 5)
        async with open_debate_runner(s, store=store, publish=lambda e: None, disabled=None,
                                      client_factory=lambda observer: ollama_client(s, observer, server)) as (runner, _):
            started = trio.current_time()

            async def one(run_id: str) -> None:
                summaries[run_id] = await runner(run_id, ticker_results(5))

            async with trio.open_nursery() as nursery:
                nursery.start_soon(one, "run-a")
                nursery.start_soon(one, "run-b")
            elapsed = trio.current_time() - started
    assert server.most == slots
    assert [summaries[r].completed for r in ("run-a", "run-b")] == [5, 5]
    for run_id in ("run-a", "run-b"):
        assert [f.run_id for f in summaries[run_id].finished] == [run_id] * 5
        assert {memory.debates[(run_id, f"T{i:02d}")].status for i in range(5)} == {DebateStatus.COMPLETED}
        assert sum(1 for o in memory.outcomes if o.run_id == run_id and o.thesis is not None) == 15
    assert len(server.chats) == 30
    assert 30 / slots * LATENCY <= elapsed <= 30 / slots * LATENCY * 1.2


async def test_cancelling_one_requester_interrupts_only_its_run(autojump_clock):
    """Run A's requester is cancelled mid-phase: A's started debates are recorded CUT_OFF and the
    rest SKIPPED (reason interrupted) before the cancellation returns; run B completes all 5."""
    server = MockOllama(latency_first=LATENCY)
    s = settings(ollama_model=server.profile.models[0], ai_debate_concurrency=3, ai_concurrency_min=3)
    async with memory_store() as (memory, store):
        await begin(store, "run-a", 5)
        await begin(store, "run-b", 5)
        async with open_debate_runner(s, store=store, publish=lambda e: None, disabled=None,
                                      client_factory=lambda observer: ollama_client(s, observer, server)) as (runner, _):
            summary_b = None
            rows_when_a_returned = None

            async def run_a(scope: trio.CancelScope) -> None:
                nonlocal rows_when_a_returned
                with scope:
                    await runner("run-a", ticker_results(5))
                rows_when_a_returned = {t: d.status for (r, t), d in memory.debates.items() if r == "run-a"}

            async def run_b() -> None:
                nonlocal summary_b
                summary_b = await runner("run-b", ticker_results(5))

            scope_a = trio.CancelScope()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(run_a, scope_a)
                nursery.start_soon(run_b)
                await trio.sleep(2.5)
                scope_a.cancel()
    assert summary_b is not None and summary_b.completed == 5
    assert len(rows_when_a_returned) == 5
    assert set(rows_when_a_returned.values()) <= {DebateStatus.COMPLETED, DebateStatus.CUT_OFF, DebateStatus.SKIPPED}
    assert DebateStatus.CUT_OFF in rows_when_a_returned.values()
    assert {memory.debates[("run-a", t)].reason for t, st in rows_when_a_returned.items()
            if st is not DebateStatus.COMPLETED} == {"interrupted"}


async def test_actors_live_under_the_given_supervisor_until_the_runner_closes(autojump_clock):
    """With a supervisor passed in, the three actors are its children; leaving the block stops them
    (pool, health, breaker) and the supervisor is left with no running child."""
    server = MockOllama(latency_first=LATENCY)
    s = settings(ollama_model=server.profile.models[0])
    async with memory_store() as (memory, store), open_supervisor(name="system") as supervisor:
        await begin(store, "run-a", 2)
        async with open_debate_runner(s, store=store, publish=lambda e: None, disabled=None, supervisor=supervisor,
                                      client_factory=lambda observer: ollama_client(s, observer, server)) as (runner, _):
            children = supervisor.statistics().children
            assert [(c.name, c.running) for c in children] == [
                ("llm-breaker", True), ("llm-health", True), ("debate-pool", True)]
            assert (await runner("run-a", ticker_results(2))).completed == 2
        assert [c.running for c in supervisor.statistics().children] == [False, False, False]


async def test_the_long_lived_monitor_probes_on_its_interval_and_reports_to_the_breaker(autojump_clock):
    """No probe when the system opens; one every health_interval after; an unreachable report
    opens the breaker, so the next phase's calls would be refused — and the pre-check skips it."""
    server = MockOllama(latency_first=LATENCY)
    s = settings(ollama_model=server.profile.models[0], health_interval=60.0)
    events: list[object] = []
    async with memory_store() as (memory, store):
        await begin(store, "run-a", 2)
        async with open_debate_runner(s, store=store, publish=events.append, disabled=None,
                                      client_factory=lambda observer: ollama_client(s, observer, server)) as (runner, _):
            await trio.testing.wait_all_tasks_blocked()
            assert [e for e in events if isinstance(e, LLMHealth)] == []
            await trio.sleep(60.5)
            assert [e.status for e in events if isinstance(e, LLMHealth)] == [HealthStatus.HEALTHY]
            server.refuse = True
            await trio.sleep(60)
            assert [e.status for e in events if isinstance(e, LLMHealth)][-1] is HealthStatus.UNREACHABLE
            summary = await runner("run-a", ticker_results(2))
    assert summary.status == "skipped" and summary.skipped_reason.startswith("llm_unreachable")
    assert server.chats == []
