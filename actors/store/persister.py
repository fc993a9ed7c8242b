"""The persister actor: the only writer to the SQLite database.

*Receives:* ``Request(command, reply_to)`` envelopes (``actors.runtime.envelope``) whose payload
is a storage command from ``messages.storage`` (``BeginRun``, ``SaveCheckpoint``, ...).

*Sends:* exactly one answer per request, through ``answer()``: the command's acknowledgement
(``Committed``, ``CheckpointCommitted``, or the claimed ``Article``/None) only AFTER its
transaction has committed, or ``Failure(StoreError)`` (``Failure(DiskFull)`` when the disk or
the size cap is full) when nothing of it was written.

*Owns:* the read-write apsw connection (WAL, ``foreign_keys=ON``, busy timeout, migrated
schema). Every statement runs in a worker thread (``trio.to_thread.run_sync``), never on the
trio loop, one command at a time, so commands commit in the order they were received.

*Ownership:* on start-up it takes this process's lease (``actors.store.owners``: an exclusive
``flock`` on a file in ``<db>.owners/`` that the OS releases when the process dies) unless one
is given, and records the lease's name on every run it begins. It then opens and migrates the
database and runs recovery (``actors.store.recovery``: open runs whose owner is gone become
INTERRUPTED, articles left ``scoring`` go back to ``pending``; runs of live owners, other scans
included, are untouched), deletes dead owners' lease files, and reports ``StoreOpened``
through ``task_status.started``. If it cannot open the database it raises ``StoreError``
before reporting started. A lease it took itself is released when it stops.

*Busy:* a command that finds the database locked by another connection past the busy
timeout is retried after each of ``busy_retry_delays`` (trio clock); only when those are used
up is it answered ``Failure(StoreBusy)``, naming how long it tried.

*Failure:* a command that fails (bad reference, constraint, full disk, any SQLite error) is
rolled back and answered with ``Failure``; the actor keeps serving, and everything committed
before stays committed. A request that is not a ``Request`` is logged and dropped.

*Cancellation:* a command in hand is never abandoned half-way: its worker thread runs to
COMMIT or ROLLBACK and it is answered; the cancellation is then delivered. Closing the inbox
(all send channels) stops the actor after the command in hand. The connection is closed on
every exit; the inbox is left to its owner (a restarted persister may serve it again).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import apsw
import attrs
import trio

from actors.config import Settings
from actors.errors import StoreBusy, StoreError
from actors.runtime.envelope import Failure, Request, answer
from actors.store import schema, writes
from actors.store.owners import OwnerLease, owner_is_alive, remove_dead_leases
from actors.store.recovery import recover
from messages.storage import StoreOpened

__all__ = ["Persister", "PersisterStatistics", "run_persister", "store_options"]

logger = logging.getLogger(__name__)


@attrs.frozen
class PersisterStatistics:
    """A snapshot of the persister (also returned by the in-memory fake)."""

    commands_done: int
    failures: int
    queue_depth: int
    last_failure: str | None
    running: bool
    busy_retries: int = 0


class Persister:
    """The only writer. ``await Persister(db_path=...).run(inbox)`` serves until the inbox closes.

    ``busy_timeout`` (seconds) bounds each wait on a lock held by another connection, and
    ``busy_retry_delays`` (seconds) are the pauses before each retry of a command that still
    found it locked: a command gives up after about
    ``(len(busy_retry_delays) + 1) * busy_timeout + sum(busy_retry_delays)``.
    ``max_size_bytes`` caps the database size (writes beyond it fail with ``DiskFull``).
    ``lease`` is the process's ownership lease when its owner manages it (a daemon whose
    persister may restart); without one the persister takes and releases its own.
    """

    def __init__(
        self,
        *,
        db_path: str | Path,
        busy_timeout: float = 5.0,
        busy_retry_delays: Sequence[float] = (1.0, 2.0, 4.0),
        max_size_bytes: int | None = None,
        lease: OwnerLease | None = None,
    ) -> None:
        if not isinstance(busy_timeout, (int, float)) or busy_timeout < 0:
            raise ValueError(f"busy_timeout must be a number >= 0 (seconds), got {busy_timeout!r}")
        delays = tuple(busy_retry_delays)
        if any(not isinstance(d, (int, float)) or isinstance(d, bool) or not d >= 0 for d in delays):
            raise ValueError(f"busy_retry_delays must be numbers >= 0 (seconds), got {busy_retry_delays!r}")
        if max_size_bytes is not None and (not isinstance(max_size_bytes, int) or max_size_bytes <= 0):
            raise ValueError(f"max_size_bytes must be a positive int or None, got {max_size_bytes!r}")
        self.db_path = Path(db_path)
        self._busy_timeout = float(busy_timeout)
        self._busy_retry_delays = tuple(float(d) for d in delays)
        self._max_size_bytes = max_size_bytes
        self._lease = lease
        self._own_lease = lease is None
        self._busy_retries = 0
        self._inbox: trio.MemoryReceiveChannel[Any] | None = None
        self._done = 0
        self._failures = 0
        self._last_failure: str | None = None
        self._running = False

    def statistics(self) -> PersisterStatistics:
        depth = self._inbox.statistics().current_buffer_used if self._inbox is not None else 0
        return PersisterStatistics(
            commands_done=self._done,
            failures=self._failures,
            queue_depth=depth,
            last_failure=self._last_failure,
            running=self._running,
            busy_retries=self._busy_retries,
        )

    @property
    def owner(self) -> str | None:
        """The name of the lease recorded on the runs this persister begins (once open)."""
        return self._lease.name if self._lease is not None else None

    def _take_lease(self) -> OwnerLease:
        if self._lease is None:
            try:
                self._lease = OwnerLease(self.db_path)
            except OSError as exc:
                where = f"{self.db_path}.owners"
                raise StoreError(f"cannot take the run ownership lease in {where}: {exc.strerror or exc}") from exc
        return self._lease

    def _open(self) -> tuple[apsw.Connection, StoreOpened]:
        conn, found = schema.open_writer(
            self.db_path, busy_timeout=self._busy_timeout, max_size_bytes=self._max_size_bytes
        )
        try:
            lease = self._take_lease()
            mine = lease.name
            runs, requeued = recover(
                conn, owner_alive=lambda owner: owner == mine or owner_is_alive(lease.directory, owner)
            )
            remove_dead_leases(lease.directory, keep=mine)
        except BaseException as exc:
            conn.close()
            self._release_lease()
            if isinstance(exc, apsw.Error):
                raise schema.map_apsw_error(exc, f"recovering {self.db_path}") from exc
            raise
        return conn, StoreOpened(
            db_path=str(self.db_path),
            schema_version=schema.SCHEMA_VERSION,
            migrated_from=found,
            interrupted_runs=runs,
            requeued_articles=requeued,
        )

    async def run(
        self,
        inbox: trio.MemoryReceiveChannel[Any],
        *,
        task_status: trio.TaskStatus[StoreOpened] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Open, recover, report ``StoreOpened``, then serve ``inbox`` until it is closed."""
        conn, opened = await self._open_when_not_busy()
        self._inbox = inbox
        self._running = True
        logger.info(
            "persister: %s open (schema %d), %d interrupted run(s), %d requeued article(s)",
            opened.db_path, opened.schema_version, len(opened.interrupted_runs), opened.requeued_articles,
        )
        try:
            task_status.started(opened)
            async for request in inbox:
                await self._serve(conn, request)
        finally:
            self._running = False
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(conn.close)
            self._release_lease()
            logger.info("persister: %s closed after %d command(s)", self.db_path, self._done)

    async def _open_when_not_busy(self) -> tuple[apsw.Connection, StoreOpened]:
        """:meth:`_open`, retried like a command while another process holds the database locked."""
        for delay in (*self._busy_retry_delays, None):
            try:
                return await trio.to_thread.run_sync(self._open)
            except StoreBusy:
                if delay is None:
                    raise
                self._busy_retries += 1
                logger.warning("persister: %s is locked by another process; opening again in %g s", self.db_path, delay)
                await trio.sleep(delay)
        raise AssertionError("unreachable")

    def _release_lease(self) -> None:
        if self._own_lease and self._lease is not None:
            self._lease.release()
            self._lease = None

    async def _serve(self, conn: apsw.Connection, request: Any) -> None:
        if not isinstance(request, Request):
            logger.error("persister: dropped %r: not a Request envelope", type(request).__name__)
            return
        command = request.payload
        try:
            ack = await self._execute(conn, command, request)
        except StoreError as exc:
            self._failures += 1
            self._last_failure = str(exc)
            logger.warning("persister: %s", exc)
            answer(request, Failure(exc))
        except Exception as exc:  # a bug must not kill the only writer
            self._failures += 1
            error = StoreError(f"{writes.describe(command)}: unexpected {type(exc).__name__}: {exc}")
            error.__cause__ = exc
            self._last_failure = str(error)
            logger.exception("persister: unexpected error")
            answer(request, Failure(error))
        else:
            self._done += 1
            logger.debug("persister: committed %s", writes.describe(command))
            answer(request, ack)


    async def _execute(self, conn: apsw.Connection, command: object, request: Request) -> object:
        """Apply ``command``, retrying after each of ``busy_retry_delays`` while it finds the database locked.

        A command whose caller has stopped waiting (its reply channel is closed: the request timed
        out) is not applied: the caller already reported it unsaved, and it must not become
        saved behind its back.
        """
        waited = 0.0
        for attempt, delay in enumerate((*self._busy_retry_delays, None)):
            if _abandoned(request):
                raise StoreError(f"{writes.describe(command)}: not applied: the caller stopped waiting for it")
            try:
                return await trio.to_thread.run_sync(
                    functools.partial(writes.execute, conn, command, owner=self.owner)
                )
            except StoreBusy as exc:
                if delay is None:
                    tried = (attempt + 1) * self._busy_timeout + waited
                    raise StoreBusy(f"{exc} (tried {attempt + 1} times over {tried:g} s)") from exc
                self._busy_retries += 1
                logger.warning("persister: database locked; retrying %s in %g s", writes.describe(command), delay)
                try:
                    await trio.sleep(delay)
                except trio.Cancelled:
                    raise StoreBusy(f"{exc} (cancelled while waiting to retry)") from exc
                waited += delay
        raise AssertionError("unreachable")


