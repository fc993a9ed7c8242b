"""Usage per agent call in ai_theses: migration 3, the write, the reader and the --json report."""

from __future__ import annotations

import json

import apsw
import attrs

from actors.report import detail_to_dict
from actors.store import reader, schema, writes
from messages.storage import SaveAgentOutcome, SaveCheckpoint, SaveDebate

from .conftest import T0, begin, bull_outcome, checkpoint, debate, failed_outcome

USAGE = {"input_tokens": 812, "output_tokens": 140, "generation_seconds": 3.5, "prompt_seconds": 0.25,
         "load_seconds": 41.0}


def with_usage():
    return attrs.evolve(bull_outcome(), **USAGE)


def test_migration_3_adds_usage_columns_and_keeps_old_theses(tmp_path):
    """A version-1 database with a thesis migrates: the row stays, the new columns are NULL for it."""
    path = tmp_path / "old.db"
    raw = apsw.Connection(str(path))
    raw.execute(schema.MIGRATIONS[0])
    raw.execute("PRAGMA user_version = 1")
    raw.execute("INSERT INTO scan_runs (id, started_at, status, source) VALUES ('run-1', ?, 'PARTIAL', 'sim')",
                (T0.isoformat(),))
    raw.execute(
        "INSERT INTO ai_theses (run_id, ticker, role, model, status, attempts, latency_seconds, created_at)"
        " VALUES ('run-1', 'MSFT', 'bear', 'm', 'failed', 1, 2.0, ?)", (T0.isoformat(),))
    raw.close()
    conn, found = schema.open_writer(path)
    try:
        assert found == 1 and schema.schema_version(conn) == schema.SCHEMA_VERSION
        columns = {r[1] for r in conn.execute("PRAGMA table_info(ai_theses)")}
        assert {"generation_seconds", "prompt_seconds", "load_seconds", "input_tokens", "output_tokens"} <= columns
        rows = conn.execute("SELECT ticker, generation_seconds, prompt_seconds, load_seconds FROM ai_theses").fetchall()
        assert rows == [("MSFT", None, None, None)]
    finally:
        conn.close()


def test_usage_is_stored_with_the_thesis_and_read_back(tmp_path):
    """Tokens and seconds land in the row's columns and come back on the AgentOutcome."""
    path = tmp_path / "u.db"
    conn, _ = schema.open_writer(path)
    writes.execute(conn, begin())
    writes.execute(conn, SaveAgentOutcome(with_usage(), T0))
    writes.execute(conn, SaveAgentOutcome(failed_outcome(), T0))
    row = conn.execute("SELECT input_tokens, output_tokens, generation_seconds, prompt_seconds, load_seconds"
                       " FROM ai_theses WHERE ticker = 'AAPL'").fetchall()
    conn.close()
    assert row == [(812, 140, 3.5, 0.25, 41.0)]
    detail = reader.load_run(path, "run-1")
    stored, failed = (t.outcome for t in detail.theses)
    assert stored == with_usage() and stored.tokens_per_second == 40.0
    assert failed.generation_seconds is None and failed.tokens_per_second is None
    by_ticker = reader.load_theses(path, "run-1")
    assert by_ticker["AAPL"][0]["tokens_per_second"] == 40.0 and by_ticker["AAPL"][0]["load_seconds"] == 41.0


def test_json_report_shows_usage_per_thesis(tmp_path):
    """--json (detail_to_dict, as bin/scan prints it) carries each thesis's usage and rate."""
    path = tmp_path / "r.db"
    conn, _ = schema.open_writer(path)
    writes.execute(conn, begin())
    writes.execute(conn, SaveCheckpoint(checkpoint()))
    writes.execute(conn, SaveAgentOutcome(with_usage(), T0))
    writes.execute(conn, SaveDebate(debate()))
    conn.close()
    report = json.loads(json.dumps(detail_to_dict(reader.load_run(path, "run-1"), db=str(path))))
    (aapl,) = [r for r in report["results"] if r["ticker"] == "AAPL"]
    (thesis,) = aapl["debate"]["theses"]
    assert thesis["usage"] == {**USAGE, "tokens_per_second": 40.0}
