"""The dashboard's store view reads what the CLI prints."""

import json

from actors.cli import main
from actors.web.store_view import RunStore
from tests.web.stored import RUN_ID


async def test_report_is_the_show_json_document(stored_db, capsys):
    """``RunStore.report`` is exactly what ``bin/scan show RUN --json`` prints."""
    assert main(["show", RUN_ID[:10], "--db", str(stored_db), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert await RunStore(stored_db).report(RUN_ID) == printed
    assert [r["ticker"] for r in printed["results"]] == ["AAPL", "MSFT", "CLX"]


async def test_runs_are_the_runs_json_list(stored_db, capsys):
    """``RunStore.runs`` is exactly what ``bin/scan runs --json`` prints."""
    assert main(["runs", "--db", str(stored_db), "--json"]) == 0
    assert await RunStore(stored_db).runs() == json.loads(capsys.readouterr().out)["runs"]
