"""Run ownership: a lease per writing process that the OS releases when the process dies.

Every process that writes runs holds an exclusive ``fcntl.flock`` on its own lock file in
``<db>.owners/`` beside the database, for as long as its persister is open. The file's name
(``<pid>-<random>.lock``) is recorded on every run it begins (``scan_runs.owner``).

Whether an owner is alive is asked of the kernel, not of a clock or a pid: a lock file whose
lock can be taken (or that is gone) belongs to a dead process, because the kernel drops a
``flock`` when the last descriptor closes, including on ``kill -9``. Recovery finishes only
those runs; a live scan's runs are never touched, however many scans share the database.

A lease file is created under a temporary name, locked, then renamed into place, so no one can
ever see a ``*.lock`` file that is not yet locked. Lock files of dead owners are deleted by
the recovery that finds them (while holding their lock).

Why ``flock`` and not a pid check: pids are reused, and a pid says nothing across containers
sharing a volume. Why not SQLite itself: a lock held through a SQLite connection would block
other writers. ``flock`` on local file systems is reliable; on NFS it may not be (so is
SQLite's own locking).
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import time
from pathlib import Path

__all__ = ["LEASE_SUFFIX", "OwnerLease", "owner_is_alive", "owners_directory", "remove_dead_leases"]

logger = logging.getLogger(__name__)

LEASE_SUFFIX = ".lock"
_PENDING_PREFIX = "pending-"
#: A pending file is locked within microseconds of its creation; one this old with no lock is debris.
_PENDING_GRACE_SECONDS = 600.0


def owners_directory(db_path: str | Path) -> Path:
    """``<db>.owners/``: the directory of lease files beside the database."""
    db = Path(db_path)
    return db.with_name(db.name + ".owners")


class OwnerLease:
    """This process's lease on the runs it writes; ``release()`` (or process death) ends it.

    Raises:
        OSError: the lease directory or file cannot be created or locked.
    """

    def __init__(self, db_path: str | Path) -> None:
        self.directory = owners_directory(db_path)
        self.directory.mkdir(exist_ok=True)
        self.name = f"{os.getpid()}-{secrets.token_hex(4)}{LEASE_SUFFIX}"
        pending = self.directory / (_PENDING_PREFIX + self.name)
        fd = os.open(pending, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.rename(pending, self.directory / self.name)
        except BaseException:
            os.close(fd)
            pending.unlink(missing_ok=True)
            raise
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Delete the lease file and drop the lock (idempotent)."""
        if self._fd is None:
            return
        try:
            (self.directory / self.name).unlink(missing_ok=True)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> OwnerLease:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def owner_is_alive(directory: Path, owner: str | None, *, remove_if_dead: bool = True) -> bool:
    """Whether the process named ``owner`` still holds its lease in ``directory``.

    ``None`` (a run written before leases existed) and names that are not a lease file name
    count as dead. A dead owner's file is deleted (``remove_if_dead``) while its lock is held.
    """
    if not owner or "/" in owner or not owner.endswith(LEASE_SUFFIX) or owner.startswith("."):
        return False
    path = directory / owner
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        if remove_if_dead:
            path.unlink(missing_ok=True)
        return False
    finally:
        os.close(fd)


def _older_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime > seconds
    except FileNotFoundError:
        return False


def remove_dead_leases(directory: Path, *, keep: str | None = None) -> int:
    """Delete every ``*.lock`` file in ``directory`` whose owner is gone; returns how many."""
    removed = 0
    try:
        names = [p.name for p in directory.iterdir() if p.name.endswith(LEASE_SUFFIX)]
    except FileNotFoundError:
        return 0
    for name in names:
        if name == keep:
            continue
        if name.startswith(_PENDING_PREFIX):  # a process that died between creating and naming its lease
            if _older_than(directory / name, _PENDING_GRACE_SECONDS) and not owner_is_alive(directory, name):
                removed += 1
            continue
        if (directory / name).exists() and not owner_is_alive(directory, name):
            removed += 1
    if removed:
        logger.info("removed %d lease file(s) of processes that ended", removed)
    return removed
