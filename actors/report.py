"""The shape a run is shown in: one JSON-ready dict for ``--json``, the table, and ``show``.

A fresh scan (:class:`~actors.coordinator.ScanOutcome`) and a stored run (the store's reader)
both become the same dict, so ``bin/scan show RUN_ID`` prints exactly what the scan printed.
Pure functions; no I/O.

Every result, debate and thesis carries ``"saved"``: True when it is in the database. What a
scan computed but could not save (:func:`scan_report`) is still in the dict, with
``"saved": false``, and the top-level ``"unsaved"`` list says what and why.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from actors.coordinator import ScanOutcome
from messages.convert import unstructure
from messages.debate import DebateFinished, DebateStatus
from messages.scan import TickerResult


def outcome_to_dict(outcome: ScanOutcome, *, db: str, theses: Mapping[str, list[dict]] | None = None) -> dict[str, Any]:
    """The ``--json`` object of a scan that just ran, from memory (``saved`` as the outcome knows it)."""
    debates = {f.ticker: f for f in outcome.debate.finished}
    unsaved_debates = set(outcome.debate.unsaved_debates)
    report = {
        "run_id": outcome.run_id,
        "status": outcome.status.value,
        "reason": outcome.reason,
        "db": db,
        "seconds": round(outcome.seconds, 3),
        "tickers_requested": outcome.tickers_requested,
        "phases": [
            {"name": p.phase.value, "status": p.status, "seconds": p.seconds, "errors": p.errors, "detail": p.detail}
            for p in outcome.phases
        ],
        "results": [
            result_to_dict(
                r, debates.get(r.ticker), (theses or {}).get(r.ticker), saved=outcome.results_saved,
                debate_saved=outcome.results_saved and debates.get(r.ticker) not in unsaved_debates,
            )
            for r in outcome.results
        ],
        "errors": [
            {"ticker": e.ticker, "piece": e.piece.value, "kind": e.kind, "message": e.message} for e in outcome.errors
        ],
        "debate": {
            "requested": outcome.debate.requested,
            "completed": outcome.debate.completed,
            "skipped_reason": outcome.debate.skipped_reason,
        },
        "unsaved": list(outcome.unsaved),
    }
    _add_unsaved_theses(report, outcome)
    return report


def scan_report(
    outcome: ScanOutcome, detail: Any | None, *, db: str, results: Iterable[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """What a scan shows: what was saved (read back from ``detail``), plus what was not, marked.

    ``detail`` is the run read back from the database, or None when it could not be read; then,
    and when the checkpoint itself failed, the report is built from ``outcome`` (results marked
    ``"saved": false``). Otherwise the stored run is overlaid with the debates and theses the
    store refused, and the status, reason and ``unsaved`` list of the outcome (the stored status
    is stale when the final write failed).
    """
    if detail is None or not outcome.results_saved:
        return outcome_to_dict(outcome, db=db)
    report = detail_to_dict(detail, db=db, results=results)
    unsaved_debates = {f.ticker: f for f in outcome.debate.unsaved_debates}
    unsaved_theses: dict[str, list[Any]] = {}
    for agent in outcome.debate.unsaved_outcomes:
        unsaved_theses.setdefault(agent.ticker, []).append(agent)

    def overlay(row: dict[str, Any]) -> dict[str, Any]:
        finished = unsaved_debates.get(row["ticker"])
        if finished is not None:  # its saved theses were left out of the row for want of a debate row
            theses = [thesis_to_dict(t.outcome) for t in detail.theses if t.outcome.ticker == finished.ticker]
            row["debate"] = debate_to_dict(finished, theses, saved=False)
        if row["debate"] is not None:
            row["debate"]["theses"].extend(thesis_to_dict(a, saved=False) for a in unsaved_theses.get(row["ticker"], ()))
        return row

    rows = report["results"]
    report["results"] = [overlay(r) for r in rows] if isinstance(rows, list) else map(overlay, rows)
    report["unsaved"] = list(outcome.unsaved)
    if outcome.unsaved:
        report["status"], report["reason"] = outcome.status.value, outcome.reason
    return report


def _add_unsaved_theses(report: dict[str, Any], outcome: ScanOutcome) -> None:
    by_ticker = {r["ticker"]: r for r in report["results"]}
    for agent in outcome.debate.unsaved_outcomes:
        row = by_ticker.get(agent.ticker)
        if row is None or row["debate"] is None:
            continue
        row["debate"]["theses"].append(thesis_to_dict(agent, saved=False))


def iter_json(report: Mapping[str, Any]) -> Iterator[str]:
    """``json.dumps(report)`` in pieces, one result row at a time, with the C encoder.

    ``report["results"]`` may be any iterable of row dicts (a generator keeps one row in memory).
    ``json.dump`` to a stream would use the pure-Python encoder: ten times slower on 5,000 rows.
    """
    yield "{"
    for position, (key, value) in enumerate(report.items()):
        yield (", " if position else "") + json.dumps(key) + ": "
        if key == "results":
            yield from _iter_rows(value)
        else:
            yield json.dumps(value)
    yield "}"


def _iter_rows(rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    yield "["
    for position, row in enumerate(rows):
        yield (", " if position else "") + json.dumps(row)
    yield "]"


def result_to_dict(
    result: TickerResult,
    debate: DebateFinished | None,
    theses: list[dict] | None,
    *,
    saved: bool = True,
    debate_saved: bool = True,
) -> dict[str, Any]:
    return {
        "ticker": result.ticker,
        "rank": result.rank,
        "score": result.score,
        "technical_score": result.technical_score,
        "direction": result.direction.value,
        "last_close": result.last_close,
        "as_of": result.as_of.isoformat(),
        "synthetic": result.synthetic,
        "components": [unstructure(c) for c in result.components],
        "catalysts": [unstructure(c) for c in result.catalysts],
        "option": unstructure(result.option) if result.option else None,
        "no_option_reason": result.no_option_reason,
        "quote_age_s": result.quote_age_s,
        "data_flags": list(result.data_flags),
        "debate": debate_to_dict(debate, theses, saved=debate_saved) if debate else None,
        "saved": saved,
    }


def _with_debate(row: dict[str, Any], debate: DebateFinished | None, theses: list[dict] | None) -> dict[str, Any]:
    row["debate"] = debate_to_dict(debate, theses) if debate else None
    row["saved"] = True
    return row


def debate_to_dict(debate: DebateFinished, theses: list[dict] | None, *, saved: bool = True) -> dict[str, Any]:
    return {
        "status": debate.status.value,
        "verdict": debate.verdict.value if debate.verdict else None,
        "conviction": debate.conviction,
        "reason": debate.reason,
        "theses": list(theses or []),
        "saved": saved,
    }


def age_cell(row: Mapping[str, Any], *, today: dt.date | None = None) -> str:
    """The age of a row's data for the table: the quote's age when a chain was fetched (``45m``,
    ``6h``, ``3d``), else the days since its as-of date; ``*`` marks mixed dates; ``-`` unknown.
    One cell function (live13) that the table's column spec can place anywhere."""
    flag = "*" if "mixed-dates" in (row.get("data_flags") or ()) else ""
    age = row.get("quote_age_s")
    if age is None:
        as_of = row.get("as_of")
        if not as_of:
            return "-"
        today = today or dt.datetime.now(dt.timezone.utc).date()
        age = max(0, (today - dt.date.fromisoformat(as_of)).days) * 86400.0
    if age < 3600:
        text = f"{age / 60:.0f}m"
    elif age < 2 * 86400:
        text = f"{age / 3600:.0f}h"
    else:
        text = f"{age / 86400:.0f}d"
    return text + flag


