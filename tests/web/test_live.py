"""What feeds the hub: bus messages mapped to slots, debate progress, the database poll."""

from __future__ import annotations

import functools

import trio
import trio.testing

from actors.runtime import EventBus
from actors.web.live import DebateProgress, Observed, feed_from_bus, hub_event, poll_runs
from actors.web.sse import EventHub
from actors.web.store_view import RunStore
from messages.debate import DebateFinished, DebateStatus, Verdict
from messages.health import BreakerState, BreakerStateName, HealthStatus, LLMHealth
from messages.progress import PhaseFinished, PhaseProgress, PhaseStarted, RunFinished
from messages.scan import Phase
from tests.web.stored import write_run


def test_progress_events_share_their_phase_slot():
    """Started, progress and finished of one phase replace each other; another phase has its own slot."""
    started = hub_event(PhaseStarted("r1", Phase.SCORING, 200))
    progress = hub_event(PhaseProgress("r1", Phase.SCORING, 40, 200))
    finished = hub_event(PhaseFinished("r1", Phase.SCORING, "ok", 1.5, 0))
    other = hub_event(PhaseProgress("r1", Phase.DATA_FETCH, 40, 200))
    assert started[1] == progress[1] == finished[1] == "progress:r1:scoring" != other[1]
    assert progress[2] == {"run_id": "r1", "phase": "scoring", "state": "running", "done": 40, "total": 200}
    assert finished[2]["state"] == "ok" and finished[2]["seconds"] == 1.5
    assert hub_event(RunFinished("r1", "COMPLETED", 3.0))[:2] == ("run", "run:r1")
    assert hub_event(object()) is None


def test_finished_debates_become_progress_of_the_debate_phase():
    tracker = DebateProgress()
    tracker.events(PhaseStarted("r1", Phase.AI_DEBATE, 3))
    out = []
    for ticker in ("AAA", "BBB", "AAA"):  # a debate saved again counts once
        out = tracker.events(DebateFinished("r1", ticker, DebateStatus.COMPLETED, Verdict.TAKE, 0.6, None))
    assert [kind for kind, _, _ in out] == ["debate", "progress"]
    assert out[1][2] == {"run_id": "r1", "phase": "ai_debate", "state": "running", "done": 2, "total": 3}
    assert [k for k, _, _ in tracker.events(DebateFinished("r2", "X", DebateStatus.FAILED, None, None, "t"))] == ["debate"]


async def test_feed_from_bus_publishes_progress_and_keeps_the_breaker_history(autojump_clock):
    bus, hub, observed = EventBus(), EventHub(), Observed()
    async with trio.open_nursery() as nursery:
        await nursery.start(feed_from_bus, bus, hub, observed)
        bus.publish(PhaseStarted("r1", Phase.DATA_FETCH, 10))
        for done in range(1, 11):
            bus.publish(PhaseProgress("r1", Phase.DATA_FETCH, done, 10))
        bus.publish(BreakerState(BreakerStateName.OPEN, "3 consecutive failures", 1.0))
        bus.publish(BreakerState(BreakerStateName.HALF_OPEN, "cool-down over", 31.0))
        bus.publish(LLMHealth("ollama", HealthStatus.HEALTHY, 0.01, "ok", 2.0))
        await trio.testing.wait_all_tasks_blocked()
        bus.close()
    assert hub.state("progress:r1:data_fetch").data["done"] == 10
    assert hub.last_id == 14
    assert [b["state"] for b in observed.breaker_history] == ["half_open", "open"]  # newest first
    assert observed.health["status"] == "healthy"


async def test_poll_runs_publishes_the_run_list_when_it_changes(tmp_path):
    """bin/scan serve: a run appearing is published, each state once; no change, no event."""
    db = tmp_path / "runs.db"
    hub = EventHub()
    store = RunStore(db)
    async with trio.open_nursery() as nursery:
        await nursery.start(functools.partial(poll_runs, store, hub, interval=0.02))
        await trio.sleep(0.1)
        assert hub.last_id == 0  # no database yet: nothing published, no crash
        await write_run(db, finish=False)
        with trio.fail_after(5):
            while hub.state("runs") is None or [r["status"] for r in hub.state("runs").data["runs"]] != ["PARTIAL"]:
                await trio.sleep(0.02)
        seen = hub.last_id
        with hub.connect(last_event_id=0) as client:  # what was published: each state once (empty, RUNNING...)
            published = [event.data["runs"] for event in iter(client.receive_nowait, None)]
        assert all(a != b for a, b in zip(published, published[1:])) and 1 <= len(published) <= 3
        await write_run(tmp_path / "other.db")  # another database: this one is unchanged
        await trio.sleep(0.1)
        assert hub.last_id == seen
        nursery.cancel_scope.cancel()
