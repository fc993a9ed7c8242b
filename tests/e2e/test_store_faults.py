"""bin/scan against storage faults: concurrent scans, a locked database, a full disk (real processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import apsw
import pytest

from actors.fakes.offline import OFFLINE_ENV
from actors.fakes.ollama_testing import FakeOllama
from actors.store.owners import owners_directory
from tests.e2e.db_poll import rows, wait_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path / "home"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PYTHONPATH": str(ROOT),
        **OFFLINE_ENV,
    }


def _start(tmp_path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "actors.cli", *args], cwd=ROOT, env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen, timeout: float = 180) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def test_three_concurrent_scans_on_one_database_each_end_with_their_own_status(tmp_path):
    """Three bin/scan processes share one db: each run COMPLETED with its own tickers; no lease left behind."""
    db = tmp_path / "shared.db"
    sizes = (600, 200, 50)
    procs = [_start(tmp_path, "--source", "sim", "--universe-size", str(n), "--seed", str(n), "--no-debate",
                    "--json", "--db", str(db)) for n in sizes]
    results = [_finish(p) for p in procs]
    for code, out, err in results:
        assert code == 0, err
    reports = [json.loads(out) for _, out, _ in results]
    assert [r["status"] for r in reports] == ["COMPLETED"] * 3
    stored = dict(rows(db, "SELECT id, status || ' ' || tickers_scored FROM scan_runs"))
    assert stored == {r["run_id"]: f"COMPLETED {n}" for r, n in zip(reports, sizes)}
    assert len({row[0] for row in rows(db, "SELECT owner FROM scan_runs")}) == 3
    assert list(owners_directory(db).glob("*.lock")) == []


def test_disk_full_at_the_checkpoint_shows_the_results_marked_unsaved_and_exits_1(tmp_path):
    """A size cap below the checkpoint: exit 1, all 200 results in --json with saved=false; the table says NOT SAVED."""
    db = tmp_path / "full.db"
    code, out, err = _finish(_start(tmp_path, "--demo", "--no-debate", "--json", "--db", str(db),
                                    "--set", "store_max_size_mb=0.1"))
    assert code == 1, err
    report = json.loads(out)
    assert report["status"] == "FAILED" and "database or disk is full" in report["reason"]
    assert len(report["results"]) == 200 and {r["saved"] for r in report["results"]} == {False}
    assert report["unsaved"][0].startswith("200 ranked tickers not saved")
    assert rows(db, "SELECT count(*) FROM ticker_scores") == [(0,)]
    assert rows(db, "SELECT status FROM scan_runs") == [("FAILED",)]

    code, out, _ = _finish(_start(tmp_path, "--demo", "--no-debate", "--db", str(tmp_path / "full2.db"),
                                  "--set", "store_max_size_mb=0.1"))
    assert code == 1
    assert "[NOT SAVED]" in out and "Nothing was ranked" not in out
    assert "200 ranked tickers" in out and "NOT saved" in out


def _debate_scan(tmp_path: Path, fake: FakeOllama, db: Path, *extra: str) -> subprocess.Popen:
    return _start(tmp_path, "--source", "sim", "--universe-size", "40", "--json", "--db", str(db),
                  "--set", f"ollama_host={fake.url}", "--set", "top_n_ai_debate=6",
                  "--set", "ai_debate_concurrency=2", "--set", "ai_retry_delays=0.1", *extra)


def _hold_write_lock_mid_debate(db: Path, seconds: float) -> None:
    wait_for(db, "SELECT count(*) >= 2 FROM ai_theses")
    conn = apsw.Connection(str(db))
    conn.set_busy_timeout(10000)
    conn.execute("BEGIN IMMEDIATE")
    try:
        time.sleep(seconds)
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def _theses(report: dict) -> list[dict]:
    return [t for r in report["results"] if r["debate"] for t in r["debate"]["theses"]]


def test_a_database_locked_past_the_busy_bound_mid_debate_ends_partial_naming_the_unsaved_rows(tmp_path):
    """Another connection holds the write lock 2.5 s against a ~0.5 s bound: PARTIAL, reason names what
    was not saved, those rows are in --json with saved=false, and saved + unsaved = every agent call."""
    db = tmp_path / "locked.db"
    with FakeOllama(latency_first=0.25) as fake:
        proc = _debate_scan(tmp_path, fake, db, "--set", "store_busy_timeout=0.1",
                            "--set", "store_busy_retry_delays=0.1,0.1")
        _hold_write_lock_mid_debate(db, 2.5)
        code, out, err = _finish(proc)
    assert code == 0, err
    report = json.loads(out)
    assert report["status"] == "PARTIAL" and "not saved" in report["reason"] and "locked" in report["reason"]
    theses = _theses(report)
    unsaved = [t for t in theses if not t["saved"]]
    stored = rows(db, "SELECT count(*) FROM ai_theses WHERE run_id = ?", (report["run_id"],))[0][0]
    assert unsaved and stored + len(unsaved) == len(theses)  # every agent call: saved or shown unsaved
    status, reason = rows(db, "SELECT status, status_reason FROM scan_runs")[0]
    assert status == "PARTIAL" and "not saved" in reason


def test_a_database_locked_shorter_than_the_busy_bound_is_waited_out_and_completes(tmp_path):
    """A 0.3 s lock against a ~3.5 s bound: every write retried and saved, COMPLETED, exit 0."""
    db = tmp_path / "short.db"
    with FakeOllama(latency_first=0.25) as fake:
        proc = _debate_scan(tmp_path, fake, db, "--set", "store_busy_timeout=0.5",
                            "--set", "store_busy_retry_delays=0.5,1")
        _hold_write_lock_mid_debate(db, 0.3)
        code, out, err = _finish(proc)
    assert code == 0, err
    report = json.loads(out)
    assert report["status"] == "COMPLETED" and report["unsaved"] == []
    assert all(t["saved"] for t in _theses(report)) and len(_theses(report)) == 18
    assert rows(db, "SELECT count(*), min(status) FROM scan_runs") == [(1, "COMPLETED")]
    assert rows(db, "SELECT count(*) FROM ai_theses") == [(18,)]  # 6 debates × 3 agents, all saved


def test_disk_full_during_the_debate_ends_partial_with_the_reason(tmp_path):
    """The file reaches its size cap after the checkpoint: theses that do not fit are reported, never COMPLETED."""
    db = tmp_path / "fills.db"
    with FakeOllama(latency_first=0.25) as fake:
        proc = _debate_scan(tmp_path, fake, db, "--set", "store_max_size_mb=1")
        wait_for(db, "SELECT count(*) >= 1 FROM ai_theses")
        conn = apsw.Connection(str(db))  # no cap on this connection: fill the file up to the scan's cap
        conn.set_busy_timeout(10000)
        pages = conn.execute("PRAGMA page_count").fetchall()[0][0]
        conn.execute("CREATE TABLE filler (b BLOB)")
        conn.execute("INSERT INTO filler VALUES (zeroblob(?))", ((256 - pages) * 4096,))
        conn.close()
        code, out, err = _finish(proc)
    report = json.loads(out)
    assert report["status"] != "COMPLETED"
    assert code in (0, 1), err  # 1 when even the final status could not be written
    assert "not saved" in report["reason"] or report["unsaved"]
    unsaved = [t for t in _theses(report) if not t["saved"]]
    stored = rows(db, "SELECT count(*) FROM ai_theses")[0][0]
    assert unsaved and stored + len(unsaved) == len(_theses(report))  # every agent call: saved or shown unsaved
    assert any("database or disk is full" in u for u in report["unsaved"])


def test_sigterm_mid_debate_gives_every_stopped_debate_a_row(tmp_path, fake_ollama):
    """SIGTERM while 3 debates wait on the LLM: exit 130; 3 cut_off and 7 skipped rows, reason interrupted;
    the run INTERRUPTED during ai_debate with 10 requested, 0 completed."""
    fake_ollama.configure(latency_first=30.0)
    db = tmp_path / "term.db"
    proc = _start(tmp_path, "--source", "sim", "--universe-size", "20", "--db", str(db),
                  "--set", f"ollama_host={fake_ollama.url}")
    try:
        wait_for(db, "SELECT count(*) FROM run_phases WHERE phase = 'persist'")
        deadline = time.monotonic() + 30
        while sum(r.path == "/api/chat" for r in fake_ollama.requests()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.terminate()
        code, _, err = _finish(proc, timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert code == 130, err
    debates = rows(db, "SELECT status, reason, count(*) FROM debates GROUP BY status, reason ORDER BY status")
    assert debates == [("cut_off", "interrupted", 3), ("skipped", "interrupted", 7)]
    assert rows(db, "SELECT role, failure, count(*) FROM ai_theses GROUP BY role, failure") == [("bull", "cancelled", 3)]
    run = rows(db, "SELECT status, status_reason, debates_requested, debates_completed, finished_at IS NOT NULL"
                    " FROM scan_runs")
    assert run == [("INTERRUPTED", "interrupted by the user or the service manager during ai_debate", 10, 0, 1)]
