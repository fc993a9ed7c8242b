"""Resume in virtual time: a PARTIAL run is finished once the LLM is back, and a run killed mid-debate
continues per agent step, on the same run row. Real actors (open_system / open_debate_runner),
the real OllamaChat over MockOllama, the in-memory persister."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import trio

from actors.app.resume import plan_resume, resume_run
from actors.config import Settings
from actors.debate.wiring import open_debate_runner
from actors.runtime import open_supervisor
from actors.fakes.memory_persister import MemoryPersister
from actors.system import open_system
from messages.debate import AgentOutcome, AgentRole, DebateFinished, DebateStatus, Stance, Thesis
from messages.resume import ReopenedRun
from messages.scan import Checkpoint, RunStatus, ScanRequested
from messages.storage import BeginRun, FinishRun, SaveAgentOutcome, SaveCheckpoint, SaveDebate
from tests.debate.fakes import MockOllama, memory_store, ollama_client, ticker_results
from tests.system.providers import SlowSim

UTC = dt.timezone.utc
SETTINGS = Settings(
    source="sim", top_n_options=8, top_n_ai_debate=4, fetch_concurrency=4, fetch_retry_delays=(0.5,),
    ai_retry_delays=(0.5,), ai_debate_concurrency=2, ai_concurrency_min=2,
)


def wall() -> dt.datetime:
    return dt.datetime(2026, 12, 7, 21, tzinfo=UTC) + dt.timedelta(seconds=trio.current_time())


async def test_a_partial_run_is_finished_on_its_own_row_once_the_llm_is_back(autojump_clock):
    """LLM down during the scan → PARTIAL, debates skipped; back → resume → COMPLETED, 3 calls per debate."""
    server = MockOllama(latency_first=1.0, refuse=True)
    memory = MemoryPersister()
    async with open_system(SETTINGS, db=":memory:", provider=SlowSim(), persister=memory.run,
                           client_factory=lambda observer: ollama_client(SETTINGS, observer, server)) as system:
        request = ScanRequested(tuple(SlowSim().default_universe()[:30]), "sim", wall(), run_id="r1")
        outcome = await system.scan(request)
        assert outcome.status is RunStatus.PARTIAL
        assert {d.status for d in memory.debates.values()} == {DebateStatus.SKIPPED}
        server.refuse = False
        resumed = await resume_run("r1", store=system.store, runner=system.debate, publish=system.bus.publish,
                                   wall_clock=wall)
    assert resumed.status is RunStatus.COMPLETED and resumed.completed == 4 and resumed.resumed == 4
    run = memory.runs["r1"]
    assert (run.status, run.debates_requested, run.debates_completed) == (RunStatus.COMPLETED, 4, 4)
    assert run.finished_at is not None and len(memory.runs) == 1  # the same row, no new run
    assert len(server.chats) == 12
    assert all(d.status is DebateStatus.COMPLETED for d in memory.debates.values())


def _thesis(role: AgentRole, ticker: str) -> AgentOutcome:
    stance = Stance.BULLISH if role is AgentRole.BULL else Stance.BEARISH
    return AgentOutcome(run_id="k1", ticker=ticker, role=role, model="m", attempts=1, latency=1.0, failure=None,
                        thesis=Thesis(stance, 0.6, (f"{role.value} point",), f"{ticker} {role.value}"))


async def test_a_run_killed_mid_debate_continues_per_agent_step(autojump_clock):
    """Bull+bear saved → only risk runs; bull saved → bear and risk; nothing saved → all three; complete one stays."""
    results = ticker_results(4)
    server = MockOllama(latency_first=1.0)
    settings = Settings(ai_retry_delays=(0.5,), ollama_model=server.profile.models[0])
    async with memory_store() as (memory, store):
        start = dt.datetime(2026, 12, 7, 20, tzinfo=UTC)
        await store.send(BeginRun("k1", start, "sim", 4, settings_json='{"top_n_ai_debate": 4}'))
        await store.send(SaveCheckpoint(Checkpoint("k1", tuple(results), (), 4)))
        for outcome in (_thesis(AgentRole.BULL, "T00"), _thesis(AgentRole.BEAR, "T00"), _thesis(AgentRole.BULL, "T01")):
            await store.send(SaveAgentOutcome(outcome))
        await store.send(SaveDebate(DebateFinished("k1", "T03", DebateStatus.COMPLETED, None, 0.7, None)))
        for ticker in ("T00", "T01"):
            await store.send(SaveDebate(DebateFinished("k1", ticker, DebateStatus.CUT_OFF, None, None, "interrupted")))
        await store.send(FinishRun(run_id="k1", status=RunStatus.INTERRUPTED, reason="killed", debates_requested=4,
                                   debates_completed=1, duration_seconds=30.0, finished_at=start))
        before = len(memory.outcomes)
        async with open_supervisor(name="t") as sup, open_debate_runner(
            settings, store=store, publish=lambda e: None, disabled=None, supervisor=sup,
            client_factory=lambda observer: ollama_client(settings, observer, server),
        ) as (runner, _):
            resumed = await resume_run("k1", store=store, runner=runner, publish=lambda e: None, wall_clock=wall)
            await sup.stop()
    assert len(server.chats) == 1 + 2 + 3  # T00 risk; T01 bear, risk; T02 all three; T03 nothing
    new = Counter((o.ticker, o.role) for o in memory.outcomes[before:])
    assert new == Counter({("T00", AgentRole.RISK): 1, ("T01", AgentRole.BEAR): 1, ("T01", AgentRole.RISK): 1,
                           ("T02", AgentRole.BULL): 1, ("T02", AgentRole.BEAR): 1, ("T02", AgentRole.RISK): 1})
    assert resumed.status is RunStatus.COMPLETED and resumed.completed == 4 and resumed.resumed == 3
    run = memory.runs["k1"]
    assert (run.status, run.debates_completed, run.duration_seconds > 30.0) == (RunStatus.COMPLETED, 4, True)


def test_plan_keeps_completed_and_unusable_reply_failures_and_redoes_the_rest():
    """COMPLETED and FAILED(invalid_output) stay; FAILED(unreachable), CUT_OFF, SKIPPED and missing run again."""
    results = ticker_results(6)
    rows = [
        DebateFinished("p", "T00", DebateStatus.COMPLETED, None, 0.5, None),
        DebateFinished("p", "T01", DebateStatus.FAILED, None, None, "risk: invalid_output"),
        DebateFinished("p", "T02", DebateStatus.FAILED, None, None, "bull: unreachable"),
        DebateFinished("p", "T03", DebateStatus.CUT_OFF, None, None, "llm_stopped_responding"),
        DebateFinished("p", "T04", DebateStatus.SKIPPED, None, None, "llm_unreachable: refused"),
    ]
    saved = (_thesis(AgentRole.BULL, "T00"), _thesis(AgentRole.BULL, "T03"))
    plan = plan_resume(ReopenedRun(run_id="p", candidates=tuple(results), debates=tuple(rows), saved=saved,
                                   duration_seconds=1.0, previous_status="PARTIAL"))
    assert [c.ticker for c in plan.todo] == ["T02", "T03", "T04", "T05"]
    assert [d.ticker for d in plan.kept] == ["T00", "T01"] and plan.completed_before == 1
    assert [o.ticker for o in plan.saved] == ["T03"]  # only theses of debates that run again
