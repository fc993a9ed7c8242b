"""bin/scan as a user runs it: exit codes, --json shape, the database, runs/show, config errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import apsw
import pytest

from actors.fakes.offline import OFFLINE_ENV

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def scan(*args: str, tmp_path: Path, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path / "home"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        **OFFLINE_ENV,
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "actors.cli", *args],
        cwd=ROOT, env={**full_env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=timeout,
    )


def test_demo_prints_the_table_and_saves_a_partial_run_without_llm(tmp_path):
    """--demo with no LLM running: table, PARTIAL with the reason and what to do, exit 0, default db."""
    result = scan("--demo", "--set", "ollama_host=http://127.0.0.1:9", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "SYNTHETIC" in result.stdout
    assert "PARTIAL" in result.stdout and "llm_unreachable" in result.stdout
    assert "start Ollama" in result.stdout
    db = tmp_path / "state" / "option-alpha" / "option-alpha.db"
    assert db.exists()
    rows = apsw.Connection(str(db)).execute("select status, tickers_requested from scan_runs").fetchall()
    assert rows == [("PARTIAL", 200)]


def test_json_output_is_one_object_that_matches_the_database(tmp_path):
    """--json prints exactly one JSON object whose rows are the rows in the database."""
    db = tmp_path / "scan.db"
    result = scan("--source", "sim", "--universe-size", "30", "--ai-backend", "none", "--json", "--db", str(db),
                  tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) >= {"run_id", "status", "db", "phases", "results", "debate"}
    assert report["status"] == "COMPLETED"
    assert [p["name"] for p in report["phases"]] == ["data_fetch", "scoring", "catalysts", "options", "persist", "ai_debate"]
    assert report["debate"] == {"requested": 0, "completed": 0,
                                "skipped_reason": "skipped by configuration (ai_backend = none)"}
    first = report["results"][0]
    assert set(first) >= {"ticker", "rank", "score", "direction", "catalysts", "option", "no_option_reason", "debate"}
    conn = apsw.Connection(str(db))
    stored = conn.execute("select ticker, rank, score from ticker_scores where run_id = ? order by rank",
                          (report["run_id"],)).fetchall()
    assert [(r["ticker"], r["rank"], r["score"]) for r in report["results"]] == [tuple(r) for r in stored]
    picks = conn.execute("select ticker, contract from options_recommendations where run_id = ?",
                         (report["run_id"],)).fetchall()
    assert sorted((r["ticker"], r["option"]["contract"]) for r in report["results"] if r["option"]) == sorted(picks)
    for r in report["results"]:
        assert (r["option"] is None) == (r["no_option_reason"] is not None)


def test_snapshot_recommends_a_real_contract_from_the_recorded_aapl_chain(tmp_path):
    """--source snapshot scans the recorded tickers and picks a real AAPL contract."""
    result = scan("--source", "snapshot", "--no-debate", "--json", "--db", str(tmp_path / "s.db"), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    aapl = next(r for r in report["results"] if r["ticker"] == "AAPL")
    assert aapl["as_of"] == "2026-07-24"
    # The recorded chain (24 July) is a session newer than the recorded chart (to 23 July): the
    # row is aligned on the chain's underlying price and flagged; the quote's age is counted.
    chain = json.loads((ROOT / "actors/providers/snapshot_data/cboe/cboe_options_AAPL.json").read_text())
    if aapl["option"] is not None:
        assert aapl["last_close"] == chain["data"]["current_price"]
        assert aapl["data_flags"] == ["mixed-dates"] and aapl["quote_age_s"] > 0
    if aapl["direction"] == "neutral":
        assert aapl["no_option_reason"].startswith("neutral")
    else:
        assert aapl["option"]["contract"].startswith("AAPL2608") or aapl["option"]["contract"].startswith("AAPL2609")
        assert 30 <= aapl["option"]["dte"] <= 60


def test_runs_and_show_print_a_stored_run(tmp_path):
    """`runs` lists the run; `show` prints the same results as the scan's --json."""
    db = tmp_path / "r.db"
    first = scan("--source", "sim", "--universe-size", "20", "--no-debate", "--json", "--db", str(db), tmp_path=tmp_path)
    report = json.loads(first.stdout)
    runs = scan("runs", "--db", str(db), "--json", tmp_path=tmp_path)
    assert runs.returncode == 0
    assert [r["run_id"] for r in json.loads(runs.stdout)["runs"]] == [report["run_id"]]
    shown = scan("show", report["run_id"][:12], "--db", str(db), "--json", tmp_path=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["results"] == report["results"]
    table = scan("show", report["run_id"], "--db", str(db), tmp_path=tmp_path)
    assert report["results"][0]["ticker"] in table.stdout
    missing = scan("show", "nope", "--db", str(db), tmp_path=tmp_path)
    assert missing.returncode == 2 and "nope" in missing.stderr


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--set", "ai_debate_concurrency=0"], {}, "ai_debate_concurrency: expected a value >= 1"),
        ([], {"OPTION_ALPHA_AI_RETRY_DELAYS": "2,four"}, "from env OPTION_ALPHA_AI_RETRY_DELAYS"),
        (["--source", "yahoo"], {}, "source: expected one of live, snapshot, sim"),
        (["--bogus"], {}, "unrecognized arguments: --bogus"),
    ],
)
def test_bad_configuration_exits_2_with_a_clear_message(tmp_path, args, env, message):
    """Bad settings and flags exit 2 naming the problem."""
    result = scan(*args, tmp_path=tmp_path, env=env)
    assert result.returncode == 2
    assert message in result.stderr


