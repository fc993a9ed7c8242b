"""bin/scan --ai-backend claude end to end against bin/fake-anthropic: theses saved, each fault a typed outcome."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
import urllib.parse
from pathlib import Path

import apsw
import pytest

from actors.fakes.anthropic_testing import TEST_KEY
from actors.fakes.offline import OFFLINE_ENV

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e

#: Short LLM budgets so that faults end in seconds; retries on a short schedule.
FAST = ("--set", "ai_connect_timeout=1", "--set", "ai_first_chunk_timeout=1.5", "--set", "ai_stall_timeout=1",
        "--set", "ai_request_timeout=3", "--set", "ai_retry_delays=0.1,0.2")


def scan_claude(fake, tmp_path: Path, *extra: str, key: str = TEST_KEY, timeout: float = 120):
    """Run bin/scan --demo --ai-backend claude against ``fake``; returns (result, seconds, db)."""
    db = tmp_path / "claude.db"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path / "home"), **OFFLINE_ENV,
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "ANTHROPIC_API_KEY": key}
    started = time.monotonic()
    result = subprocess.run([str(ROOT / "bin" / "scan"), "--demo", "--ai-backend", "claude", "--db", str(db),
                             "--set", f"anthropic_base_url={fake.url}", *extra],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout)
    return result, time.monotonic() - started, db


def rows(db: Path, sql: str) -> list[tuple]:
    return apsw.Connection(str(db)).execute(sql).fetchall()


def key_encodings(key: str) -> list[str]:
    raw = key.encode()
    return [key, urllib.parse.quote(key, safe=""), base64.b64encode(raw).decode(),
            base64.b64encode(b"Bearer " + raw).decode(), raw.hex()]


def test_a_demo_scan_saves_30_theses_and_the_key_appears_nowhere(fake_anthropic, tmp_path):
    """10 debates x 3 agents through the forced tool call: 30 theses saved, COMPLETED; key in no output or row."""
    result, _, db = scan_claude(fake_anthropic, tmp_path, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "COMPLETED" and report["debate"]["completed"] == 10
    assert rows(db, "select count(*), count(failure) from ai_theses where status = 'ok'") == [(30, 0)]
    assert rows(db, "select status, count(*) from debates group by status") == [("completed", 10)]
    assert {r.path for r in fake_anthropic.requests()} == {"/v1/models/claude-sonnet-4-5", "/v1/messages"}
    everything = result.stdout + result.stderr + "".join(
        p.read_bytes().decode("latin-1") for p in tmp_path.rglob("*") if p.is_file()) + "".join(
        repr(rows(db, f"select * from {table}")) for table in ("scan_runs", "ai_theses", "debates", "run_errors"))
    for form in key_encodings(TEST_KEY):
        assert form not in everything


def test_a_wrong_key_skips_the_debates_as_unauthorized(fake_anthropic, tmp_path):
    """The health check's 401 skips the phase at once: 10 debates skipped 'unauthorized', PARTIAL, exit 0."""
    result, seconds, db = scan_claude(fake_anthropic, tmp_path, *FAST, key="sk-ant-not-the-right-key-42")
    assert result.returncode == 0, result.stderr
    assert rows(db, "select status, substr(reason, 1, 13), count(*) from debates group by 1, 2") == [
        ("skipped", "unauthorized:", 10)]
    assert rows(db, "select count(*) from ai_theses") == [(0,)]
    assert rows(db, "select status, status_reason like 'unauthorized%(401)%' from scan_runs") == [("PARTIAL", 1)]
    assert "sk-ant-not-the-right-key-42" not in result.stdout + result.stderr
    assert seconds < 60


#: One debate at a time and no transport retries: each fault ends its call with its own kind
#: before the breaker (3 counted failures) stops the phase.
ONE_BY_ONE = ("--set", "ai_debate_concurrency=1", "--set", "ai_retry_delays=")


