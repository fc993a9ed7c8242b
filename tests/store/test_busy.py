"""A database locked by another connection: retried with backoff up to a bound, then reported.

Real SQLite, real threads, real (short) time: another apsw connection holds the write lock.
"""

from __future__ import annotations

import apsw
import pytest
import trio

from actors.errors import StoreBusy
from actors.runtime.envelope import Failure
from actors.store import reader
from actors.store.persister import Persister
from messages.storage import Committed, SaveAgentOutcome
from .conftest import begin, bull_outcome, call, real, serving


async def _hold_write_lock(db, seconds: float, held: trio.Event) -> None:
    other = apsw.Connection(str(db))
    other.set_busy_timeout(5000)
    other.execute("BEGIN IMMEDIATE")
    held.set()
    try:
        await trio.sleep(seconds)
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_a_lock_shorter_than_the_bound_is_waited_out_and_the_write_commits(tmp_path):
    """Held 0.5 s against a bound of 3 × 0.1 s + 0.2 + 0.4 s: retried, committed, counted."""
    db = tmp_path / "b.db"
    persister = real(db, busy_timeout=0.1, busy_retry_delays=(0.2, 0.4))
    async with serving(persister) as (inbox, _, nursery):
        await call(inbox, begin())
        held = trio.Event()
        nursery.start_soon(_hold_write_lock, db, 0.5, held)
        await held.wait()
        assert await call(inbox, SaveAgentOutcome(bull_outcome())) == Committed("SaveAgentOutcome", "run-1", 1)
        assert persister.statistics().busy_retries >= 1
    assert len(reader.load_run(db, "run-1").theses) == 1


async def test_a_lock_longer_than_the_bound_is_reported_as_store_busy_and_nothing_is_written(tmp_path):
    """Held past the bound: Failure(StoreBusy) naming the command and the tries; the next write commits."""
    db = tmp_path / "b.db"
    persister = real(db, busy_timeout=0.05, busy_retry_delays=(0.05, 0.1))
    async with serving(persister) as (inbox, _, nursery):
        await call(inbox, begin())
        held = trio.Event()
        nursery.start_soon(_hold_write_lock, db, 1.5, held)
        await held.wait()
        answer = await call(inbox, SaveAgentOutcome(bull_outcome()))
        assert isinstance(answer, Failure) and type(answer.error) is StoreBusy
        assert "SaveAgentOutcome run=run-1" in str(answer.error) and "tried 3 times" in str(answer.error)
        assert persister.statistics().busy_retries == 2 and persister.statistics().failures == 1
        assert reader.load_run(db, "run-1").theses == ()
        with trio.fail_after(10):
            while True:  # once the other connection lets go, writes commit again
                again = await call(inbox, SaveAgentOutcome(bull_outcome()))
                if not isinstance(again, Failure):
                    break
        assert again == Committed("SaveAgentOutcome", "run-1", 1)


def test_busy_retry_delays_are_checked():
    """Negative or non-numeric delays are refused by name."""
    with pytest.raises(ValueError, match="busy_retry_delays"):
        Persister(db_path="x.db", busy_retry_delays=(1.0, -2.0))
    with pytest.raises(ValueError, match="busy_retry_delays"):
        Persister(db_path="x.db", busy_retry_delays=("1",))


async def test_a_command_whose_caller_gave_up_is_not_applied_behind_its_back(tmp_path):
    """The caller times out while the database is locked: once the lock goes, its command is not written."""
    db = tmp_path / "b.db"
    persister = real(db, busy_timeout=0.1, busy_retry_delays=(0.2, 0.2, 0.2, 0.2))
    async with serving(persister) as (inbox, _, nursery):
        await call(inbox, begin())
        held = trio.Event()
        nursery.start_soon(_hold_write_lock, db, 0.6, held)
        await held.wait()
        with pytest.raises(trio.TooSlowError):
            await call(inbox, SaveAgentOutcome(bull_outcome()), timeout=0.3)  # the caller reports it unsaved
        assert await call(inbox, begin("run-2")) == Committed("BeginRun", "run-2", 1)  # served after the lock
        assert persister.statistics().failures == 1
        assert "the caller stopped waiting" in persister.statistics().last_failure
    assert reader.load_run(db, "run-1").theses == ()


async def test_opening_while_another_process_holds_the_lock_is_retried(tmp_path):
    """Start-up recovery finds the database locked for 0.5 s: retried, then opened and serving."""
    db = tmp_path / "b.db"
    async with serving(real(db)) as (inbox, _, _):
        await call(inbox, begin())
    persister = real(db, busy_timeout=0.1, busy_retry_delays=(0.2, 0.4, 0.8))
    async with trio.open_nursery() as nursery:
        held = trio.Event()
        nursery.start_soon(_hold_write_lock, db, 0.5, held)
        await held.wait()
        async with serving(persister) as (inbox, opened, _):
            assert opened.interrupted_runs == ("run-1",)
            assert await call(inbox, begin("run-2")) == Committed("BeginRun", "run-2", 1)
    assert persister.statistics().busy_retries >= 1
