"""The persister actor on a real SQLite file (real threads, real time; each test is fast)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import trio
import trio.testing

from actors.errors import DiskFull, StoreError
from actors.runtime.envelope import Failure
from actors.store import reader, recovery, schema
from actors.store.persister import PersisterStatistics, run_persister
from messages.articles import ArticleStatus, ClaimArticle
from messages.scan import CheckpointCommitted, RunStatus
from messages.storage import AddArticles, BeginRun, Committed, FinishRun, SaveCheckpoint
from .conftest import T0, begin, call, checkpoint, headline, real, serving

REPO = Path(__file__).resolve().parents[2]


async def test_checkpoint_is_durable_when_acknowledged(tmp_path):
    """At the moment of the ack, a fresh read-only connection sees every row."""
    db = tmp_path / "p.db"
    async with serving(real(db)) as (inbox, opened, _):
        assert opened.migrated_from == 0 and opened.schema_version == schema.SCHEMA_VERSION
        assert await call(inbox, begin()) == Committed("BeginRun", "run-1", 1)
        assert await call(inbox, SaveCheckpoint(checkpoint())) == CheckpointCommitted("run-1", 3)
        detail = reader.load_run(db, "run-1")  # while the writer is still open
        assert detail.results == checkpoint().results
        assert detail.data_errors == checkpoint().errors
        assert detail.run.status is RunStatus.PARTIAL


async def test_failure_is_answered_and_the_actor_keeps_serving(tmp_path):
    """A bad command gets Failure(StoreError); the next one commits; statistics count both."""
    persister = real(tmp_path / "p.db")
    async with serving(persister) as (inbox, _, _):
        answer = await call(inbox, FinishRun("ghost", RunStatus.COMPLETED, None, 0, 0, 1.0, T0))
        assert isinstance(answer, Failure) and type(answer.error) is StoreError
        assert "unknown run id 'ghost'" in str(answer.error)
        assert await call(inbox, begin()) == Committed("BeginRun", "run-1", 1)
        stats = persister.statistics()
        assert stats == PersisterStatistics(1, 1, 0, str(answer.error), True)
    assert persister.statistics().running is False


async def test_cancelled_after_an_ack_loses_nothing(tmp_path):
    """Cancelling the persister's nursery right after an ack keeps what was acknowledged."""
    db = tmp_path / "p.db"
    async with serving(real(db)) as (inbox, _, nursery):
        await call(inbox, begin())
        await call(inbox, SaveCheckpoint(checkpoint()))
        nursery.cancel_scope.cancel()
    assert reader.load_run(db, "run-1").results == checkpoint().results


def test_killed_process_loses_nothing_acknowledged(tmp_path):
    """SIGKILL right after the ack: the next start finds the checkpoint and interrupts the run."""
    db = tmp_path / "p.db"
    child = textwrap.dedent(f"""
        import os, signal, sys, trio
        sys.path.insert(0, {str(REPO)!r})
        from actors.store.persister import run_persister
        from tests.store.conftest import begin, call, checkpoint
        from messages.storage import SaveCheckpoint

        async def main():
            send, recv = trio.open_memory_channel(4)
            async with trio.open_nursery() as n:
                await n.start(lambda task_status: run_persister(recv, db_path={str(db)!r}, task_status=task_status))
                await call(send, begin())
                await call(send, begin("still-running"))
                ack = await call(send, SaveCheckpoint(checkpoint()))
                print(ack, flush=True)
                os.kill(os.getpid(), signal.SIGKILL)

        trio.run(main)
    """)
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert proc.returncode == -9, proc.stderr
    assert "CheckpointCommitted(run_id='run-1', rows=3)" in proc.stdout
    assert reader.load_run(db, "run-1").results == checkpoint().results
    conn, _ = schema.open_writer(db)
    try:  # the owner is dead: both open runs are finished, the checkpoint stays
        assert recovery.recover(conn, owner_alive=lambda o: False) == (("run-1", "still-running"), 0)
    finally:
        conn.close()
    assert reader.load_run(db, "run-1").results == checkpoint().results


async def test_startup_recovery_is_reported(tmp_path):
    """Runs left RUNNING become INTERRUPTED and articles whose lease expired pending (attempt counted)."""
    db = tmp_path / "p.db"
    async with serving(real(db)) as (inbox, _, _):
        await call(inbox, begin("crashed"))
        await call(inbox, AddArticles((headline("AAPL", "a", 0), headline("AAPL", "b", 1))))
        assert (await call(inbox, ClaimArticle(now=T0, lease_seconds=60, max_attempts=3))).title == "b"
    async with serving(real(db)) as (inbox, opened, _):
        assert opened.interrupted_runs == ("crashed",) and opened.requeued_articles == 1
        assert opened.migrated_from == schema.SCHEMA_VERSION
        again = await call(inbox, ClaimArticle(now=T0, lease_seconds=60, max_attempts=3))
        assert (again.title, again.status, again.attempts) == ("b", ArticleStatus.SCORING, 2)
    run = reader.load_run(db, "crashed").run
    assert run.status is RunStatus.INTERRUPTED
    assert run.status_reason == "process ended during the data_fetch phase; found by start-up recovery"
    assert run.finished_at is not None


