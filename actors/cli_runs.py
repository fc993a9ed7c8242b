"""``bin/scan runs`` and ``bin/scan show RUN [TICKER]``: read stored runs (read-only connection).

``show RUN`` prints the run's table as the scan did; ``show RUN TICKER`` one ticker's panel
(score, contract, the debate in full); ``latest`` names the newest run. ``--json`` prints one
JSON document with ``schema_version`` (the run, or with TICKER that ticker's result).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from actors.cli_types import positive_int
from actors.config import load_settings
from actors.db_path import db_path_for
from actors.display import render_panel, render_report
from actors.errors import UsageError
from actors.render.table import Column, layout, wrap_text
from actors.render.width import output_width
from actors.report import SCHEMA_VERSION, detail_to_dict, runs_document
from actors.store.reader import RunNotFound, list_runs, load_run
from actors.web.export import write_html_report

#: ``show latest``: the newest run in the database.
LATEST = "latest"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        raise UsageError(f"{self.prog}: {message}")


def _db(args: argparse.Namespace) -> Path:
    return args.db if args.db is not None else db_path_for(load_settings(config_file=args.config))


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, help="SQLite database path (default: the state directory)")
    parser.add_argument("--config", type=Path, help="TOML config file")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    parser.add_argument("--debug", action="store_true", help="on an error, print the traceback too")


#: The ``runs`` table: the run id is never shortened (``show`` needs it whole); the reason wraps.
RUN_COLUMNS: tuple[Column, ...] = (
    Column(header="run", cell=lambda r: r.id),
    Column(header="started (UTC)", cell=lambda r: f"{r.started_at:%Y-%m-%d %H:%M}", priority=3,
           short=lambda r: f"{r.started_at:%m-%d %H:%M}", short_header="started"),
    Column(header="status", cell=lambda r: r.status.value),
    Column(header="source", cell=lambda r: r.source, priority=4),
    Column(header="tickers", cell=lambda r: str(r.tickers_requested), priority=2, align="right"),
    Column(header="options", cell=lambda r: str(r.options_chosen), priority=5, align="right"),
    Column(header="debates", cell=lambda r: f"{r.debates_completed}/{r.debates_requested}", priority=1,
           align="right"),
    Column(header="seconds", cell=lambda r: "" if r.duration_seconds is None else f"{r.duration_seconds:.1f}",
           priority=6, align="right"),
    Column(header="reason", cell=lambda r: r.status_reason or "", priority=7, wrap=True),
)


def main_runs(argv: Sequence[str]) -> int:
    parser = _Parser(prog="bin/scan runs", description="List recent runs, newest first.")
    _common(parser)
    parser.add_argument("--limit", type=positive_int, default=20, help="runs to list (default 20)")
    args = parser.parse_args(argv)
    db = _db(args)
    runs = list_runs(db, limit=args.limit)
    if args.json:
        print(json.dumps(runs_document(runs)))
        return 0
    width = output_width(sys.stdout)
    lines = wrap_text(f"runs in {db}", width)
    lines += layout(RUN_COLUMNS, runs, width) if runs else ["no runs yet: try `bin/scan --demo`"]
    if runs:
        lines += wrap_text(f"`bin/scan show RUN` prints a run; `bin/scan show {LATEST} TICKER` one ticker in full", width)
    print("\n".join(lines))
    return 0


def resolve_latest(db: Path, run_id: str) -> str:
    """``latest`` → the newest run's id; any other id (or prefix) as given.

    Raises:
        RunNotFound: ``latest`` in a database with no run.
    """
    if run_id != LATEST:
        return run_id
    newest = list_runs(db, limit=1)
    if not newest:
        raise RunNotFound(f"{db}: no runs yet (try `bin/scan --demo`)")
    return newest[0].id


def main_show(argv: Sequence[str]) -> int:
    parser = _Parser(prog="bin/scan show", description="Print a stored run like the scan's final table, "
                     "or one ticker of it in full (score, contract, the debate).")
    parser.add_argument("run_id", metavar="RUN", help=f"run id (a unique prefix is enough) or {LATEST!r}")
    parser.add_argument("ticker", metavar="TICKER", nargs="?", help="one ticker of the run: its panel")
    parser.add_argument("--top", type=positive_int, metavar="N", help="rows to show (default 25)")
    _common(parser)
    parser.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained HTML report (- for stdout)")
    args = parser.parse_args(argv)
    db = _db(args)
    try:
        report = detail_to_dict(load_run(db, resolve_latest(db, args.run_id)), db=str(db))
    except RunNotFound as exc:
        raise UsageError(str(exc)) from None
    if args.html is not None:
        return write_html_report(report, args.html)
    if args.ticker is not None:
        return _show_ticker(report, args.ticker, as_json=args.json)
    if args.json:
        if args.top:
            report["results"] = report["results"][: args.top]
        print(json.dumps(report))
    else:
        render_report(report, sys.stdout, top=args.top or 25)
    return 0


def _show_ticker(report: dict, ticker: str, *, as_json: bool) -> int:
    if not as_json:
        render_panel(report, ticker, sys.stdout)
        return 0
    row = next((r for r in report["results"] if r["ticker"] == ticker.upper()), None)
    if row is None:
        raise UsageError(f"ticker {ticker.upper()} is not in run {report['run_id']}")
    print(json.dumps({"schema_version": SCHEMA_VERSION, "run_id": report["run_id"], "status": report["status"],
                      "result": row}))
    return 0
