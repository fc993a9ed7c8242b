"""What each command does to the database, one transaction each (synchronous, no actor)."""

from __future__ import annotations

import datetime as dt
import math

import attrs
import pytest

from actors.errors import StoreError
from actors.store import reader, recovery, schema, writes
from messages.articles import ClaimArticle
from messages.debate import DebateStatus
from messages.scan import CheckpointCommitted, Phase, RunStatus
from messages.storage import (
    AddArticles, Committed, FinishRun, RecordPhase, SaveAgentOutcome, SaveCheckpoint, SaveDebate,
)
from .conftest import (
    T0, begin, bull_outcome, checkpoint, debate, failed_outcome, headline, result, risk_outcome,
)


@pytest.fixture
def conn(tmp_path):
    c, _ = schema.open_writer(tmp_path / "w.db")
    yield c
    c.close()


def _count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def test_checkpoint_round_trips_every_field(conn, tmp_path):
    """Scores, picks, no-option reasons, catalysts and data errors read back equal."""
    writes.execute(conn, begin())
    cp = checkpoint()
    assert writes.execute(conn, SaveCheckpoint(cp)) == CheckpointCommitted("run-1", 3)
    detail = reader.load_run(tmp_path / "w.db", "run-1")
    assert detail.results == cp.results
    assert detail.results[1].option is None
    assert detail.results[1].no_option_reason == "no contract within the delta target"
    assert detail.data_errors == cp.errors
    assert detail.run.status is RunStatus.PARTIAL
    assert (detail.run.tickers_requested, detail.run.tickers_scored, detail.run.options_chosen) == (4, 3, 2)
    assert detail.run.started_at == T0
    assert detail.settings_json == '{"top_n": 3}'


def test_failing_checkpoint_leaves_no_partial_rows(conn):
    """A checkpoint failing on its last row writes nothing and leaves the run RUNNING."""
    writes.execute(conn, begin())
    cp = checkpoint()
    bad = attrs.evolve(cp, results=cp.results + (result("AAPL", 9),))
    with pytest.raises(StoreError, match=r"SaveCheckpoint run=run-1: ConstraintError: UNIQUE"):
        writes.execute(conn, SaveCheckpoint(bad))
    assert [_count(conn, t) for t in ("ticker_scores", "options_recommendations", "run_errors")] == [0, 0, 0]
    assert conn.execute("SELECT status, tickers_scored FROM scan_runs").fetchall() == [("RUNNING", 0)]
    assert not conn.in_transaction


def test_checkpoint_saved_again_replaces_the_first(conn):
    """A retried checkpoint replaces the earlier one instead of failing or doubling rows."""
    writes.execute(conn, begin())
    writes.execute(conn, SaveCheckpoint(checkpoint()))
    writes.execute(conn, SaveCheckpoint(checkpoint(tickers=("NVDA",))))
    assert conn.execute("SELECT ticker FROM ticker_scores").fetchall() == [("NVDA",)]
    assert _count(conn, "run_errors") == 2


def test_commands_for_an_unknown_run_are_refused(conn):
    """Every run-scoped command names the unknown run id."""
    for command in (SaveCheckpoint(checkpoint("nope")), RecordPhase("nope", Phase.SCORING, "ok", 1.0),
                    SaveAgentOutcome(bull_outcome("nope")), SaveDebate(debate("nope")),
                    FinishRun("nope", RunStatus.COMPLETED, None, 0, 0, 1.0, T0)):
        with pytest.raises(StoreError, match=r"run=nope: unknown run id 'nope' \(send BeginRun first\)"):
            writes.execute(conn, command)
    assert _count(conn, "scan_runs") == 0


def test_begin_run_twice_is_refused(conn):
    """A run id is used once."""
    writes.execute(conn, begin())
    with pytest.raises(StoreError, match="run id 'run-1' already exists"):
        writes.execute(conn, begin())


def test_checkpoint_of_a_finished_run_is_refused(conn):
    """Once COMPLETED, a run's results no longer change."""
    writes.execute(conn, begin())
    writes.execute(conn, FinishRun("run-1", RunStatus.COMPLETED, None, 0, 0, 2.0, T0))
    with pytest.raises(StoreError, match="already COMPLETED"):
        writes.execute(conn, SaveCheckpoint(checkpoint()))


