"""bin/scan with worker processes: the same --json results as in-process, and the database matches."""

import json

import apsw
import pytest

from tests.e2e.test_bin_scan import scan

pytestmark = pytest.mark.e2e


def test_scan_workers_give_the_same_json_results_as_in_process(tmp_path):
    """A pinned worker count and scan_workers=0 print the same ranked rows for the same seed."""
    reports = {}
    for workers in ("0", "2"):
        db = tmp_path / f"w{workers}.db"
        result = scan("--source", "sim", "--universe-size", "150", "--seed", "4", "--no-debate", "--json",
                      "--db", str(db), "--set", f"scan_workers={workers}", tmp_path=tmp_path)
        assert result.returncode == 0, result.stderr
        reports[workers] = json.loads(result.stdout)
        with apsw.Connection(str(db)) as conn:
            ranked = [r[0] for r in conn.execute("SELECT ticker FROM ticker_scores ORDER BY rank")]
        assert [r["ticker"] for r in reports[workers]["results"]] == ranked
    assert reports["2"]["results"] == reports["0"]["results"]
    assert len(reports["2"]["results"]) == 150
    assert reports["2"]["errors"] == reports["0"]["errors"]
