"""Run ownership: leases the OS releases on death; recovery touches only dead owners' runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import apsw

from actors.store import reader
from actors.store.owners import OwnerLease, owner_is_alive, owners_directory, remove_dead_leases
from messages.debate import DebateStatus
from messages.scan import Phase, RunStatus
from messages.storage import RecordPhase, SaveAgentOutcome, SaveCheckpoint
from .conftest import begin, bull_outcome, call, checkpoint, real, serving

REPO = Path(__file__).resolve().parents[2]


def test_a_held_lease_is_alive_and_a_released_one_is_gone(tmp_path):
    """While held, the lease file cannot be locked by anyone else; released, it is deleted."""
    db = tmp_path / "x.db"
    lease = OwnerLease(db)
    assert lease.directory == owners_directory(db) == tmp_path / "x.db.owners"
    assert (lease.directory / lease.name).is_file() and lease.name.startswith(f"{os.getpid()}-")
    assert owner_is_alive(lease.directory, lease.name) is True
    lease.release()
    assert not (lease.directory / lease.name).exists()
    assert owner_is_alive(lease.directory, lease.name) is False
    lease.release()  # idempotent


def test_unknown_and_malformed_owners_count_as_gone(tmp_path):
    """NULL (runs from before leases), a name with a path in it, or any non-lease name is a dead owner."""
    directory = tmp_path / "x.db.owners"
    directory.mkdir()
    for owner in (None, "", "../x.lock", "whatever", "1-aa.lock"):
        assert owner_is_alive(directory, owner) is False


def test_lease_files_of_ended_processes_are_removed_and_live_ones_kept(tmp_path):
    """A stale file (nobody holds its lock) is deleted; a held one and `keep` stay."""
    db = tmp_path / "x.db"
    live, mine = OwnerLease(db), OwnerLease(db)
    stale = live.directory / "999999-deadbeef.lock"
    stale.write_text("")
    assert remove_dead_leases(live.directory, keep=mine.name) == 1
    assert not stale.exists()
    assert (live.directory / live.name).exists() and (live.directory / mine.name).exists()
    live.release(), mine.release()


def test_a_stale_pending_lease_file_is_removed_only_after_its_grace_period(tmp_path):
    """A pending-* file (a process died between creating and renaming it) goes once it is old and unlocked."""
    lease = OwnerLease(tmp_path / "x.db")
    fresh = lease.directory / "pending-1-aa.lock"
    old = lease.directory / "pending-2-bb.lock"
    fresh.write_text(""), old.write_text("")
    os.utime(old, (1, 1))
    assert remove_dead_leases(lease.directory, keep=lease.name) == 1
    assert fresh.exists() and not old.exists()
    lease.release()


_CHILD = """
import sys, time, trio
sys.path.insert(0, {repo!r})
from actors.store.persister import Persister
from messages.scan import Phase
from messages.storage import RecordPhase, SaveAgentOutcome, SaveCheckpoint, SaveDebate
from tests.store.conftest import begin, bull_outcome, call, checkpoint, debate, failed_outcome

async def main():
    send, recv = trio.open_memory_channel(4)
    persister = Persister(db_path={db!r})
    async with trio.open_nursery() as n:
        await n.start(persister.run, recv)
        await call(send, begin("dead-running"))
        await call(send, begin("dead-partial"))
        for phase in (Phase.DATA_FETCH, Phase.SCORING, Phase.CATALYSTS, Phase.OPTIONS, Phase.PERSIST):
            await call(send, RecordPhase("dead-partial", phase, "ok", 0.1))
        await call(send, SaveCheckpoint(checkpoint("dead-partial")))
        await call(send, SaveAgentOutcome(bull_outcome("dead-partial", "AAPL")))
        await call(send, SaveDebate(debate("dead-partial", "AAPL")))
        await call(send, SaveAgentOutcome(failed_outcome("dead-partial", "MSFT")))
        print("ready", persister.owner, flush=True)
        time.sleep(600)  # killed with SIGKILL long before

trio.run(main)
"""


def _start_owner_and_kill_it(db: Path) -> str:
    """A real process takes a lease, writes two open runs, and is killed with SIGKILL; returns its lease name."""
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD.format(repo=str(REPO), db=str(db))],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = child.stdout.readline()
        assert line.startswith("ready"), child.stderr.read()
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        child.stderr.close()
    return line.split()[1]


async def test_recovery_finishes_a_killed_owners_runs_and_leaves_a_live_owners_alone(tmp_path):
    """SIGKILLed owner: its RUNNING and PARTIAL runs → INTERRUPTED with phase and counts; a live owner's untouched."""
    db = tmp_path / "scan.db"
    live = real(db)
    async with serving(live) as (live_inbox, _, _):
        live_owner = live.owner
        await call(live_inbox, begin("live-running"))
        await call(live_inbox, begin("live-partial"))
        await call(live_inbox, SaveCheckpoint(checkpoint("live-partial")))
        dead_owner = _start_owner_and_kill_it(db)
        directory = owners_directory(db)
        assert (directory / dead_owner).exists()  # the OS dropped the lock, not the file

        async with serving(real(db)) as (_, opened, _):  # a second process's start-up, as bin/scan does it
            assert opened.interrupted_runs == ("dead-partial", "dead-running")  # by start time, then id
        assert not (directory / dead_owner).exists()  # cleaned up
        assert (directory / live_owner).exists()

        runs = {r.id: r for r in reader.list_runs(db)}
        assert runs["live-running"].status is RunStatus.RUNNING and runs["live-running"].finished_at is None
        assert runs["live-partial"].status is RunStatus.PARTIAL and runs["live-partial"].finished_at is None
        partial = runs["dead-partial"]
        assert partial.status is RunStatus.INTERRUPTED and partial.finished_at is not None
        assert partial.status_reason == "process ended during the ai_debate phase; found by start-up recovery"
        assert (partial.debates_requested, partial.debates_completed) == (2, 1)
        running = runs["dead-running"]
        assert running.status is RunStatus.INTERRUPTED
        assert running.status_reason == "process ended during the data_fetch phase; found by start-up recovery"
        detail = reader.load_run(db, "dead-partial")  # the checkpoint and the theses stay
        assert detail.results == checkpoint("dead-partial").results
        assert len(detail.theses) == 2 and [d.status for d in detail.debates] == [DebateStatus.COMPLETED]

        # the live owner still writes and finishes its own runs normally
        await call(live_inbox, SaveAgentOutcome(bull_outcome("live-partial", "AAPL")))
        await call(live_inbox, RecordPhase("live-partial", Phase.PERSIST, "ok", 0.1))
    # once the live owner has stopped, its lease file is gone and its open runs are recoverable
    assert not (directory / live_owner).exists()
    async with serving(real(db)) as (_, opened, _):
        assert opened.interrupted_runs == ("live-partial", "live-running")
    conn = apsw.Connection(str(db))
    owners = {row[0] for row in conn.execute("SELECT owner FROM scan_runs")}
    conn.close()
    assert dead_owner in owners and live_owner in owners and None not in owners