def test_hostile_strings_are_stored_as_data(conn, tmp_path):
    """A ticker made of SQL is stored verbatim; no table is dropped."""
    evil = "x'); DROP TABLE scan_runs;--"
    writes.execute(conn, begin(evil))
    writes.execute(conn, SaveCheckpoint(checkpoint(evil, tickers=(evil, 'y"; DELETE FROM articles;'))))
    writes.execute(conn, AddArticles((headline(evil, evil, 0, url=evil),)))
    detail = reader.load_run(tmp_path / "w.db", evil)
    assert detail.run.id == evil
    assert [r.ticker for r in detail.results] == [evil, 'y"; DELETE FROM articles;']
    assert _count(conn, "scan_runs") == 1 and _count(conn, "articles") == 1


def test_nan_is_refused_without_writing(conn):
    """A NaN score is a clear StoreError, not a half-written checkpoint."""
    writes.execute(conn, begin())
    cp = checkpoint()
    bad = attrs.evolve(cp, results=(attrs.evolve(cp.results[0], score=math.nan),))
    with pytest.raises(StoreError, match="SaveCheckpoint run=run-1"):
        writes.execute(conn, SaveCheckpoint(bad))
    assert _count(conn, "ticker_scores") == 0


def test_outcomes_debates_phases_and_finish_read_back(conn, tmp_path):
    """Theses (ok and failed), debates, phases and the final status are all read back."""
    writes.execute(conn, begin())
    writes.execute(conn, SaveCheckpoint(checkpoint()))
    for phase, seconds in ((Phase.SCORING, 0.5), (Phase.DATA_FETCH, 3.0)):
        writes.execute(conn, RecordPhase("run-1", phase, "ok", seconds, 0, ""))
    writes.execute(conn, RecordPhase("run-1", Phase.SCORING, "partial", 0.75, 2, "2 tickers bad"))
    stamp = T0 + dt.timedelta(seconds=5)
    for outcome in (bull_outcome(), failed_outcome(), risk_outcome()):
        assert writes.execute(conn, SaveAgentOutcome(outcome, stamp)) == Committed("SaveAgentOutcome", "run-1", 1)
    writes.execute(conn, SaveDebate(attrs.evolve(debate(), status=DebateStatus.CUT_OFF)))
    writes.execute(conn, SaveDebate(debate()))
    writes.execute(conn, FinishRun("run-1", RunStatus.COMPLETED, None, 2, 1, 12.5, stamp, ("llm slow",)))
    d = reader.load_run(tmp_path / "w.db", "run-1")
    assert [(p.phase, p.status, p.seconds, p.errors) for p in d.phases] == [
        (Phase.DATA_FETCH, "ok", 3.0, 0), (Phase.SCORING, "partial", 0.75, 2)]
    assert [t.outcome for t in d.theses] == [bull_outcome(), failed_outcome(), risk_outcome()]
    assert {t.created_at for t in d.theses} == {stamp}
    statuses = conn.execute("SELECT role, status, failure FROM ai_theses ORDER BY id").fetchall()
    assert statuses == [("bull", "ok", None), ("bear", "failed", "timeout"), ("risk", "ok", None)]
    assert d.debates == (debate(),)
    assert (d.run.status, d.run.debates_requested, d.run.debates_completed) == (RunStatus.COMPLETED, 2, 1)
    assert (d.run.duration_seconds, d.run.finished_at, d.errors) == (12.5, stamp, ("llm slow",))


