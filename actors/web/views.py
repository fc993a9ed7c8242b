"""View models: the ``show RUN --json`` document turned into what the pages and exports lay out. Pure.

The table cells reuse :mod:`actors.report`'s (debate outcome, contract, catalyst flags), so the
browser, the terminal and the exported report say the same thing. Keys other branches add to a
result row (``news``, ``quote_age_s``, ``data_flags``) are shown when present and never required.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from actors.report import catalyst_flags, debate_cell
from actors.web.svg import break_even, option_lines, price_chart

__all__ = ["ROLE_ORDER", "data_cells", "find_row", "fmt_seconds", "result_row", "ticker_view"]

ROLE_ORDER = ("bull", "bear", "risk")


def fmt_seconds(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "-"
    if value < 60:
        return f"{value:.1f} s"
    minutes, seconds = divmod(int(round(value)), 60)
    return f"{minutes} min {seconds:02d} s"


def data_cells(row: Mapping[str, Any]) -> dict[str, str]:
    """As-of date, quote age and data flags of a result row (empty strings when absent)."""
    age = row.get("quote_age_s")
    flags = row.get("data_flags") or ()
    return {
        "as_of": str(row.get("as_of") or ""),
        "quote_age": fmt_seconds(age) if isinstance(age, (int, float)) else "",
        "data_flags": " ".join(str(f) for f in flags) if isinstance(flags, (list, tuple)) else str(flags),
    }


def option_cells(option: Mapping[str, Any] | None, reason: str | None) -> list[str]:
    """Contract, expiry, DTE, delta, mid, OI cells (or the reason's deciding clause across them)."""
    if not option:
        short = reason.rsplit("; ", 1)[-1] if reason else "-"
        return [f"({short})" if reason else "-", "", "", "", "", ""]
    return [
        f"{option['type'].upper()} {option['strike']:g}", str(option["expiry"]), str(option["dte"]),
        f"{option['delta']:+.2f}", f"{option['mid']:.2f}", f"{option['open_interest']:,.0f}",
    ]


def result_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """One ranked-table row: the cells the terminal shows, plus the data cells."""
    contract, expiry, dte, delta, mid, oi = option_cells(row.get("option"), row.get("no_option_reason"))
    debate = row.get("debate")
    return {
        "rank": row["rank"], "ticker": row["ticker"], "score": f"{row['score']:.1f}",
        "direction": row["direction"], "flags": catalyst_flags(row.get("catalysts") or [], row.get("news_flag")),
        "contract": contract, "expiry": expiry, "dte": dte, "delta": delta, "mid": mid, "oi": oi,
        "debate": debate_cell(debate), "debate_status": (debate or {}).get("status", "none"),
        "saved": row.get("saved", True), **data_cells(row),
    }


def _thesis_view(thesis: Mapping[str, Any]) -> dict[str, Any]:
    body = thesis.get("thesis") or {}
    return {
        "role": thesis["role"], "status": thesis["status"], "failure": thesis.get("failure"),
        "detail": thesis.get("detail") or "", "model": thesis.get("model"),
        "stance": body.get("stance"), "verdict": body.get("verdict"), "conviction": body.get("conviction"),
        "points": list(body.get("key_points") or body.get("main_risks") or ()),
        "summary": body.get("summary") or "", "attempts": thesis.get("attempts"),
        "latency": thesis.get("latency"),
    }


def _news_view(item: Mapping[str, Any]) -> dict[str, Any]:
    """One article that moved the score (news12's keys), every field optional; links only http(s)."""
    url = item.get("url")
    link = url if isinstance(url, str) and url.startswith(("https://", "http://")) else None
    return {
        "title": item.get("title") or "", "source": item.get("source") or "", "link": link,
        "published_at": item.get("published_at") or "", "sentiment": item.get("sentiment") or "",
        "impact": item.get("impact") if item.get("impact") is not None else "",
        "event_type": item.get("event_type") or "", "reasoning": item.get("reasoning") or "",
        "points": item.get("points"),
    }


def find_row(report: Mapping[str, Any], ticker: str) -> Mapping[str, Any] | None:
    """The result row of ``ticker`` (any case), or None."""
    return next((r for r in report["results"] if r["ticker"] == ticker.upper()), None)


def ticker_view(report: Mapping[str, Any], ticker: str,
                closes: Sequence[tuple[str, float]] = ()) -> dict[str, Any] | None:
    """Everything the ticker page shows for ``ticker`` in ``report``; None when the run has no such row.

    ``closes`` (oldest first, ending at the row's as-of date) are drawn when given.
    """
    row = find_row(report, ticker)
    if row is None:
        return None
    debate = row.get("debate")
    theses = sorted((debate or {}).get("theses") or (), key=lambda t: ROLE_ORDER.index(t["role"])
                    if t["role"] in ROLE_ORDER else len(ROLE_ORDER))
    option = row.get("option")
    even = break_even(option) if option else None
    chart = price_chart(closes=closes, last_close=row["last_close"], as_of=str(row.get("as_of") or ""),
                        lines=option_lines(option), title=f"{row['ticker']} price, strike and break-even")
    errors = [e for e in report.get("errors", ()) if e.get("ticker") == row["ticker"]]
    return {
        "row": row, "cells": result_row(row), "option": option, "break_even": even, "chart": chart,
        "debate": debate, "theses": [_thesis_view(t) for t in theses], "news": [_news_view(n) for n in row.get("news") or () if isinstance(n, Mapping)],
        "errors": errors, "history_days": len(closes),
    }