def debate_cell(debate: Mapping[str, Any] | None) -> str:
    """What the table's debate column says for one ticker."""
    if not debate:
        return "-"
    mark = " (unsaved)" if debate.get("saved") is False else ""
    status = debate["status"]
    if status == DebateStatus.COMPLETED.value:
        conviction = debate.get("conviction")
        shown = f" {conviction:.2f}" if isinstance(conviction, (int, float)) else ""
        return f"{debate.get('verdict') or '?'}{shown}{mark}"
    reason = (debate.get("reason") or "").split(":", 1)[0]  # the kind; the detail is in --json
    return f"{status.replace('_', ' ')}" + (f": {reason}" if reason else "") + mark


def option_cells(option: Mapping[str, Any] | None, reason: str | None) -> list[str]:
    """Contract, expiry, DTE, delta, mid, OI cells (or the reason across them)."""
    if not option:
        # The full reason is in --json and the database; the table shows its deciding clause.
        short = reason.rsplit("; ", 1)[-1] if reason else "-"
        return [f"({short})" if reason else "-", "", "", "", "", ""]
    return [
        f"{option['type'].upper()} {option['strike']:g}",
        str(option["expiry"]),
        str(option["dte"]),
        f"{option['delta']:+.2f}",
        f"{option['mid']:.2f}",
        f"{option['open_interest']:,.0f}",
    ]


