"""The supervised system (actors.system): scans at once, crashes, escalation, ordered stop.

Virtual time throughout (``autojump_clock``), the real actors (coordinator, fetcher, the
supervisor) and the MemoryPersister, which speaks the store protocol without threads. The
provider is the real sim behind a latency (tests/system/providers.py), so scans take time.
"""

from __future__ import annotations

import datetime as dt
from contextlib import asynccontextmanager

import pytest
import trio

from actors.config import Settings
from actors.coordinator import run_scan
from actors.coordinator_actor import ScanCancelled
from actors.fetcher import Fetcher
from actors.runtime import SupervisorEscalation, spawn
from actors.store.client import StoreClient
from actors.fakes.memory_persister import MemoryPersister
from actors.system import RestartLimit, open_system
from messages.progress import PhaseStarted, RunFinished
from messages.scan import Phase, RunStatus, ScanRequested
from tests.system.providers import BuggyProvider, SlowSim

SETTINGS = Settings(source="sim", top_n_options=8, top_n_ai_debate=0, fetch_concurrency=4, fetch_retry_delays=(0.5,))


def _request(run_id: str, universe) -> ScanRequested:
    return ScanRequested(
        tuple(universe), "sim", dt.datetime(2026, 7, 24, 20, tzinfo=dt.timezone.utc), run_id=run_id
    )


@asynccontextmanager
async def _system(provider, memory: MemoryPersister, **kwargs):
    async with open_system(
        SETTINGS, db=":memory:", disabled="--no-debate", provider=provider, persister=memory.run, **kwargs
    ) as system:
        yield system


async def _alone(universe):
    """The outcome of scanning ``universe`` by itself, with run_scan and a Fetcher in this task."""
    memory = MemoryPersister()
    async with trio.open_nursery() as nursery:
        address = await spawn(nursery, memory.run, name="persister")
        outcome = await run_scan(
            _request("alone", universe), run_id="alone", settings=SETTINGS,
            fetcher=Fetcher(SlowSim(), concurrency=SETTINGS.fetch_concurrency), store=StoreClient(address),
            publish=lambda event: None, debate=None, debate_disabled_reason="--no-debate",
        )
        address.close()
    return outcome


async def _scan_both(system, scans: dict[str, tuple[str, ...]]) -> dict:
    outcomes = {}

    async def one(run_id, universe):
        outcomes[run_id] = await system.scan(_request(run_id, universe))

    async with trio.open_nursery() as nursery:
        for run_id, universe in scans.items():
            nursery.start_soon(one, run_id, universe)
    return outcomes


def _assert_own_rows(memory: MemoryPersister, outcomes: dict, expected: dict) -> None:
    for run_id, reference in expected.items():
        assert outcomes[run_id].status is RunStatus.COMPLETED
        assert outcomes[run_id].results == reference.results  # the same rows as scanned alone
        assert memory.checkpoints[run_id].results == reference.results  # and those are the rows saved
        assert memory.runs[run_id].status is RunStatus.COMPLETED


async def test_two_scans_requested_at_once_overlap_and_end_with_their_own_rows(autojump_clock):
    universe = SlowSim().default_universe()
    scans = {"A": universe[:30], "B": universe[30:]}
    expected = {run_id: await _alone(tickers) for run_id, tickers in scans.items()}
    assert {r.ticker for r in expected["A"].results}.isdisjoint({r.ticker for r in expected["B"].results})
    memory = MemoryPersister()
    events = []
    async with _system(SlowSim(), memory) as system:
        async with trio.open_nursery() as nursery:

            async def record():
                async with system.bus.subscribe(PhaseStarted, RunFinished, capacity=1000) as subscription:
                    async for event in subscription:
                        events.append(event)

            nursery.start_soon(record)
            outcomes = await _scan_both(system, scans)
            nursery.cancel_scope.cancel()
    _assert_own_rows(memory, outcomes, expected)
    kinds = [(type(e).__name__, e.run_id) for e in events if isinstance(e, RunFinished)
             or e.phase is Phase.DATA_FETCH]
    # Both scans were fetching before either finished: they ran at once, not one after the other.
    first_finish = min(kinds.index(("RunFinished", "A")), kinds.index(("RunFinished", "B")))
    assert {("PhaseStarted", "A"), ("PhaseStarted", "B")} <= set(kinds[:first_finish])


