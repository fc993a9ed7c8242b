"""Fetch + score in this process or in worker processes: same stream, same ranking, clean cancellation.

The worker tests start real worker processes (trio-parallel), so they run in real time.
"""

import datetime as dt
import multiprocessing

import pytest
import trio

from actors.config import Settings, load_settings
from actors.coordinator import run_scan
from actors.errors import ConfigError
from actors.fetch_score import AUTO_MIN_TICKERS, MAX_AUTO_WORKERS, fetch_and_score, resolve_workers, score_data
from actors.fetcher import Fetcher
from actors.providers.base import make_provider
from messages.scan import ScanRequested
from tests.debate.fakes import memory_store


async def _stream(provider, tickers, workers):
    send, receive = trio.open_memory_channel(0)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(lambda: fetch_and_score(Fetcher(provider), tickers, send, workers=workers))
        return [scan async for scan in receive]


async def _through_bars(provider, tickers):
    """The reference: the fetcher's TickerData with its Bar objects, scored by score_history."""
    fetcher = Fetcher(provider)
    return [score_data(await fetcher.fetch_ticker(ticker)) for ticker in tickers]


async def test_workers_send_the_same_stream_as_in_process_in_universe_order():
    """Three chunks on two workers: every ticker once, in universe order, equal to the in-process scans
    and to scoring the provider's Bar objects."""
    provider = make_provider("sim", size=130, seed=11)
    universe = provider.default_universe()
    here = await _stream(provider, universe, 0)
    there = await _stream(provider, universe, 2)
    assert [s.data.ticker for s in there] == list(universe)
    assert there == here == await _through_bars(provider, universe)
    assert all(s.scored is not None and s.data.history is None for s in there)
    assert sum(len(s.data.headlines) for s in there) >= len(universe)  # what catalysts need crossed back


async def test_scoring_errors_cross_back_from_workers():
    """A history too short to score is reported per ticker the same way from a worker."""
    provider = make_provider("sim", size=60, seed=2, history_days=30)
    universe = provider.default_universe()
    there = await _stream(provider, universe, 2)
    assert there == await _stream(provider, universe, 0) == await _through_bars(provider, universe)
    assert {(s.scored, s.score_error.kind, s.score_error.piece.value) for s in there} == {(None, "insufficient", "history")}


async def test_unknown_tickers_become_data_errors_in_workers():
    """Errors from the provider inside a worker reach the coordinator as DataErrors."""
    provider = make_provider("sim", size=60, seed=2)
    there = await _stream(provider, ["SIM0001", "NOPE", "SIM9999"], 1)
    assert [s.scored is not None for s in there] == [True, False, False]
    assert [e.kind for s in there[1:] for e in s.data.errors] == ["unknown_ticker", "unknown_ticker"]


async def test_a_scan_with_workers_ranks_exactly_like_one_without():
    """Same seed, same ranked results, contracts and errors through the whole coordinator."""
    provider = make_provider("sim", size=400, seed=5)
    request = ScanRequested(provider.default_universe(), "sim", dt.datetime(2026, 7, 24, 20, tzinfo=dt.timezone.utc))
    outcomes = []
    for workers in (0, 2):
        settings = Settings(source="sim", top_n_options=20, scan_workers=workers)
        async with memory_store() as (memory, store):
            outcomes.append(
                await run_scan(
                    request, run_id=f"run-{workers}", settings=settings, fetcher=Fetcher(provider), store=store,
                    publish=lambda event: None, debate=None, debate_disabled_reason="test",
                )
            )
            assert len(memory.checkpoints[f"run-{workers}"].results) == 400
    in_process, in_workers = outcomes
    assert in_workers.results == in_process.results
    assert in_workers.errors == in_process.errors
    assert sum(1 for r in in_workers.results if r.option) > 0


