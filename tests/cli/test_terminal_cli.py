"""The command line's edges, in-process: validated counts, --set errors, --quiet, --version, FAILED errors,
show RUN|latest [TICKER], and schema_version in every JSON document."""

from __future__ import annotations

import json

import pytest

from actors.cli import main
from actors.report import SCHEMA_VERSION
from tests.cli.cli_run import run

QUICK = ("--source", "sim", "--universe-size", "12", "--no-debate")


pytestmark = pytest.mark.usefixtures("clean_env")


@pytest.mark.parametrize("argv", [
    ("--top", "-3"), ("--top", "0"), ("--top", "x"),
    ("runs", "--limit", "0"), ("runs", "--limit", "-1"),
    ("show", "latest", "--top", "-3"),
])
def test_counts_must_be_whole_numbers_of_at_least_one(capsys, tmp_path, argv):
    """--top and --limit below 1 (or not numbers): exit 2, one line naming the flag; no traceback."""
    code, _, err = run(capsys, *argv, "--db", str(tmp_path / "x.db"))
    assert code == 2
    assert "expected a whole number >= 1" in err and ("--top" in err or "--limit" in err)
    assert "Traceback" not in err


def test_a_set_error_names_the_set_flag_not_a_flag_that_does_not_exist(capsys, tmp_path):
    """--set dte_min=90 breaks dte_min <= dte_target: the error names '--set dte_min', never '--dte-min'."""
    code, _, err = run(capsys, *QUICK, "--set", "dte_min=90", "--db", str(tmp_path / "x.db"))
    assert code == 2
    assert "dte_min from --set dte_min=..." in err
    assert "--dte-min" not in err


def test_quiet_prints_only_the_status_and_where_it_is_saved(capsys, tmp_path):
    """--quiet: no table, no legend; the status line and the database."""
    db = tmp_path / "q.db"
    code, out, err = run(capsys, *QUICK, "--quiet", "--db", str(db))
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("run ") and ": COMPLETED" in lines[0]
    assert lines[1] == f"saved in {db}"
    assert "legend" not in out and err == ""


def test_version_comes_from_the_package_metadata(capsys):
    """--version prints 'option-alpha X.Y.Z' (the installed metadata) and exits 0."""
    import importlib.metadata

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"option-alpha {importlib.metadata.version('option-alpha')}"


def test_a_failed_run_lists_its_errors_in_the_table_and_the_json(capsys, tmp_path):
    """Unknown tickers: FAILED, exit 1, each ticker's error under the table and in --json `errors`,
    also when the run is read back with show."""
    db = tmp_path / "f.db"
    code, out, _ = run(capsys, "--source", "snapshot", "--universe", "ZZZZ,QQQQ", "--no-debate", "--db", str(db))
    assert code == 1
    assert "errors (2):" in out and "ZZZZ " in out and "QQQQ " in out
    code, out, _ = run(capsys, "--source", "snapshot", "--universe", "ZZZZ,QQQQ", "--no-debate", "--json",
                       "--db", str(db))
    report = json.loads(out)
    assert code == 1 and report["status"] == "FAILED"
    assert sorted(e["ticker"] for e in report["errors"]) == ["QQQQ", "ZZZZ"]
    assert all(e["kind"] for e in report["errors"])  # the scan knows each error's kind
    code, out, _ = run(capsys, "show", "latest", "--json", "--db", str(db))
    stored = json.loads(out)
    assert code == 0 and sorted(e["ticker"] for e in stored["errors"]) == ["QQQQ", "ZZZZ"]
    assert all(e["message"] for e in stored["errors"])


def test_every_json_document_carries_the_schema_version(capsys, tmp_path):
    """scan --json, runs --json, show --json and show RUN TICKER --json: schema_version on each."""
    db = tmp_path / "j.db"
    code, out, _ = run(capsys, *QUICK, "--json", "--db", str(db))
    scan = json.loads(out)
    ticker = scan["results"][0]["ticker"]
    documents = {"scan": scan}
    for name, argv in {"runs": ("runs", "--json"), "show": ("show", scan["run_id"], "--json"),
                       "show latest": ("show", "latest", "--json"),
                       "show ticker": ("show", "latest", ticker.lower(), "--json")}.items():
        code, out, err = run(capsys, *argv, "--db", str(db))
        assert code == 0, err
        documents[name] = json.loads(out)
    for name, document in documents.items():
        assert document["schema_version"] == SCHEMA_VERSION, name
    assert documents["show ticker"]["result"] == scan["results"][0]
    assert documents["runs"]["runs"][0]["run_id"] == scan["run_id"]


def test_show_latest_ticker_prints_the_panel_and_an_unknown_ticker_is_a_usage_error(capsys, tmp_path, monkeypatch):
    """show latest TICKER: the panel at COLUMNS=80; a ticker not in the run: exit 2 naming it and the run."""
    monkeypatch.setenv("COLUMNS", "80")
    db = tmp_path / "p.db"
    run(capsys, *QUICK, "--db", str(db))
    code, out, _ = run(capsys, "show", "latest", "--json", "--db", str(db))
    report = json.loads(out)
    top = report["results"][0]
    code, out, _ = run(capsys, "show", "latest", top["ticker"], "--db", str(db))
    assert code == 0
    assert out.startswith(f"{top['ticker']}  rank 1 of 12")
    assert f"score {top['score']:.1f} / 100" in out
    assert max(len(line) for line in out.splitlines()) <= 80
    code, _, err = run(capsys, "show", "latest", "NOPE", "--db", str(db))
    assert code == 2 and f"ticker NOPE is not in run {report['run_id']}" in err


def test_show_latest_in_an_empty_database_says_there_are_no_runs(capsys, tmp_path):
    """A database with no run: exit 2, 'no runs yet'."""
    import apsw

    db = tmp_path / "empty.db"
    run(capsys, *QUICK, "--db", str(db))
    apsw.Connection(str(db)).execute("DELETE FROM scan_runs")
    code, _, err = run(capsys, "show", "latest", "--db", str(db))
    assert code == 2 and "no runs yet" in err


def test_runs_shows_whole_run_ids_at_80_columns(capsys, tmp_path, monkeypatch):
    """`runs` never shortens a run id, even at 80 columns."""
    monkeypatch.setenv("COLUMNS", "80")
    db = tmp_path / "r.db"
    code, out, _ = run(capsys, *QUICK, "--json", "--db", str(db))
    run_id = json.loads(out)["run_id"]
    code, out, _ = run(capsys, "runs", "--db", str(db))
    assert code == 0 and run_id in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_debate_without_contract_is_a_boolean_setting_with_a_clear_error():
    """true/false/yes/no/1/0 from any layer; anything else names the setting and what is allowed."""
    from actors.config import load_settings
    from actors.errors import ConfigError

    assert load_settings(env={}, overrides={"debate_without_contract": "yes"}).debate_without_contract is True
    assert load_settings(env={"OPTION_ALPHA_DEBATE_WITHOUT_CONTRACT": "false"}).debate_without_contract is False
    assert load_settings(env={}).debate_without_contract is False
    with pytest.raises(ConfigError, match=r"debate_without_contract: expected true or false, got 'maybe' "
                                          r"\(from --set debate_without_contract=\.\.\.\)"):
        load_settings(env={}, overrides={"debate_without_contract": "maybe"})
