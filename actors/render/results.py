"""The ranked table of a run and the lines under it, as plain text fitted to a width.

The table is built from :data:`RESULT_COLUMNS`, a list of :class:`~actors.render.table.Column`
specs with priorities: adding a column is one entry. At 80 columns the least important
columns (open interest, then delta and mid) give way first; the rank, ticker, score, contract
and the debate's verdict and conviction stay, and no number is ever cut.

Reads the JSON-shaped report of :mod:`actors.report` (``--json``); keys other helpers add
(``news``, ``quote_age_s``, ``data_flags``) are shown when present and never required.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from actors.render.table import Column, layout, wrap_text
from actors.report import DEMO_MODEL, advice, age_cell, catalyst_flags, debate_cell

__all__ = ["RESULT_COLUMNS", "result_lines", "rows_to_show", "summary_lines", "legend"]

Row = Mapping[str, Any]

_SHORT_DIRECTION = {"bullish": "bull", "bearish": "bear", "neutral": "neut"}


def contract_cell(row: Row, *, short: bool = False) -> str:
    """``CALL 520 2026-09-18 56d`` (short: ``CALL 520 09-18 56d``), or why there is no contract."""
    option = row.get("option")
    if not option:
        reason = row.get("no_option_reason")
        # The full reason is in --json, `show RUN TICKER` and the database; here its deciding clause
        # ("none with open interest >= 100", "no option chain: ...", "not in the top 50 for options").
        return reason.rsplit("; ", 1)[-1] if reason else "-"
    expiry = str(option["expiry"])
    return f"{option['type'].upper()} {option['strike']:g} {expiry[5:] if short else expiry} {option['dte']}d"


def _option_number(key: str, fmt: str) -> Any:
    def cell(row: Row) -> str:
        option = row.get("option")
        return format(option[key], fmt) if option else ""
    return cell


def flags_cell(row: Row) -> str:
    """The catalyst flags, and the data flags when the data source reports any."""
    flags = catalyst_flags(row.get("catalysts") or [], row.get("news_flag"))
    extra = " ".join(str(f) for f in row.get("data_flags") or ())
    return " ".join(part for part in (flags, extra) if part)


#: The table's columns; priority 0 is never dropped, higher numbers give way first.
RESULT_COLUMNS: tuple[Column, ...] = (
    Column(header="#", cell=lambda r: str(r["rank"]), align="right"),
    Column(header="ticker", cell=lambda r: str(r["ticker"])),
    Column(header="score", cell=lambda r: f"{r['score']:.1f}", align="right"),
    Column(header="dir", cell=lambda r: str(r["direction"]), priority=2,
           short=lambda r: _SHORT_DIRECTION.get(r["direction"], r["direction"])),
    Column(header="flags", cell=flags_cell, priority=3, wrap=True, min_width=8),
    Column(header="contract", cell=contract_cell, priority=1, wrap=True, min_width=18,
           short=lambda r: contract_cell(r, short=True)),
    Column(header="delta", cell=_option_number("delta", "+.2f"), priority=5, align="right"),
    Column(header="mid", cell=_option_number("mid", ".2f"), priority=4, align="right"),
    Column(header="OI", cell=_option_number("open_interest", ",.0f"), priority=6, align="right"),
    Column(header="age", cell=age_cell, priority=7, align="right"),
    Column(header="verdict conviction", cell=lambda r: debate_cell(r.get("debate")), wrap=True, min_width=10,
           short=lambda r: debate_cell(r.get("debate"), short=True)),
)


def rows_to_show(results: Sequence[Row], top: int | None) -> list[Row]:
    """The first ``top`` rows (all when None), plus every debated row ranked below them."""
    if top is None:
        return list(results)
    shown = list(results[:top])
    shown += [r for r in results[top:] if r.get("debate")]
    return shown


def _columns_for(rows: Sequence[Row]) -> list[Column]:
    """:data:`RESULT_COLUMNS` without those no row has a value for (the age of a source that reports none)."""
    return [c for c in RESULT_COLUMNS if c.header != "age" or any(r.get("quote_age_s") is not None for r in rows)]


_FLAG_MEANINGS = {
    "ER<exp": "earnings before the contract's expiry (-5 points)",
    "ER soon": "earnings within 7 days (-3 more)",
    "ER later": "earnings after the expiry (0)",
    "ER ?": "earnings date unknown: check it (0)",
    "news": "scored news moved the score",
    "NEWS+": "news for the setup",
    "NEWS-": "news against the setup",
}


def legend(rows: Sequence[Row]) -> str:
    """One line saying what the flags in ``rows`` and the numbers mean."""
    present = {word for r in rows for word in _flag_words(flags_cell(r))}
    flags = [f"{flag} = {meaning}" for flag, meaning in _FLAG_MEANINGS.items() if flag in present]
    parts = ["score 0-100 = strength of the setup in its direction (bearish setups score high too)"]
    if any(r.get("debate") for r in rows):
        parts.append("verdict = the risk manager's take/adjust (adj)/avoid, with its conviction 0-1")
    return "; ".join([*flags, *parts])


def _flag_words(cell: str) -> list[str]:
    words, tokens = [], cell.split()
    i = 0
    while i < len(tokens):
        pair = " ".join(tokens[i:i + 2])
        if pair in _FLAG_MEANINGS:
            words.append(pair)
            i += 2
        else:
            words.append(tokens[i])
            i += 1
    return words


def result_lines(report: Mapping[str, Any], *, width: int, top: int | None) -> list[str]:
    """Title, table, legend and the "top N of M" line."""
    results = report["results"]
    rows = rows_to_show(results, top)
    synthetic = [what for what, present in (
        ("market data", any(r.get("synthetic") for r in results)),
        ("demo LLM",
         any(t.get("model") == DEMO_MODEL for r in rows for t in (r.get("debate") or {}).get("theses") or ())),
    ) if present]
    title = f"option-alpha run {report['run_id']}" + (f"  [SYNTHETIC {' and '.join(synthetic)}]" if synthetic else "")
    if any(r.get("saved") is False for r in results):
        title += "  [NOT SAVED]"
    lines = wrap_text(title, width)
    if not rows:
        return [*lines, "(no ranked tickers)"]
    lines += layout(_columns_for(rows), rows, width)
    lines += wrap_text("legend: " + legend(rows), width)
    if len(rows) < len(results):
        lines += wrap_text(f"(top {len(rows)} of {len(results)} ranked tickers; --top N shows more, --json shows all; "
                           f"`show {report['run_id']} TICKER` shows one in full)", width)
    return lines


#: Error lines under a FAILED run's table (one per distinct error); --json has all of them.
ERRORS_LISTED = 20


def group_errors(errors: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, list[str]]]:
    """``(piece, message, tickers)`` per distinct error, in first-seen order.

    Errors that differ only in their numbers (a host down for every ticker: "not asked again for
    58 s" / "59 s") are one group, shown with the first message: one line, not one per ticker.
    """
    groups: dict[tuple[str, str], tuple[str, str, list[str]]] = {}
    for e in errors:
        message = re.sub(rf"\b{re.escape(str(e['ticker']))}\b", "@", str(e["message"]))  # "unknown symbol T"
        key = (str(e["piece"]), re.sub(r"\d+", "#", message))
        groups.setdefault(key, (str(e["piece"]), str(e["message"]), []))[2].append(str(e["ticker"]))
    return list(groups.values())


def summary_lines(report: Mapping[str, Any], *, width: int) -> list[str]:
    """Phases, debates, errors, status, where it is saved, and what to do next."""
    lines: list[str] = []

    def say(text: str) -> None:
        lines.extend(wrap_text(text, width))

    phases = ", ".join(f"{p['name']} {p['seconds']:.2f}s" + ("" if p["status"] == "ok" else f" ({p['status']})")
                       for p in report["phases"])
    say(f"phases: {phases}")
    debate = report["debate"]
    reason = debate.get("skipped_reason")
    status_reason = report.get("reason") or ""
    # The reason is said once: here, unless the status line below says it already.
    shown_reason = f" ({reason})" if reason and reason not in status_reason else ""
    say(f"debates: {debate['completed']} of {debate['requested']} completed{shown_reason}")
    errors = report.get("errors") or []
    if report["status"] == "FAILED" and errors:
        say(f"errors ({len(errors)}):")
        groups = group_errors(errors)
        for piece, message, tickers in groups[:ERRORS_LISTED]:
            if len(tickers) <= 3:  # a few: each with its own message
                for e in errors:
                    if e["ticker"] in tickers and e["piece"] == piece:
                        say(f"  {e['ticker']} {piece}: {e['message']}")
            else:
                named = ", ".join(tickers[:5]) + (f" and {len(tickers) - 5} more" if len(tickers) > 5 else "")
                say(f"  {piece} of {len(tickers)} tickers ({named}): {message}")
        if len(groups) > ERRORS_LISTED:
            rest = sum(len(t) for _, _, t in groups[ERRORS_LISTED:])
            say(f"  ... and {rest} more (--json lists them all)")
    elif errors:
        say(f"data errors: {len(errors)} (first: {errors[0]['ticker']} {errors[0]['piece']}: {errors[0]['message']})")
    say(f"run {report['run_id']}: {report['status']}" + (f" - {status_reason}" if status_reason else ""))
    unsaved = report.get("unsaved") or []
    for what in unsaved:
        say(f"NOT SAVED: {what}")
    say(f"{'partly saved' if unsaved else 'saved'} in {report['db']}")
    hint = advice(report)
    if hint:
        say(hint)
    return lines
