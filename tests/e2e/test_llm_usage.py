"""bin/scan against bin/fake-ollama with a cold model and a runaway reply: usage stored and shown."""

import json

import apsw
import pytest

from .test_bin_scan import scan

pytestmark = pytest.mark.e2e


def test_cold_load_and_runaway_are_recorded_per_thesis(tmp_path, fake_ollama):
    """The model loads once before the first call; the runaway reply is cut at the cap and retried;
    every thesis row has its tokens and seconds, and --json shows them with the rate."""
    fake_ollama.configure(load_time=0.3, script="runaway,ok*")
    db = tmp_path / "u.db"
    result = scan("--demo", "--json", "--db", str(db), "--set", f"ollama_host={fake_ollama.url}",
                  "--set", "top_n_ai_debate=2", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "COMPLETED", report["reason"]
    outcomes = [r.outcome for r in fake_ollama.requests() if r.path in ("/api/chat", "/api/generate")]
    assert outcomes[0] == "load" and outcomes.count("load") == 1 and outcomes.count("runaway") == 1
    rows = apsw.Connection(str(db)).execute(
        "SELECT attempts, input_tokens, output_tokens, generation_seconds, prompt_seconds, load_seconds"
        " FROM ai_theses WHERE run_id = ? ORDER BY id", (report["run_id"],)).fetchall()
    assert len(rows) == 6
    assert sorted(r[0] for r in rows) == [1, 1, 1, 1, 1, 2]  # the runaway call: cut, then retried
    (retried,) = [r for r in rows if r[0] == 2]
    assert retried[2] > 1280  # the cut reply's 1280 tokens plus the real reply's
    assert all(r[1] > 0 and r[2] > 0 and r[3] > 0 and r[4] is not None for r in rows)
    assert sorted(r[5] >= 0.3 for r in rows) == [False] * 5 + [True]  # one call waited for the load
    theses = [t for r in report["results"] if r["debate"] for t in r["debate"]["theses"]]
    assert len(theses) == 6
    assert all(t["usage"]["tokens_per_second"] > 0 for t in theses)
    assert sum(t["usage"]["load_seconds"] >= 0.3 for t in theses) == 1
