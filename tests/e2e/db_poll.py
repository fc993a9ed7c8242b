"""Reading the database a bin/* subprocess is writing: read-only rows, and waiting for a condition."""

from __future__ import annotations

import time
from pathlib import Path

import apsw


def rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """``sql``'s rows from a read-only connection (waits up to 5 s for the writer's lock)."""
    conn = apsw.Connection(str(db), flags=apsw.SQLITE_OPEN_READONLY)
    conn.set_busy_timeout(5000)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def wait_for(db: Path, sql: str, *, timeout: float = 60.0) -> None:
    """Poll until ``sql``'s first value is true (the database may not exist yet); AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if db.exists() and rows(db, sql)[0][0]:
                return
        except apsw.Error:
            pass
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for: {sql}")
