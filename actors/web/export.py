"""Exports of a stored run: one self-contained HTML file (no script, styles inlined) and CSV. Pure.

The HTML report is what ``/runs/{id}/report.html`` serves and ``bin/scan show RUN --html``
writes: the run summary, phase timings, errors, the ranked table, and each debated ticker's
case with its chart, readable offline and mailable. The CSV has one row per ranked ticker;
cells that a spreadsheet would run as a formula (starting with ``= + - @``, tab or CR) are
prefixed with ``'``.
"""

from __future__ import annotations

import csv
import importlib.resources
import io
import re
import sys
from pathlib import Path
from collections.abc import Mapping
from typing import Any

from actors.errors import UsageError
from actors.report import catalyst_flags
from actors.web.templating import templates
from actors.web.views import result_row, ticker_view

__all__ = ["CSV_COLUMNS", "file_stem", "report_csv", "report_html", "write_html_report"]

CSV_COLUMNS = (
    "rank", "ticker", "score", "technical_score", "direction", "flags", "as_of", "quote_age_s", "data_flags",
    "contract", "type", "strike", "expiry", "dte", "delta", "bid", "ask", "mid", "open_interest", "volume", "iv",
    "no_option_reason", "debate_status", "verdict", "conviction", "debate_reason", "saved",
)


def file_stem(report: Mapping[str, Any]) -> str:
    """A safe file name stem for the run's exports (``option-alpha-<run id>``)."""
    return "option-alpha-" + re.sub(r"[^A-Za-z0-9._-]", "_", str(report["run_id"]))


def _stylesheet() -> str:
    return importlib.resources.files("actors.web").joinpath("static/style.css").read_text(encoding="utf-8")


def report_html(report: Mapping[str, Any]) -> str:
    """The run as one HTML document with no script and no external resource."""
    rows = [result_row(r) for r in report["results"]]
    debated = [ticker_view(report, r["ticker"]) for r in report["results"] if r.get("debate")]
    return templates().get_template("report.html").render(
        report=report, rows=rows, debated=debated, css=_stylesheet(), title=f"run {report['run_id']}")


def _safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def report_csv(report: Mapping[str, Any]) -> str:
    """One CSV row per ranked ticker (header first)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report["results"]:
        option = row.get("option") or {}
        debate = row.get("debate") or {}
        flags = row.get("data_flags") or ()
        values = {
            **{k: row.get(k) for k in ("rank", "ticker", "score", "technical_score", "direction", "as_of",
                                       "quote_age_s", "no_option_reason", "saved")},
            "flags": catalyst_flags(row.get("catalysts") or [], row.get("news_flag")),
            "data_flags": " ".join(map(str, flags)) if isinstance(flags, (list, tuple)) else flags,
            **{k: option.get(k) for k in ("contract", "type", "strike", "expiry", "dte", "delta", "bid", "ask", "mid",
                                          "open_interest", "volume", "iv")},
            "debate_status": debate.get("status"), "verdict": debate.get("verdict"),
            "conviction": debate.get("conviction"), "debate_reason": debate.get("reason"),
        }
        writer.writerow(["" if values[c] is None else _safe_cell(values[c]) for c in CSV_COLUMNS])
    return out.getvalue()


def write_html_report(report: Mapping[str, Any], path: Path) -> int:
    """``bin/scan show RUN --html FILE``: write the report (``-`` is stdout); the exit code.

    Raises:
        UsageError: the file cannot be written (names it and why); nothing is reported as written.
    """
    text = report_html(report)
    if str(path) == "-":
        sys.stdout.write(text)
        return 0
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--html {path}: cannot write: {exc.strerror or exc}") from None
    print(f"wrote {path} ({len(text.encode()):,} bytes): run {report['run_id']}", file=sys.stderr)
    return 0