def test_unauthorized_calls_fail_as_unauthorized_and_stop_the_phase(fake_anthropic, tmp_path):
    """The models endpoint answers but message calls get 401: an 'unauthorized' thesis, the rest stopped."""
    fake_anthropic.configure(script="unauthorized*")
    result, seconds, db = scan_claude(fake_anthropic, tmp_path, *FAST, *ONE_BY_ONE)
    assert result.returncode == 0, result.stderr
    assert rows(db, "select failure, attempts from ai_theses where failure != 'cancelled'") == [("unauthorized", 1)]
    statuses = dict(rows(db, "select status, count(*) from debates group by status"))
    assert statuses.get("failed") == 1 and "completed" not in statuses and sum(statuses.values()) == 10
    assert rows(db, "select reason from debates where status = 'failed'") == [("bull: unauthorized",)]
    assert rows(db, "select status from scan_runs") == [("PARTIAL",)]
    assert seconds < 60


def test_rate_limits_with_retry_after_are_waited_out_and_every_thesis_saved(fake_anthropic, tmp_path):
    """Two 429s with retry-after 1 s: those calls wait and retry; all 30 theses saved, COMPLETED."""
    fake_anthropic.configure(script="rate_limited*2,ok*", retry_after=1)
    result, seconds, db = scan_claude(fake_anthropic, tmp_path, *FAST, "--set", "ai_request_timeout=10")
    assert result.returncode == 0, result.stderr
    assert rows(db, "select count(*), sum(attempts) from ai_theses where status = 'ok'") == [(30, 32)]
    log = fake_anthropic.requests()
    limited = [r for r in log if r.outcome == "rate_limited"]
    assert len(limited) == 2 and all(r.status == 429 for r in limited)
    assert len([r for r in log if r.path == "/v1/messages"]) == 32
    assert rows(db, "select status from scan_runs") == [("COMPLETED",)]


def test_persistent_overload_ends_as_http_status_529(fake_anthropic, tmp_path):
    """529 overloaded on every call: theses fail as http_status 529, the breaker stops the rest; PARTIAL."""
    fake_anthropic.configure(script="overloaded*")
    result, seconds, db = scan_claude(fake_anthropic, tmp_path, *FAST, *ONE_BY_ONE)
    assert result.returncode == 0, result.stderr
    failures = rows(db, "select failure, detail from ai_theses where failure != 'cancelled'")
    assert failures and all(f == "http_status" and "529" in d and "overloaded_error" in d for f, d in failures)
    assert rows(db, "select count(*) from debates where status = 'completed'") == [(0,)]
    assert {r for (r,) in rows(db, "select reason from debates where status = 'failed'")} == {"bull: http_status"}
    assert rows(db, "select status from scan_runs") == [("PARTIAL",)]
    assert seconds < 60


def test_a_hung_api_ends_as_timeouts_in_bounded_time(fake_anthropic, tmp_path):
    """Messages never answered: first-chunk timeouts, then the breaker cuts the phase off; bounded time."""
    fake_anthropic.configure(script="hang*")
    result, seconds, db = scan_claude(fake_anthropic, tmp_path, *FAST, *ONE_BY_ONE)
    assert result.returncode == 0, result.stderr
    kinds = {f for (f,) in rows(db, "select failure from ai_theses")}
    assert "timeout_first_chunk" in kinds and kinds <= {"timeout_first_chunk", "deadline", "cancelled"}
    assert rows(db, "select count(*) from debates where status = 'completed'") == [(0,)]
    assert rows(db, "select count(*) from debates") == [(10,)]
    assert rows(db, "select status from scan_runs") == [("PARTIAL",)]
    assert seconds < 60


def test_a_server_echoing_the_key_leaves_it_in_no_output_log_or_row(fake_anthropic, tmp_path):
    """The API echoes the key (plain, URL-encoded, base64) in its errors: scrubbed everywhere, -v logs included."""
    fake_anthropic.configure(script="echo_key*")
    result, _, db = scan_claude(fake_anthropic, tmp_path, *FAST, *ONE_BY_ONE, "-v")
    assert result.returncode == 0, result.stderr
    details = rows(db, "select detail from ai_theses where failure = 'http_status'")
    assert details and all("***" in d for (d,) in details)
    everything = result.stdout + result.stderr + "".join(
        p.read_bytes().decode("latin-1") for p in tmp_path.rglob("*") if p.is_file()) + "".join(
        repr(rows(db, f"select * from {table}")) for table in ("scan_runs", "ai_theses", "debates", "run_errors"))
    for form in key_encodings(TEST_KEY):
        assert form not in everything
