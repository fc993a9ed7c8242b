"""Opening, migrating and refusing databases."""

from __future__ import annotations

import apsw
import pytest

from actors.errors import DiskFull, StoreBusy, StoreError
from actors.store import schema

TABLES = {"scan_runs", "run_phases", "run_errors", "ticker_scores", "options_recommendations",
          "ai_theses", "debates", "articles"}


def _tables(conn: apsw.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_migrates_an_empty_file_to_the_current_version(tmp_path):
    """A new file gets every table, user_version, WAL and foreign keys."""
    conn, found = schema.open_writer(tmp_path / "a.db")
    try:
        assert found == 0
        assert schema.schema_version(conn) == schema.SCHEMA_VERSION == len(schema.MIGRATIONS)
        assert TABLES <= _tables(conn)
        assert conn.execute("PRAGMA journal_mode").fetchall()[0][0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchall()[0][0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchall()[0][0] == 5000
    finally:
        conn.close()


def test_migration_is_idempotent(tmp_path):
    """Migrating an up-to-date database changes nothing and keeps its rows."""
    path = tmp_path / "a.db"
    conn, _ = schema.open_writer(path)
    conn.execute("INSERT INTO scan_runs (id, started_at, status, source) VALUES ('r', 't', 'RUNNING', 's')")
    latest = schema.SCHEMA_VERSION
    assert schema.migrate(conn) == (latest, latest)
    conn.close()
    conn, found = schema.open_writer(path)
    try:
        assert found == latest
        assert conn.execute("SELECT id FROM scan_runs").fetchall() == [("r",)]
    finally:
        conn.close()


def test_refuses_a_database_with_a_newer_schema(tmp_path):
    """A user_version above ours is a clear StoreError for writers and readers alike."""
    path = tmp_path / "new.db"
    raw = apsw.Connection(str(path))
    raw.execute("CREATE TABLE t (x); PRAGMA user_version = 99")
    raw.close()
    with pytest.raises(StoreError, match=rf"schema version 99 is newer than this option-alpha knows \({schema.SCHEMA_VERSION}\)"):
        schema.open_writer(path)
    with pytest.raises(StoreError, match="newer"):
        schema.open_readonly(path)


def test_failed_migration_keeps_the_previous_version(tmp_path, monkeypatch):
    """A migration that fails half-way is rolled back with its version bump."""
    path = tmp_path / "a.db"
    conn, _ = schema.open_writer(path)
    broken = "CREATE TABLE extra (x); INSERT INTO no_such_table VALUES (1);"
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS + (broken,))
    monkeypatch.setattr(schema, "SCHEMA_VERSION", len(schema.MIGRATIONS))
    with pytest.raises(apsw.SQLError):
        schema.migrate(conn)
    try:
        assert schema.schema_version(conn) == len(schema.MIGRATIONS) - 1
        assert "extra" not in _tables(conn)
        assert not conn.in_transaction
    finally:
        conn.close()


def test_readonly_refuses_a_missing_file_and_a_foreign_database(tmp_path):
    """Readers get a clear error instead of an empty database being created."""
    with pytest.raises(StoreError, match="no database there"):
        schema.open_readonly(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()
    raw = apsw.Connection(str(tmp_path / "other.db"))
    raw.execute("CREATE TABLE t (x)")
    raw.close()
    with pytest.raises(StoreError, match="not an option-alpha database"):
        schema.open_readonly(tmp_path / "other.db")


def test_unopenable_path_is_a_store_error(tmp_path):
    """A path under a regular file cannot be opened: StoreError chained from apsw."""
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="opening") as info:
        schema.open_writer(tmp_path / "file" / "a.db")
    assert isinstance(info.value.__cause__, apsw.Error)


def test_full_error_maps_to_disk_full_busy_to_store_busy_and_others_to_store_error():
    """apsw.FullError becomes DiskFull, BusyError StoreBusy; any other apsw error a plain StoreError."""
    full = schema.map_apsw_error(apsw.FullError("database or disk is full"), "SaveCheckpoint run=r")
    busy = schema.map_apsw_error(apsw.BusyError("database is locked"), "BeginRun run=r")
    other = schema.map_apsw_error(apsw.ConstraintError("UNIQUE failed"), "BeginRun run=r")
    assert isinstance(full, DiskFull) and "SaveCheckpoint run=r" in str(full)
    assert type(busy) is StoreBusy and str(busy).startswith("BeginRun run=r: database is locked by another connection")
    assert type(other) is StoreError and str(other) == "BeginRun run=r: ConstraintError: UNIQUE failed"
