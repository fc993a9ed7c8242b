"""Age of data per row (issue 13): quote_age_s and data_flags are saved, read back, and absent on old rows."""

from __future__ import annotations

import attrs

from actors.report import result_to_dict
from actors.store import reader, schema, writes
from messages.storage import SaveCheckpoint

from .conftest import begin, checkpoint


def test_quote_age_and_flags_round_trip_through_the_store(tmp_path):
    """Saved with the checkpoint; load_run and the streamed rows both give them back."""
    path = tmp_path / "a.db"
    cp = checkpoint()
    aged = (attrs.evolve(cp.results[0], quote_age_s=5400.5, data_flags=("mixed-dates",)), *cp.results[1:])
    conn, _ = schema.open_writer(path)
    writes.execute(conn, begin())
    writes.execute(conn, SaveCheckpoint(attrs.evolve(cp, results=aged)))
    conn.close()
    with reader.open_reader(path) as r:
        loaded = r.load_run("run-1").results
        streamed = list(r.result_rows("run-1"))
    assert (loaded[0].quote_age_s, loaded[0].data_flags) == (5400.5, ("mixed-dates",))
    assert (loaded[1].quote_age_s, loaded[1].data_flags) == (None, ())
    assert (streamed[0]["quote_age_s"], streamed[0]["data_flags"]) == (5400.5, ["mixed-dates"])
    assert result_to_dict(loaded[0], None, None)["data_flags"] == ["mixed-dates"]


def test_rows_written_before_the_migration_read_as_no_flags(tmp_path):
    """A row whose data_flags_json is NULL (written by an older version) has no flags and no age."""
    path = tmp_path / "old.db"
    conn, _ = schema.open_writer(path)
    writes.execute(conn, begin())
    writes.execute(conn, SaveCheckpoint(checkpoint()))
    conn.execute("UPDATE ticker_scores SET data_flags_json = NULL, quote_age_s = NULL")
    conn.close()
    with reader.open_reader(path) as r:
        rows = list(r.result_rows("run-1"))
    assert all(row["data_flags"] == [] and row["quote_age_s"] is None for row in rows)
