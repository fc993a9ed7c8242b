"""The run-ownership lease passed in (``lease=``): a restarted persister keeps its process's live runs.

A supervised persister that restarts runs ``run_persister`` again with the same arguments. With
the lease passed in (``actors.system`` takes it once per process), the new incarnation sees
the runs it began as its own, alive, and leaves them RUNNING; a persister that took its own
lease released it when it stopped, so its next incarnation finds them orphaned and marks them
INTERRUPTED under the feet of the scan still running them.
"""

from __future__ import annotations

import datetime as dt
import functools

import trio

from actors.runtime import spawn, stop
from actors.store.client import StoreClient
from actors.store.owners import OwnerLease
from actors.store.persister import run_persister
from actors.store.reader import list_runs
from messages.scan import RunStatus
from messages.storage import BeginRun


async def _begin_then_restart(db, lease) -> RunStatus:
    async with trio.open_nursery() as nursery:
        first = await spawn(nursery, functools.partial(run_persister, db_path=db, lease=lease), name="persister")
        await StoreClient(first).send(
            BeginRun(run_id="live", started_at=dt.datetime(2026, 7, 24, tzinfo=dt.timezone.utc), source="sim",
                     tickers_requested=3)
        )
        await stop(first)  # the incarnation ends (as a crash would end it) ...
        again = await spawn(nursery, functools.partial(run_persister, db_path=db, lease=lease), name="persister")
        await stop(again)  # ... and the next one opens and recovers
    (run,) = list_runs(db)
    return run.status


async def test_a_persister_restarted_with_the_process_lease_leaves_its_live_runs_running(tmp_path):
    lease = OwnerLease(tmp_path / "scan.db")
    try:
        assert await _begin_then_restart(tmp_path / "scan.db", lease) is RunStatus.RUNNING
    finally:
        lease.release()


async def test_a_persister_with_its_own_lease_recovers_them_after_a_restart(tmp_path):
    """The contrast: without ``lease=``, the same sequence marks the live run INTERRUPTED."""
    assert await _begin_then_restart(tmp_path / "scan.db", None) is RunStatus.INTERRUPTED
