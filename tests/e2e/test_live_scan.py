"""bin/scan --source live as a process, against a closed port and against the fake market on 127.0.0.1:
the offline message, the default source, record → replay, the cache across runs, a partial outage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import apsw
import pytest

from actors.fakes.market import FakeMarket
from actors.fakes.offline import OFFLINE_ENV

ROOT = Path(__file__).resolve().parents[2]
RSS = ROOT / "tests" / "fixtures" / "rss"
pytestmark = pytest.mark.e2e


def scan(*args: str, tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path / "home"),
            "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT), **env}
    return subprocess.run([sys.executable, "-m", "actors.cli", *args], cwd=ROOT, env=full, capture_output=True,
                          text=True, timeout=180)


def host_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "cannot be reached" in line]


@pytest.mark.parametrize("source", [["--source", "live"], []], ids=["--source live", "default"])
def test_offline_one_message_naming_the_host_and_exit_1_within_seconds(tmp_path, source):
    """All hosts refuse (closed local port): exit 1, ONE line naming the host and suggesting --demo /
    --source snapshot, no per-ticker line, no traceback; the dead host costs one short wait, not one
    per ticker (50 tickers x 7 s of retries would be minutes). Without --source the default is live."""
    started = time.monotonic()
    result = scan(*source, "--universe", "liquid", "--no-debate", "--db", str(tmp_path / "o.db"),
                  tmp_path=tmp_path, env=OFFLINE_ENV)
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    (message,) = host_messages(result.stderr)
    assert "127.0.0.1:9" in message and "--demo" in message and "--source snapshot" in message
    assert "Traceback" not in result.stderr
    assert "(unavailable)" not in result.stderr  # no line per ticker
    assert "FAILED" in result.stdout
    assert elapsed < 30, f"{elapsed:.1f} s"
    rows = apsw.Connection(str(tmp_path / "o.db")).execute("select status, tickers_requested from scan_runs").fetchall()
    assert rows == [("FAILED", 50)]


def test_print_config_shows_live_as_the_default_source(tmp_path):
    result = scan("--print-config", tmp_path=tmp_path, env=OFFLINE_ENV)
    assert json.loads(result.stdout)["source"] == "live"


def test_record_then_replay_offline_gives_the_same_results_and_the_second_run_asks_nothing(tmp_path):
    """A live run against the fake market recorded with --record; a second live run the same day makes
    no request (cache); --source snapshot:DIR, with no server, gives the same scores and contracts."""
    record = tmp_path / "recording"
    universe = ("--universe", "AAPL,CLX,NOPE", "--no-debate", "--json")
    with FakeMarket(rss_dir=RSS) as market:
        env = {**OFFLINE_ENV, **market.settings_env()}
        live = scan("--source", "live", *universe, "--record", str(record), "--db", str(tmp_path / "l.db"),
                    tmp_path=tmp_path, env=env)
        assert live.returncode == 0, live.stderr
        first_requests = market.requests()
        again = scan("--source", "live", *universe, "--db", str(tmp_path / "l.db"), tmp_path=tmp_path, env=env)
        assert again.returncode == 0, again.stderr
        assert market.requests() == first_requests  # every answer (and the 403 for NOPE) came from the cache
    assert first_requests > 3
    assert all(h.get("User-Agent", "").startswith("option-alpha/") for p, _, h in market.log if "calendar" not in p)
    replay = scan("--source", f"snapshot:{record}", *universe, "--db", str(tmp_path / "r.db"),
                  tmp_path=tmp_path, env=OFFLINE_ENV)
    assert replay.returncode == 0, replay.stderr
    live_rows, replay_rows = json.loads(live.stdout)["results"], json.loads(replay.stdout)["results"]
    keys = ("ticker", "rank", "score", "direction", "catalysts", "option", "last_close", "as_of", "data_flags")
    assert [{k: r[k] for k in keys} for r in replay_rows] == [{k: r[k] for k in keys} for r in live_rows]
    assert [r["ticker"] for r in live_rows] == ["AAPL"] and live_rows[0]["option"] is not None
    assert live_rows[0]["quote_age_s"] > 0 and live_rows[0]["data_flags"] == ["mixed-dates"]


def test_a_partial_outage_still_makes_a_run_with_the_errors_recorded(tmp_path):
    """The news host answers 503 throughout: the run completes with AAPL scored and its news error stored."""
    with FakeMarket(rss_dir=RSS) as market:
        market.fail("/rss", *[503] * 50)
        result = scan("--source", "live", "--universe", "AAPL", "--no-debate", "--db", str(tmp_path / "p.db"),
                      "--set", "fetch_retry_delays=0.1,0.1", "--set", "news_feed_url=" + market.url.replace(
                          "127.0.0.1", "localhost") + "/rss?s={symbol}",
                      tmp_path=tmp_path, env={**OFFLINE_ENV, **market.settings_env()})
    assert result.returncode == 0, result.stderr
    conn = apsw.Connection(str(tmp_path / "p.db"))
    assert conn.execute("select status from scan_runs").fetchall() == [("COMPLETED",)]
    assert conn.execute("select ticker from ticker_scores").fetchall() == [("AAPL",)]
    errors = conn.execute("select ticker, piece, kind from run_errors").fetchall()
    assert errors == [("AAPL", "news", "unavailable")]