async def test_disk_full_is_reported_and_earlier_commits_survive(tmp_path):
    """SQLITE_FULL gives Failure(DiskFull); the actor serves on; committed rows are intact."""
    db = tmp_path / "p.db"
    persister = real(db, max_size_bytes=30 * 4096)
    async with serving(persister) as (inbox, _, _):
        assert await call(inbox, begin()) == Committed("BeginRun", "run-1", 1)
        assert await call(inbox, SaveCheckpoint(checkpoint())) == CheckpointCommitted("run-1", 3)
        huge = checkpoint(tickers=tuple(f"T{i:04d}" for i in range(600)))
        answer = await call(inbox, SaveCheckpoint(huge))
        assert isinstance(answer, Failure) and isinstance(answer.error, DiskFull)
        assert "SaveCheckpoint run=run-1" in str(answer.error)
        finish = FinishRun("run-1", RunStatus.PARTIAL, "disk full", 0, 0, 3.0, T0)
        assert await call(inbox, finish) == Committed("FinishRun", "run-1", 1)
        assert persister.statistics().failures == 1
    detail = reader.load_run(db, "run-1")
    assert detail.results == checkpoint().results
    assert (detail.run.status, detail.run.status_reason) == (RunStatus.PARTIAL, "disk full")


async def test_closing_the_inbox_serves_what_was_queued_then_stops(tmp_path):
    """Commands already in the inbox are answered; then the actor returns and closes the db."""
    db = tmp_path / "p.db"
    send, recv = trio.open_memory_channel(8)
    replies = []
    async with recv, trio.open_nursery() as nursery:
        await nursery.start(lambda task_status: run_persister(recv, db_path=db, task_status=task_status))
        from actors.runtime.envelope import Request

        for i in range(3):
            reply_send, reply_recv = trio.open_memory_channel(1)
            replies.append(reply_recv)
            send.send_nowait(Request(BeginRun(f"r{i}", T0, "sim", 1), reply_send))
        await send.aclose()
    answers = [r.receive_nowait() for r in replies]
    for r in replies:
        r.close()
    assert answers == [Committed("BeginRun", f"r{i}", 1) for i in range(3)]
    assert not (tmp_path / "p.db-wal").exists()  # last connection closed: WAL checkpointed away


async def test_a_stray_message_is_dropped_and_serving_goes_on(tmp_path):
    """Something that is not a Request is logged and skipped."""
    async with serving(real(tmp_path / "p.db")) as (inbox, _, _):
        await inbox.send("not an envelope")
        assert await call(inbox, begin()) == Committed("BeginRun", "run-1", 1)


async def test_unopenable_database_fails_before_started(tmp_path):
    """A path that cannot be opened raises StoreError before the actor reports started."""
    (tmp_path / "file").write_text("x")
    send, recv = trio.open_memory_channel(1)
    with send, recv, pytest.raises(StoreError, match="opening .*x.db: CantOpenError"):
        await run_persister(recv, db_path=tmp_path / "file" / "x.db")


async def test_the_trio_loop_is_not_blocked_while_sqlite_works(tmp_path):
    """While a big checkpoint commits in a thread, another trio task keeps running."""
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await trio.sleep(0)

    async with serving(real(tmp_path / "p.db")) as (inbox, _, nursery):
        await call(inbox, begin())
        nursery.start_soon(ticker)
        await call(inbox, SaveCheckpoint(checkpoint(tickers=tuple(f"T{i}" for i in range(400)))))
        assert ticks > 5
        nursery.cancel_scope.cancel()


async def test_cancelled_mid_command_still_commits_and_answers(tmp_path):
    """A cancel that lands while a command is in its thread waits for COMMIT and the answer."""
    from actors.runtime.envelope import Request

    db = tmp_path / "p.db"
    big = checkpoint(tickers=tuple(f"T{i:04d}" for i in range(800)))
    reply_send, reply_recv = trio.open_memory_channel(1)
    with reply_recv:
        async with serving(real(db)) as (inbox, _, nursery):
            await call(inbox, begin())
            await inbox.send(Request(SaveCheckpoint(big), reply_send))
            await trio.testing.wait_all_tasks_blocked()  # the persister now waits on its thread
            nursery.cancel_scope.cancel()
        assert reply_recv.receive_nowait() == CheckpointCommitted("run-1", 800)
    assert len(reader.load_run(db, "run-1").results) == 800