async def test_a_fetcher_crash_is_restarted_and_both_scans_in_flight_still_complete(autojump_clock):
    universe = SlowSim().default_universe()
    scans = {"A": universe[:30], "B": universe[30:]}
    expected = {run_id: await _alone(tickers) for run_id, tickers in scans.items()}
    provider = BuggyProvider(tickers={universe[5]}, times=1)
    memory = MemoryPersister()
    async with _system(provider, memory) as system:
        outcomes = await _scan_both(system, scans)
        stats = system.supervisor.statistics()
    assert provider.raised == 1
    assert stats.restarts == {"persister": 0, "fetcher": 1, "coordinator": 0}
    assert "provider bug on" in stats.children[1].last_error
    _assert_own_rows(memory, outcomes, expected)  # nothing lost, nothing doubled


async def test_a_fetcher_crash_loop_stops_the_system_with_one_error_naming_the_fetcher(autojump_clock):
    universe = SlowSim().default_universe()[:10]
    provider = BuggyProvider(tickers=set(universe), times=10**6)
    memory = MemoryPersister()
    with pytest.raises(SupervisorEscalation) as caught:
        async with _system(provider, memory, restarts=RestartLimit(max_restarts=2, within=60)) as system:
            await system.scan(_request("A", universe))
    error = caught.value
    assert error.actor == "fetcher"
    assert isinstance(error.last_error, RuntimeError) and "provider bug on" in str(error)
    assert system.supervisor.statistics().restarts["fetcher"] == 2
    run = memory.runs["A"]
    assert run.status is RunStatus.INTERRUPTED  # the persister outlived the coordinator
    assert "stopped by an internal error during data_fetch+scoring" in run.status_reason
    assert "actor 'fetcher'" in run.status_reason


async def test_leaving_the_system_stops_the_coordinator_before_the_persister(autojump_clock):
    """A scan still running when the block ends is cut off at the coordinator's stop deadline and
    marked INTERRUPTED: the persister, started first, is stopped last and saves that."""
    provider = SlowSim(size=200, latency=1.0)  # 200 tickers / 4 at a time x 1 s: 50 s of fetching
    memory = MemoryPersister()
    async with _system(provider, memory) as system:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(system.scan, _request("A", provider.default_universe()))
            while "A" not in memory.runs:
                await trio.sleep(0.1)
            nursery.cancel_scope.cancel()  # the requester goes away; the scan goes on
        left = trio.current_time()
    stopped_in = trio.current_time() - left
    assert 5.0 <= stopped_in < 6.0  # the coordinator's stop deadline, then cancelled
    run = memory.runs["A"]
    assert run.status is RunStatus.INTERRUPTED
    assert run.status_reason.startswith("interrupted by the user or the service manager during data_fetch")
    assert not any(child.running for child in system.supervisor.statistics().children)
    assert provider.history_calls < 200


async def test_cancelling_one_scan_leaves_the_other_to_complete(autojump_clock):
    universe = SlowSim(size=120).default_universe()
    expected_b = await _alone(universe[:20])
    memory = MemoryPersister()
    async with _system(SlowSim(size=120), memory) as system:
        results = {}

        async def scan(run_id, tickers):
            try:
                results[run_id] = await system.scan(_request(run_id, tickers))
            except ScanCancelled as exc:
                results[run_id] = exc

        async with trio.open_nursery() as nursery:
            nursery.start_soon(scan, "A", universe[20:])
            nursery.start_soon(scan, "B", universe[:20])
            await trio.sleep(2.0)
            assert await system.cancel_scan("A") is True
            assert memory.runs["A"].status is RunStatus.INTERRUPTED  # marked before the answer
        assert await system.cancel_scan("A") is False  # no longer running
    assert isinstance(results["A"], ScanCancelled)
    assert results["B"].results == expected_b.results
    assert memory.runs["B"].status is RunStatus.COMPLETED


async def test_a_scan_with_a_run_id_already_running_is_refused(autojump_clock):
    universe = SlowSim().default_universe()[:10]
    memory = MemoryPersister()
    async with _system(SlowSim(), memory) as system:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(system.scan, _request("A", universe))
            await trio.sleep(0.1)
            with pytest.raises(ValueError, match="run_id: scan A is already running"):
                await system.scan(_request("A", universe))
    assert memory.runs["A"].status is RunStatus.COMPLETED


async def test_a_scan_from_another_source_is_refused_naming_the_field(autojump_clock):
    memory = MemoryPersister()
    async with _system(SlowSim(), memory) as system:
        request = ScanRequested(("AAPL",), "snapshot", dt.datetime(2026, 7, 24, tzinfo=dt.timezone.utc), run_id="X")
        with pytest.raises(ValueError, match="source: this system fetches from 'sim', not 'snapshot'"):
            await system.scan(request)
    assert "X" not in memory.runs
