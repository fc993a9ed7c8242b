"""``bin/scan runs`` and ``bin/scan show RUN_ID``: read stored runs (read-only connection)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from actors.config import load_settings
from actors.db_path import db_path_for
from actors.display import render_report
from actors.errors import StoreError, UsageError
from actors.report import detail_to_dict, summary_to_dict
from actors.store.reader import RunNotFound, list_runs, load_run
from actors.web.export import write_html_report


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        raise UsageError(f"{self.prog}: {message}")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _db(args: argparse.Namespace) -> Path:
    return args.db if args.db is not None else db_path_for(load_settings(config_file=args.config))


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, help="SQLite database path (default: the state directory)")
    parser.add_argument("--config", type=Path, help="TOML config file")
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")
    parser.add_argument("--debug", action="store_true", help="on an error, print the traceback too")


def main_runs(argv: Sequence[str]) -> int:
    parser = _Parser(prog="bin/scan runs", description="List recent runs, newest first.")
    _common(parser)
    parser.add_argument("--limit", type=_positive_int, default=20, help="runs to list (default 20)")
    args = parser.parse_args(argv)
    db = _db(args)
    try:
        runs = list_runs(db, limit=args.limit)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([summary_to_dict(r) for r in runs]))
        return 0
    console = Console(file=sys.stdout, highlight=False, width=None if sys.stdout.isatty() else 200)
    table = Table(title=f"runs in {db}")
    for name in ("run", "started (UTC)", "status", "source", "tickers", "scored", "options", "debates", "seconds", "reason"):
        table.add_column(name)
    for r in runs:
        table.add_row(
            r.id, f"{r.started_at:%Y-%m-%d %H:%M:%S}", r.status.value, r.source, str(r.tickers_requested),
            str(r.tickers_scored), str(r.options_chosen), f"{r.debates_completed}/{r.debates_requested}",
            "" if r.duration_seconds is None else f"{r.duration_seconds:.1f}", r.status_reason or "",
        )
    console.print(table)
    if not runs:
        console.print("no runs yet: try `bin/scan --demo`")
    return 0


def main_show(argv: Sequence[str]) -> int:
    parser = _Parser(prog="bin/scan show", description="Print a stored run like the scan's final table.")
    parser.add_argument("run_id", help="run id (a unique prefix is enough)")
    parser.add_argument("--top", type=int, metavar="N", help="rows to show")
    _common(parser)
    parser.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained HTML report (- for stdout)")
    args = parser.parse_args(argv)
    db = _db(args)
    try:
        report = detail_to_dict(load_run(db, args.run_id), db=str(db))
    except RunNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.html is not None:
        return write_html_report(report, args.html)
    if args.json:
        if args.top:
            report["results"] = report["results"][: args.top]
        print(json.dumps(report))
    else:
        render_report(report, sys.stdout, top=args.top or 25, color=sys.stdout.isatty())
    return 0
