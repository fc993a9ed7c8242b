"""Read-only queries: run list, one run, clear errors."""

from __future__ import annotations

import datetime as dt

import apsw
import pytest

from actors.errors import StoreError
from actors.store import reader, schema, writes
from actors.store.reader import RunNotFound
from messages.storage import SaveCheckpoint
from .conftest import T0, begin, checkpoint


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "r.db"
    conn, _ = schema.open_writer(path)
    for i, run_id in enumerate(("20240105-aaa", "20240105-abb", "20240106-ccc")):
        writes.execute(conn, begin(run_id, at=T0 + dt.timedelta(days=i)))
    writes.execute(conn, SaveCheckpoint(checkpoint("20240106-ccc")))
    conn.close()
    return path


def test_list_runs_is_newest_first_and_limited(db):
    """Runs come newest first, at most ``limit``."""
    assert [r.id for r in reader.list_runs(db)] == ["20240106-ccc", "20240105-abb", "20240105-aaa"]
    assert [r.id for r in reader.list_runs(db, limit=1)] == ["20240106-ccc"]
    with pytest.raises(ValueError, match="limit must be a positive int"):
        reader.list_runs(db, limit=0)


def test_unknown_run_id_is_refused_clearly(db):
    """An unknown id names itself in a RunNotFound (a StoreError and a LookupError)."""
    with pytest.raises(RunNotFound, match="no run with id 'nope'") as info:
        reader.load_run(db, "nope")
    assert isinstance(info.value, StoreError) and isinstance(info.value, LookupError)


def test_a_unique_prefix_names_a_run(db):
    """A unique prefix loads the run; an ambiguous one lists the candidates."""
    assert reader.load_run(db, "20240106").run.id == "20240106-ccc"
    with pytest.raises(RunNotFound, match="ambiguous: matches 20240105-aaa, 20240105-abb"):
        reader.load_run(db, "20240105-a")


def test_prefix_is_not_a_pattern(db):
    """``%`` and ``_`` in a run id are literal characters, not LIKE wildcards."""
    with pytest.raises(RunNotFound):
        reader.load_run(db, "2024010_-ccc")
    with pytest.raises(RunNotFound):
        reader.load_run(db, "%")


def test_reader_cannot_write(db):
    """The reader's connection is read-only."""
    with reader.open_reader(db) as r, pytest.raises(apsw.ReadOnlyError):
        r._conn.execute("DELETE FROM scan_runs")
    assert len(reader.list_runs(db)) == 3


def test_reader_sees_only_committed_rows(db):
    """A writer's open transaction is invisible to the reader (WAL snapshot)."""
    conn, _ = schema.open_writer(db)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DELETE FROM scan_runs WHERE id = '20240105-aaa'")
        assert len(reader.list_runs(db)) == 3
        conn.execute("COMMIT")
        assert len(reader.list_runs(db)) == 2
    finally:
        conn.close()


def test_missing_database_is_a_clear_error(tmp_path):
    """No file: StoreError saying so, and no file is created."""
    with pytest.raises(StoreError, match="no database there"):
        reader.list_runs(tmp_path / "none.db")
    assert not (tmp_path / "none.db").exists()


def test_load_theses_groups_json_shaped_calls_by_ticker(tmp_path):
    """Agent calls come back per ticker in save order, ok and failed alike, ready for JSON."""
    import json

    from messages.storage import SaveAgentOutcome
    from .conftest import bull_outcome, failed_outcome, risk_outcome

    path = tmp_path / "t.db"
    conn, _ = schema.open_writer(path)
    writes.execute(conn, begin())
    for outcome in (bull_outcome(), failed_outcome(), risk_outcome()):
        writes.execute(conn, SaveAgentOutcome(outcome, T0))
    conn.close()
    theses = reader.load_theses(path, "run-1")
    assert sorted(theses) == ["AAPL", "MSFT"]
    assert [t["role"] for t in theses["AAPL"]] == ["bull", "risk"]
    assert theses["AAPL"][0]["thesis"] == {
        "stance": "bullish", "conviction": 0.7, "key_points": ["trend up", "earnings beat"], "summary": "Looks strong."}
    assert theses["MSFT"] == [{
        "role": "bear", "model": "llama3.1:8b", "status": "failed", "failure": "timeout", "thesis": None,
        "attempts": 3, "latency_seconds": 60.0, "input_tokens": None, "output_tokens": None,
        "tokens_per_second": None, "generation_seconds": None, "prompt_seconds": None, "load_seconds": None,
        "detail": "no first chunk within 30 s", "created_at": T0.isoformat()}]
    json.dumps(theses)
