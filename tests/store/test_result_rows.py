"""Streaming read-back: ``StoreReader.result_rows`` gives what ``load_run`` + unstructure give, row by row."""

from __future__ import annotations

import json

import pytest

from actors.errors import StoreError
from actors.report import detail_to_dict, result_to_dict
from actors.store import reader, schema, writes
from messages.storage import SaveCheckpoint

from .conftest import begin, checkpoint


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "r.db"
    conn, _ = schema.open_writer(path)
    writes.execute(conn, begin())
    writes.execute(conn, SaveCheckpoint(checkpoint()))
    conn.close()
    return path


def test_result_rows_equal_the_validated_read_back_key_for_key(db):
    """Same keys in the same order and the same values (picks, no picks, dated and undated catalysts)."""
    with reader.open_reader(db) as r:
        validated = [result_to_dict(x, None, None) for x in r.load_run("run-1").results]
        streamed = [dict(row, debate=None, saved=True, news=[], news_flag=None) for row in r.result_rows("run-1")]
    assert json.dumps(streamed) == json.dumps(validated)
    assert [row["option"] is None for row in streamed] == [False, True, False]
    assert streamed[0]["catalysts"][1]["date"] is None


def test_report_from_streamed_rows_equals_the_report_from_the_run(db):
    with reader.open_reader(db) as r:
        full = detail_to_dict(r.load_run("run-1"), db="x")
        streamed = detail_to_dict(r.load_run("run-1", results=False), db="x", results=r.result_rows("run-1"))
        streamed["results"] = list(streamed["results"])
    assert json.dumps(streamed) == json.dumps(full)


def test_result_rows_of_an_unknown_run_fail_before_iterating(db):
    with reader.open_reader(db) as r, pytest.raises(StoreError, match="no run with id"):
        r.result_rows("nope")