def test_recovery_finishes_open_runs_of_dead_owners_and_requeues_scoring_articles(conn):
    """Dead owner: RUNNING and PARTIAL without finished_at → INTERRUPTED naming the phase; expired leases → pending."""
    writes.execute(conn, begin("a"), owner="dead.lock")
    writes.execute(conn, begin("b", at=T0 + dt.timedelta(hours=1)), owner="dead.lock")
    writes.execute(conn, RecordPhase("b", Phase.PERSIST, "ok", 0.1))
    writes.execute(conn, SaveCheckpoint(checkpoint("b")))
    writes.execute(conn, SaveAgentOutcome(bull_outcome("b", "AAPL")))
    writes.execute(conn, SaveAgentOutcome(risk_outcome("b", "AAPL")))
    writes.execute(conn, SaveDebate(debate("b", "AAPL")))
    writes.execute(conn, SaveAgentOutcome(failed_outcome("b", "MSFT")))
    writes.execute(conn, AddArticles((headline("AAPL", "x", 0), headline("AAPL", "y", 1))))
    writes.execute(conn, ClaimArticle(now=T0, lease_seconds=60, max_attempts=3))  # expired long ago
    asked = []
    assert recovery.recover(conn, owner_alive=lambda o: asked.append(o) or False) == (("a", "b"), 1)
    assert asked == ["dead.lock"]  # one question per owner
    rows = conn.execute(
        "SELECT id, status, status_reason, finished_at IS NOT NULL, debates_requested, debates_completed"
        " FROM scan_runs ORDER BY id").fetchall()
    assert rows == [
        ("a", "INTERRUPTED", "process ended during the data_fetch phase; found by start-up recovery", 1, 0, 0),
        ("b", "INTERRUPTED", "process ended during the data_fetch phase; found by start-up recovery", 1, 2, 1),
    ]
    assert conn.execute("SELECT DISTINCT status FROM articles").fetchall() == [("pending",)]
    assert _count(conn, "ai_theses") == 3 and _count(conn, "ticker_scores") == 3  # everything saved stays
    assert recovery.recover(conn, owner_alive=lambda o: False) == ((), 0)


def test_recovery_names_the_phase_after_the_last_recorded_one(conn):
    """Phases up to persist recorded → it died in ai_debate; all recorded → before the final status."""
    writes.execute(conn, begin("a"))
    writes.execute(conn, begin("b"))
    for phase in list(Phase)[:-1]:
        writes.execute(conn, RecordPhase("a", phase, "ok", 0.1))
    for phase in Phase:
        writes.execute(conn, RecordPhase("b", phase, "ok", 0.1))
    assert recovery.recover(conn, owner_alive=lambda o: False) == (("a", "b"), 0)
    reasons = dict(conn.execute("SELECT id, status_reason FROM scan_runs").fetchall())
    assert reasons["a"] == "process ended during the ai_debate phase; found by start-up recovery"
    assert reasons["b"].startswith("process ended after its last phase")


def test_recovery_leaves_runs_of_live_owners_and_finished_runs_alone(conn):
    """A live owner's RUNNING and PARTIAL runs and any finished run are not touched."""
    writes.execute(conn, begin("live-running"), owner="live.lock")
    writes.execute(conn, begin("live-partial"), owner="live.lock")
    writes.execute(conn, SaveCheckpoint(checkpoint("live-partial")))
    writes.execute(conn, begin("done"), owner="dead.lock")
    writes.execute(conn, FinishRun("done", RunStatus.COMPLETED, None, 0, 0, 1.0, T0))
    before = conn.execute("SELECT * FROM scan_runs ORDER BY id").fetchall()
    assert recovery.recover(conn, owner_alive=lambda o: o == "live.lock") == ((), 0)
    assert conn.execute("SELECT * FROM scan_runs ORDER BY id").fetchall() == before


def test_begin_run_records_its_owner(conn):
    """The writer's lease name is on the run row."""
    writes.execute(conn, begin("a"), owner="123-abcd.lock")
    assert conn.execute("SELECT owner FROM scan_runs").fetchall() == [("123-abcd.lock",)]


def test_interrupted_finish_counts_debates_from_the_saved_rows(conn):
    """FinishRun INTERRUPTED with 0/0 still records what the debates and theses rows show."""
    writes.execute(conn, begin("a"))
    writes.execute(conn, SaveCheckpoint(checkpoint("a")))
    writes.execute(conn, SaveDebate(debate("a", "AAPL")))
    writes.execute(conn, SaveAgentOutcome(failed_outcome("a", "MSFT")))
    writes.execute(conn, FinishRun("a", RunStatus.INTERRUPTED, "interrupted", 0, 0, 1.0, T0))
    row = conn.execute("SELECT debates_requested, debates_completed FROM scan_runs").fetchall()
    assert row == [(2, 1)]


def test_unknown_command_is_a_store_error(conn):
    """Anything that is not a storage command is refused by name."""
    with pytest.raises(StoreError, match="does not understand 'str'"):
        writes.execute(conn, "DROP TABLE scan_runs")
