"""The debate pool when the store refuses rows, and when the phase is interrupted (virtual time)."""

import datetime as dt

import trio

from actors.config import Settings
from actors.coordinator import run_status
from actors.debate.pool import DebatePool
from actors.errors import StoreBusy
from messages.debate import AgentRole, DebateStatus
from messages.scan import RunStatus
from messages.storage import BeginRun, SaveAgentOutcome, SaveDebate
from tests.debate.fakes import FakeChat, breaker_actor_from, memory_store, ticker_results

RUN = "run-1"


async def _pool_run(memory, store, n, *, concurrency=3, latency=1.0):
    await store.send(BeginRun(RUN, dt.datetime(2026, 7, 24, tzinfo=dt.timezone.utc), "sim", n))
    async with breaker_actor_from(Settings(breaker_failures=99, breaker_cooldown=30), lambda e: None) as breaker:
        pool = DebatePool(FakeChat(latency=latency), store=store, breaker=breaker.client, publish=lambda e: None,
                          concurrency=concurrency)
        return await pool.run(RUN, ticker_results(n))


def _t01(command) -> bool:
    if isinstance(command, SaveAgentOutcome):
        return command.outcome.ticker == "T01"
    return isinstance(command, SaveDebate) and command.finished.ticker == "T01"


async def test_rows_the_store_refuses_are_in_the_summary_and_the_run_is_never_completed(autojump_clock):
    """T01's three theses and its debate row are refused: listed unsaved with the error; PARTIAL naming them."""
    async with memory_store() as (memory, store):
        memory.fail_matching(_t01, StoreBusy("database is locked by another connection"))
        summary = await _pool_run(memory, store, 4)
    assert summary.completed == summary.requested == 4  # the debates themselves finished
    assert [(o.ticker, o.role) for o in summary.unsaved_outcomes] == [
        ("T01", AgentRole.BULL), ("T01", AgentRole.BEAR), ("T01", AgentRole.RISK)]
    assert [(d.ticker, d.status) for d in summary.unsaved_debates] == [("T01", DebateStatus.COMPLETED)]
    assert "database is locked" in summary.unsaved_error
    description = summary.unsaved_description()
    assert description.startswith("3 theses and 1 debate row (T01) not saved: ")
    assert run_status(summary, unsaved=[description]) == (RunStatus.PARTIAL, description)
    assert {o.ticker for o in memory.outcomes} == {"T00", "T02", "T03"}  # what was saved is all there
    assert (RUN, "T01") not in memory.debates


async def test_nothing_refused_leaves_the_summary_clean(autojump_clock):
    """No store failure: no unsaved rows, COMPLETED."""
    async with memory_store() as (memory, store):
        summary = await _pool_run(memory, store, 3)
    assert summary.unsaved_outcomes == summary.unsaved_debates == () and summary.unsaved_description() is None
    assert run_status(summary) == (RunStatus.COMPLETED, None)


async def test_an_interrupted_phase_writes_a_row_for_every_debate_it_stops(autojump_clock):
    """Cancelled at 2.5 s (3 slots, 1 s per call): running debates CUT_OFF with a cancelled agent row,
    queued ones SKIPPED, all with reason 'interrupted'; finished theses stay.

    (7 tickers: the schedule runs T00-T02 depth-first through their risk agents; with fewer, it
    would already have started the last tickers' bulls in the third round.)"""
    async with memory_store() as (memory, store):
        with trio.move_on_after(2.5):
            await _pool_run(memory, store, 7)
        debates = {t: d for (_, t), d in memory.debates.items()}
    assert {t: (d.status, d.reason) for t, d in debates.items()} == {
        "T00": (DebateStatus.CUT_OFF, "interrupted"),
        "T01": (DebateStatus.CUT_OFF, "interrupted"),
        "T02": (DebateStatus.CUT_OFF, "interrupted"),
        "T03": (DebateStatus.SKIPPED, "interrupted"),
        "T04": (DebateStatus.SKIPPED, "interrupted"),
        "T05": (DebateStatus.SKIPPED, "interrupted"),
        "T06": (DebateStatus.SKIPPED, "interrupted"),
    }
    by_ticker = {}
    for o in memory.outcomes:
        by_ticker.setdefault(o.ticker, []).append((o.role, o.failure))
    for ticker in ("T00", "T01", "T02"):  # bull and bear saved, the risk call in flight cut off
        assert by_ticker[ticker] == [(AgentRole.BULL, None), (AgentRole.BEAR, None), (AgentRole.RISK, "cancelled")]
    assert "T03" not in by_ticker
