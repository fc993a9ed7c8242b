"""scan_report(): what was saved, read back from the database, plus what was not, marked unsaved."""

from actors.coordinator import DebateSummary, ScanOutcome
from actors.report import debate_cell, scan_report
from actors.store import reader, schema, writes
from messages.debate import DebateFinished, DebateStatus, Verdict
from messages.scan import RunStatus
from messages.storage import SaveAgentOutcome, SaveCheckpoint, SaveDebate
from tests.store.conftest import begin, bull_outcome, checkpoint, risk_outcome


def test_unsaved_debate_and_thesis_are_shown_beside_the_saved_ones(tmp_path):
    """AAPL's bull saved but its risk thesis and debate row refused; MSFT's debate saved: each marked as it is."""
    db = tmp_path / "r.db"
    conn, _ = schema.open_writer(db)
    writes.execute(conn, begin())
    writes.execute(conn, SaveCheckpoint(checkpoint()))
    writes.execute(conn, SaveAgentOutcome(bull_outcome()))
    msft = DebateFinished("run-1", "MSFT", DebateStatus.FAILED, None, None, "bear: timeout")
    writes.execute(conn, SaveDebate(msft))
    conn.close()
    aapl = DebateFinished("run-1", "AAPL", DebateStatus.COMPLETED, Verdict.ADJUST, 0.55, None)
    reason = "1 thesis and 1 debate row (AAPL) not saved: locked"
    summary = DebateSummary(2, 1, None, (aapl, msft), unsaved_outcomes=(risk_outcome(),), unsaved_debates=(aapl,),
                            unsaved_error="locked")
    outcome = ScanOutcome("run-1", RunStatus.PARTIAL, reason, checkpoint().results, (), (), summary, 1.0, 4,
                          unsaved=(reason,))

    report = scan_report(outcome, reader.load_run(db, "run-1"), db=str(db))

    rows = {r["ticker"]: r for r in report["results"]}
    assert {t: r["saved"] for t, r in rows.items()} == {"AAPL": True, "MSFT": True, "CLX": True}
    assert rows["AAPL"]["debate"]["saved"] is False and rows["AAPL"]["debate"]["verdict"] == "adjust"
    assert [(t["role"], t["saved"]) for t in rows["AAPL"]["debate"]["theses"]] == [("bull", True), ("risk", False)]
    assert rows["MSFT"]["debate"]["saved"] is True and rows["CLX"]["debate"] is None
    assert (report["status"], report["reason"], report["unsaved"]) == ("PARTIAL", reason, [reason])
    assert debate_cell(rows["AAPL"]["debate"]) == "adjust 0.55 (unsaved)"
    assert debate_cell(rows["MSFT"]["debate"]) == "failed: bear"


def test_a_fully_saved_run_reads_back_with_every_row_saved(tmp_path):
    """Nothing refused: the report is the stored run, every row saved, no unsaved list."""
    db = tmp_path / "r.db"
    conn, _ = schema.open_writer(db)
    writes.execute(conn, begin())
    writes.execute(conn, SaveCheckpoint(checkpoint()))
    conn.close()
    outcome = ScanOutcome("run-1", RunStatus.PARTIAL, None, checkpoint().results, (), (), DebateSummary(0, 0, None),
                          1.0, 4)
    report = scan_report(outcome, reader.load_run(db, "run-1"), db=str(db))
    assert report["unsaved"] == [] and all(r["saved"] for r in report["results"])
    assert report["status"] == "PARTIAL"  # as stored
