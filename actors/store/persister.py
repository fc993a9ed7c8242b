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

On start-up it opens and migrates the database and runs recovery (runs left RUNNING become
INTERRUPTED, articles left ``scoring`` go back to ``pending``), then reports ``StoreOpened``
through ``task_status.started``. If it cannot open the database it raises ``StoreError``
before reporting started.

*Failure:* a command that fails (bad reference, constraint, full disk, any SQLite error) is
rolled back and answered with ``Failure``; the actor keeps serving, and everything committed
before stays committed. A request that is not a ``Request`` is logged and dropped.

*Cancellation:* a command in hand is never abandoned half-way: its worker thread runs to
COMMIT or ROLLBACK and it is answered; the cancellation is then delivered. Closing the inbox
(all send channels) stops the actor after the command in hand. The connection is closed on
every exit; the inbox is left to its owner (a restarted persister may serve it again).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import apsw
import attrs
import trio

from actors.errors import StoreError
from actors.runtime.envelope import Failure, Request, answer
from actors.store import schema, writes
from messages.storage import StoreOpened

__all__ = ["Persister", "PersisterStatistics", "run_persister"]

logger = logging.getLogger(__name__)


@attrs.frozen
class PersisterStatistics:
    """A snapshot of the persister (also returned by the in-memory fake)."""

    commands_done: int
    failures: int
    queue_depth: int
    last_failure: str | None
    running: bool


class Persister:
    """The only writer. ``await Persister(db_path=...).run(inbox)`` serves until the inbox closes.

    ``busy_timeout`` (seconds) bounds waits on locks held by other processes;
    ``max_size_bytes`` caps the database size (writes beyond it fail with ``DiskFull``).
    """

    def __init__(
        self, *, db_path: str | Path, busy_timeout: float = 5.0, max_size_bytes: int | None = None
    ) -> None:
        if not isinstance(busy_timeout, (int, float)) or busy_timeout < 0:
            raise ValueError(f"busy_timeout must be a number >= 0 (seconds), got {busy_timeout!r}")
        if max_size_bytes is not None and (not isinstance(max_size_bytes, int) or max_size_bytes <= 0):
            raise ValueError(f"max_size_bytes must be a positive int or None, got {max_size_bytes!r}")
        self.db_path = Path(db_path)
        self._busy_timeout = float(busy_timeout)
        self._max_size_bytes = max_size_bytes
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
        )

    def _open(self) -> tuple[apsw.Connection, StoreOpened]:
        conn, found = schema.open_writer(
            self.db_path, busy_timeout=self._busy_timeout, max_size_bytes=self._max_size_bytes
        )
        try:
            runs, requeued = writes.recover(conn)
        except BaseException as exc:
            conn.close()
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
        conn, opened = await trio.to_thread.run_sync(self._open)
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
            logger.info("persister: %s closed after %d command(s)", self.db_path, self._done)

    async def _serve(self, conn: apsw.Connection, request: Any) -> None:
        if not isinstance(request, Request):
            logger.error("persister: dropped %r: not a Request envelope", type(request).__name__)
            return
        command = request.payload
        try:
            ack = await trio.to_thread.run_sync(writes.execute, conn, command)
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


async def run_persister(
    inbox: trio.MemoryReceiveChannel[Any],
    *,
    db_path: str | Path,
    busy_timeout: float = 5.0,
    max_size_bytes: int | None = None,
    task_status: trio.TaskStatus[StoreOpened] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run a :class:`Persister` on ``inbox`` (use the class directly to read ``statistics()``)."""
    persister = Persister(db_path=db_path, busy_timeout=busy_timeout, max_size_bytes=max_size_bytes)
    await persister.run(inbox, task_status=task_status)