async def test_cancelling_stops_the_workers():
    """Cancelled mid-universe: fetch_and_score returns at once and no worker process is left."""
    provider = make_provider("sim", size=5000, seed=1)
    received = []
    send, receive = trio.open_memory_channel(0)
    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(lambda: fetch_and_score(Fetcher(provider), provider.default_universe(), send, workers=2))
            async for scan in receive:
                received.append(scan)
                if len(received) == 10:
                    scope.cancel()
    assert scope.cancelled_caught
    assert 10 <= len(received) < 5000
    assert multiprocessing.active_children() == []


class _NotRebuildable:
    name = "remote"
    in_process = False


@pytest.mark.parametrize(
    ("setting", "tickers", "cores", "provider", "expected"),
    [
        (-1, 5000, 4, "sim", 4),
        (-1, 5000, 64, "sim", MAX_AUTO_WORKERS),
        (-1, AUTO_MIN_TICKERS - 1, 4, "sim", 0),
        (-1, 5000, 1, "sim", 0),
        (-1, 5000, 0, "sim", 0),  # core count unknown
        (0, 5000, 4, "sim", 0),
        (3, 10, 1, "sim", 3),
        (3, 5000, 4, "snapshot", 0),
        (3, 5000, 4, "remote", 0),
    ],
)
def test_resolve_workers(setting, tickers, cores, provider, expected):
    """Auto uses the cores from AUTO_MIN_TICKERS tickers; 0 is in-process; N pins; only rebuildable providers get workers."""
    built = _NotRebuildable() if provider == "remote" else make_provider(provider)
    assert resolve_workers(setting, tickers=tickers, provider=built, cpu_count=cores) == expected


def test_resolve_workers_rejects_below_minus_one():
    with pytest.raises(ValueError, match="scan_workers"):
        resolve_workers(-2, tickers=10, provider=make_provider("sim"))


def test_scan_workers_setting_is_validated_and_named():
    assert load_settings(env={}, flags={"scan_workers": "2"}).scan_workers == 2
    assert load_settings(env={}).scan_workers == -1
    with pytest.raises(ConfigError, match=r"scan_workers: expected a value >= -1, got '-2' \(from flag --scan-workers\)"):
        load_settings(env={}, flags={"scan_workers": "-2"})


async def test_progress_is_published_at_most_about_200_times_and_always_at_the_end(autojump_clock):
    """600 tickers: per-ticker progress would be 1,200 events; the display gets ~200 per phase and the final count."""
    from messages.progress import PhaseProgress
    from messages.scan import Phase

    provider = make_provider("sim", size=600, seed=5)
    request = ScanRequested(provider.default_universe(), "sim", dt.datetime(2026, 7, 24, 20, tzinfo=dt.timezone.utc))
    events = []
    async with memory_store() as (_, store):
        await run_scan(
            request, run_id="run-p", settings=Settings(source="sim", top_n_options=5), fetcher=Fetcher(provider),
            store=store, publish=events.append, debate=None, debate_disabled_reason="test",
        )
    for phase in (Phase.DATA_FETCH, Phase.SCORING):
        done = [e.done for e in events if isinstance(e, PhaseProgress) and e.phase is phase]
        assert 100 <= len(done) <= 201
        assert done == sorted(done) and done[-1] == 600


async def test_a_killed_worker_loses_nothing(caplog):
    """SIGKILL the workers mid-run: their chunks are redone in this process; the stream is complete and equal."""
    import os
    import signal

    provider = make_provider("sim", size=1500, seed=8)
    universe = provider.default_universe()
    send, receive = trio.open_memory_channel(0)
    killed = []
    there = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(lambda: fetch_and_score(Fetcher(provider), universe, send, workers=2))
        async for scan in receive:
            there.append(scan)
            if len(there) % 300 == 1:  # at four moments: every worker, busy or between chunks
                for child in multiprocessing.active_children():
                    os.kill(child.pid, signal.SIGKILL)
                    killed.append(child.pid)
    assert killed
    assert "a worker process died" in caplog.text
    assert [s.data.ticker for s in there] == list(universe)
    assert there == await _stream(provider, universe, 0)