def _abandoned(request: Request) -> bool:
    """Whether nobody can receive the answer any more (the requester timed out or went away)."""
    try:
        return request.reply_to.statistics().open_receive_channels == 0
    except AttributeError:  # not a trio memory channel: assume someone listens
        return False


def store_options(settings: Settings, db_path: str | Path) -> dict[str, Any]:
    """The persister's keyword arguments from the ``store_*`` settings."""
    cap_mb = settings.store_max_size_mb
    return {
        "db_path": db_path,
        "busy_timeout": settings.store_busy_timeout,
        "busy_retry_delays": settings.store_busy_retry_delays,
        "max_size_bytes": int(cap_mb * 1024 * 1024) if cap_mb else None,
    }


async def run_persister(
    inbox: trio.MemoryReceiveChannel[Any],
    *,
    db_path: str | Path,
    busy_timeout: float = 5.0,
    busy_retry_delays: Sequence[float] = (1.0, 2.0, 4.0),
    max_size_bytes: int | None = None,
    lease: OwnerLease | None = None,
    task_status: trio.TaskStatus[StoreOpened] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run a :class:`Persister` on ``inbox`` (use the class directly to read ``statistics()``).

    ``lease``: the process's run-ownership lease, when its owner keeps it across restarts of
    this actor (``actors.system``), so a restarted persister never recovers its own live runs.
    """
    persister = Persister(
        db_path=db_path, busy_timeout=busy_timeout, busy_retry_delays=busy_retry_delays,
        max_size_bytes=max_size_bytes, lease=lease,
    )
    await persister.run(inbox, task_status=task_status)
