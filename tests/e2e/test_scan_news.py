"""bin/scan --score-news against bin/fake-ollama with 30 % malformed replies; bin/scan news list / retry."""

import json
import re

import apsw
import pytest

from .test_bin_scan import scan

pytestmark = pytest.mark.e2e

#: The recorded Yahoo news (Feb 2025) is 17 months older than the recorded AAPL chain (July 2026): with the
#: default 7-day lookback it is correctly too old to count, so these runs widen the window to show it used.
OLD_NEWS = ("--set", "news_lookback_days=730", "--set", "news_half_life_days=365")


def test_score_news_scores_every_recorded_article_despite_malformed_replies(tmp_path, fake_ollama):
    """Every recorded article ends scored, none is left scoring, the table shows the news flag, and --json /
    show list the articles that moved the score with their sentiment, impact, reasoning and points."""
    fake_ollama.configure(malformed=0.3, seed=5)
    db = tmp_path / "n.db"
    common = ("--source", "snapshot", "--score-news", "--db", str(db), "--set", f"ollama_host={fake_ollama.url}",
              "--set", "ai_retry_delays=0.05,0.1", *OLD_NEWS)
    table = scan(*common, "--universe", "AAPL,MSFT", tmp_path=tmp_path)
    assert table.returncode == 0, table.stderr
    conn = apsw.Connection(str(db))
    statuses = dict(conn.execute("SELECT status, count(*) FROM articles GROUP BY status").fetchall())
    assert statuses == {"scored": 4}  # AAPL's four recorded articles (MSFT has no recorded news)
    malformed = [r for r in fake_ollama.requests() if r.outcome == "malformed"]
    assert malformed  # the fault did fire, and the retries absorbed it
    lines = table.stdout.splitlines()
    first = next(i for i, line in enumerate(lines) if " AAPL " in line)
    aapl = [lines[first]]  # the row and its wrapped continuation lines (the flags cell wraps)
    for line in lines[first + 1:]:
        if not line.strip() or re.match(r"\s*\d+\s+[A-Z]", line) or line.startswith("legend"):
            break
        aapl.append(line)
    assert "NEWS+" in " ".join(aapl) or "NEWS-" in " ".join(aapl), aapl

    run_id = conn.execute("SELECT id FROM scan_runs").fetchall()[0][0]
    shown = scan("show", run_id, "--db", str(db), "--json", tmp_path=tmp_path)
    row = next(r for r in json.loads(shown.stdout)["results"] if r["ticker"] == "AAPL")
    assert row["news_flag"] in ("NEWS+", "NEWS-") and len(row["news"]) == 4
    assert set(row["news"][0]) == {"id", "title", "source", "url", "published_at", "sentiment", "impact",
                                   "event_type", "reasoning", "weight", "points"}
    news_catalyst = next(c for c in row["catalysts"] if c["kind"] == "news")
    assert news_catalyst["adjustment"] == pytest.approx(sum(n["points"] for n in row["news"]), abs=0.05)

    listed = scan("news", "list", "--db", str(db), "--json", tmp_path=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["counts"] == {"pending": 0, "scoring": 0, "scored": 4, "failed": 0}


def test_news_retry_requeues_failed_articles_and_refuses_an_unknown_id(tmp_path, fake_ollama):
    """Every request answered HTTP 500: the articles end failed after 3 attempts (with --no-debate: news still uses the
    LLM); `news retry --failed` puts them back (exit 0); an unknown id exits 2 naming it; neither ID nor
    --failed is a usage error. Without --score-news the articles are only collected."""
    fake_ollama.configure(script="http_500*")
    db = tmp_path / "r.db"
    base = ("--source", "snapshot", "--universe", "AAPL", "--no-debate", "--db", str(db),
            "--set", f"ollama_host={fake_ollama.url}", "--set", "ai_retry_delays=0.01",
            "--set", "breaker_min_calls=1000")  # keep the breaker out of it: this is about the article's attempts
    assert scan(*base, tmp_path=tmp_path).returncode == 0
    counts = json.loads(scan("news", "list", "--db", str(db), "--json", tmp_path=tmp_path).stdout)["counts"]
    assert counts == {"pending": 4, "scoring": 0, "scored": 0, "failed": 0}
    result = scan(*base, "--score-news", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    conn = apsw.Connection(str(db))
    assert conn.execute("SELECT DISTINCT status, attempts FROM articles").fetchall() == [("failed", 3)]
    retried = scan("news", "retry", "--failed", "--db", str(db), tmp_path=tmp_path)
    assert retried.returncode == 0 and "4 back to pending" in retried.stdout
    assert conn.execute("SELECT DISTINCT status, attempts FROM articles").fetchall() == [("pending", 0)]
    unknown = scan("news", "retry", "999", "--db", str(db), tmp_path=tmp_path)
    assert unknown.returncode == 2 and "unknown article id 999" in unknown.stderr
    usage = scan("news", "retry", "--db", str(db), tmp_path=tmp_path)
    assert usage.returncode == 2 and "give an article ID or --failed" in usage.stderr