def catalyst_flags(catalysts: list[Mapping[str, Any]]) -> str:
    short = {
        "earnings_before_expiry": "ER<exp",
        "earnings_soon": "ER soon",
        "earnings_after_window": "ER later",
        "earnings_unknown": "ER ?",
        "news": "news",
    }
    shown = [c for c in catalysts if c["kind"] != "news" or c.get("adjustment")]
    return " ".join(short.get(c["kind"], c["kind"]) for c in shown)


def advice(report: Mapping[str, Any], *, backend: str | None = None) -> str | None:
    """One plain sentence on what to do when a run is PARTIAL or FAILED."""
    status = report["status"]
    reason = report.get("reason") or ""
    if status == "COMPLETED":
        return None
    if status == "FAILED":
        unsaved = sum(1 for r in report.get("results", ()) if r.get("saved") is False)
        if unsaved:
            return (f"Run FAILED: {reason}. The {unsaved} ranked tickers above were computed but NOT saved; "
                    "free disk space (or the database lock) and re-run.")
        return f"Run FAILED: {reason}. Nothing was ranked; check the errors above and the data source."
    if report.get("unsaved"):
        return (f"Run is PARTIAL: not everything could be saved ({reason}). "
                "Rows marked (unsaved) exist only in this output.")
    hints = {
        "llm_unreachable": "start Ollama (`ollama serve`) or set ai_backend = none",
        "model_missing": "pull the model (`ollama pull <model>`) or set ollama_model",
        "unauthorized": "set ANTHROPIC_API_KEY (or anthropic_api_key_file) to a valid key",
        "llm_stopped_responding": "the LLM stopped answering mid-phase; check the server and re-run",
        "deadline": "raise ai_debate_phase_timeout or lower top_n_ai_debate",
    }
    hint = next((text for key, text in hints.items() if key in reason), None)
    sentence = f"Run is PARTIAL: scores and contracts are saved, debates incomplete ({reason})."
    return f"{sentence} To finish debates: {hint}." if hint else sentence


def detail_to_dict(detail: Any, *, db: str, results: Iterable[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The same dict as :func:`outcome_to_dict`, built from a stored run (``actors.store.reader.RunDetail``).

    ``results``, when given, are the run's result rows as JSON-shaped dicts
    (``StoreReader.result_rows``) used instead of ``detail.results``; ``report["results"]`` is
    then a generator that adds each row's debate as it goes (for :func:`iter_json`).
    """
    run = detail.run
    debates = {d.ticker: d for d in detail.debates}
    theses: dict[str, list[dict]] = {}
    for record in detail.theses:
        theses.setdefault(record.outcome.ticker, []).append(thesis_to_dict(record.outcome))
    debate_phase = next((p for p in detail.phases if p.phase.value == "ai_debate"), None)
    skipped_reason = (debate_phase.detail or None) if debate_phase else None
    if debate_phase is not None and debate_phase.status == "ok":
        skipped_reason = None
    return {
        "run_id": run.id,
        "status": run.status.value,
        "reason": run.status_reason,
        "db": db,
        "seconds": run.duration_seconds,
        "tickers_requested": run.tickers_requested,
        "phases": [
            {"name": p.phase.value, "status": p.status, "seconds": p.seconds, "errors": p.errors, "detail": p.detail}
            for p in detail.phases
        ],
        "results": (
            [result_to_dict(r, debates.get(r.ticker), theses.get(r.ticker)) for r in detail.results]
            if results is None
            else (_with_debate(row, debates.get(row["ticker"]), theses.get(row["ticker"])) for row in results)
        ),
        "errors": [
            {"ticker": e.ticker, "piece": e.piece.value, "kind": e.kind, "message": e.message}
            for e in detail.data_errors
        ],
        "debate": {
            "requested": run.debates_requested,
            "completed": run.debates_completed,
            "skipped_reason": skipped_reason,
        },
        "unsaved": [],
    }


def thesis_to_dict(outcome: Any, *, saved: bool = True) -> dict[str, Any]:
    """One agent call: role, model, status, the thesis (or the failure kind), attempts, latency, usage."""
    return {
        "role": outcome.role.value,
        "model": outcome.model,
        "status": "ok" if outcome.failure is None else "failed",
        "failure": outcome.failure,
        "thesis": unstructure(outcome.thesis) if outcome.thesis is not None else None,
        "attempts": outcome.attempts,
        "latency": outcome.latency,
        "detail": outcome.detail,
        "usage": {
            "input_tokens": outcome.input_tokens,
            "output_tokens": outcome.output_tokens,
            "tokens_per_second": outcome.tokens_per_second,
            "generation_seconds": outcome.generation_seconds,
            "prompt_seconds": outcome.prompt_seconds,
            "load_seconds": outcome.load_seconds,
        },
        "saved": saved,
    }