def test_print_config_masks_the_api_key(tmp_path):
    """--print-config shows effective settings; the key never appears."""
    result = scan("--print-config", tmp_path=tmp_path, env={"ANTHROPIC_API_KEY": "sk-ant-VERYSECRET"})
    assert result.returncode == 0
    config = json.loads(result.stdout)
    assert config["anthropic_api_key"] == "***"
    assert config["top_n_ai_debate"] == 10
    assert "VERYSECRET" not in result.stdout + result.stderr


def test_fail_on_partial_exits_3(tmp_path):
    """A PARTIAL run (LLM down) exits 3 with --fail-on-partial."""
    result = scan("--source", "sim", "--universe-size", "20", "--fail-on-partial", "--db", str(tmp_path / "p.db"),
                  "--set", "ollama_host=http://127.0.0.1:9", tmp_path=tmp_path)
    assert result.returncode == 3, result.stderr


def test_all_unknown_tickers_fail_with_exit_1(tmp_path):
    """A universe of unknown tickers: FAILED, exit 1, the run is saved as FAILED."""
    db = tmp_path / "f.db"
    result = scan("--source", "snapshot", "--universe", "NOPE,ZZZZ", "--no-debate", "--db", str(db), tmp_path=tmp_path)
    assert result.returncode == 1
    assert "FAILED" in result.stdout
    assert apsw.Connection(str(db)).execute("select status from scan_runs").fetchall() == [("FAILED",)]


def test_demo_with_a_healthy_llm_completes_with_three_theses_per_ticker(tmp_path, fake_ollama):
    """--demo against bin/fake-ollama: COMPLETED, 3 theses per debated ticker in the database."""
    fake_ollama.configure(latency_first=0.01, chunk_interval=0.0)
    db = tmp_path / "d.db"
    result = scan("--demo", "--json", "--db", str(db), "--set", f"ollama_host={fake_ollama.url}",
                  "--set", "top_n_ai_debate=4", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "COMPLETED", report["reason"]
    assert report["debate"]["requested"] == report["debate"]["completed"] == 4
    conn = apsw.Connection(str(db))
    counts = conn.execute(
        "select ticker, count(*), group_concat(role) from ai_theses where run_id = ? and status = 'ok' group by ticker",
        (report["run_id"],),
    ).fetchall()
    assert len(counts) == 4
    assert all(n == 3 for _, n, _ in counts)
    debated = [r for r in report["results"] if r["debate"]]
    assert len(debated) == 4
    assert all(r["debate"]["status"] == "completed" and r["debate"]["verdict"] in ("take", "adjust", "avoid")
               for r in debated)
    assert all([t["role"] for t in r["debate"]["theses"]] == ["bull", "bear", "risk"] for r in debated)


def test_ctrl_c_exits_130_and_marks_the_run_interrupted(tmp_path, fake_ollama):
    """SIGINT during the debate: exit 130, the checkpoint stays, the run is INTERRUPTED."""
    import signal
    import time

    fake_ollama.configure(latency_first=30.0)
    db = tmp_path / "i.db"
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PYTHONPATH": str(ROOT), **OFFLINE_ENV}
    proc = subprocess.Popen(
        [sys.executable, "-m", "actors.cli", "--source", "sim", "--universe-size", "20", "--db", str(db),
         "--set", f"ollama_host={fake_ollama.url}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if any(r.path == "/api/chat" for r in fake_ollama.requests()):
                break
            time.sleep(0.1)
        else:
            pytest.fail("the scan never reached the debate phase")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130, err
    conn = apsw.Connection(str(db))
    assert conn.execute("select status from scan_runs").fetchall() == [("INTERRUPTED",)]
    assert conn.execute("select count(*) from ticker_scores").fetchall()[0][0] == 20
