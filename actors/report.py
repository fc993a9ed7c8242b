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

#: The version of every JSON document the CLI prints (``schema_version``); see docs/json-schema.md.
#: Adding a key keeps the version; renaming or removing one, or changing a meaning, raises it.
SCHEMA_VERSION = 1

#: The model name of the built-in demo LLM (``actors.demo_llm``): its theses are synthetic.
DEMO_MODEL = "synthetic-demo"


def outcome_to_dict(outcome: ScanOutcome, *, db: str, theses: Mapping[str, list[dict]] | None = None) -> dict[str, Any]:
    """The ``--json`` object of a scan that just ran, from memory (``saved`` as the outcome knows it)."""
    debates = {f.ticker: f for f in outcome.debate.finished}
    unsaved_debates = set(outcome.debate.unsaved_debates)
    report = {
        "schema_version": SCHEMA_VERSION,
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
        "errors": [_error_dict(e) for e in outcome.errors],
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
    if not detail.data_errors and outcome.errors:  # a run that failed before its checkpoint: all of them, with kinds
        report["errors"] = [_error_dict(e) for e in outcome.errors]
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
    news: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    row = {
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
    return _with_news(row, news)


def _with_debate(
    row: dict[str, Any], debate: DebateFinished | None, theses: list[dict] | None, news: list[dict] | None = None
) -> dict[str, Any]:
    row["debate"] = debate_to_dict(debate, theses) if debate else None
    row["saved"] = True
    return _with_news(row, news)


def _with_news(row: dict[str, Any], news: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Add ``news`` (the articles that moved the score, with their points) and ``news_flag``."""
    row["news"] = list(news or [])
    row["news_flag"] = news_flag(row["news"])
    return row


#: News points below which no flag is shown (as ``actors.core.news.catalyst.FLAG_MIN_POINTS``).
NEWS_FLAG_MIN_POINTS = 0.5


def news_flag(news: list[Mapping[str, Any]]) -> str | None:
    """``NEWS+`` / ``NEWS-`` by the sign of the articles' weighted sentiment, when they moved the
    score by at least half a point; else None. The table shows it beside the catalyst flags."""
    points = sum(float(n.get("points") or 0.0) for n in news)
    net = sum(float(n.get("sentiment") or 0.0) * float(n.get("weight") or 0.0) for n in news)
    if abs(points) < NEWS_FLAG_MIN_POINTS or not net:
        return None
    return "NEWS+" if net > 0 else "NEWS-"


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


def debate_cell(debate: Mapping[str, Any] | None, *, short: bool = False) -> str:
    """What the table's debate column says for one ticker (``short``: ``adj`` for ``adjust``)."""
    if not debate:
        return "-"
    mark = " (unsaved)" if debate.get("saved") is False else ""
    status = debate["status"]
    if status == DebateStatus.COMPLETED.value:
        conviction = debate.get("conviction")
        shown = f" {conviction:.2f}" if isinstance(conviction, (int, float)) else ""
        verdict = debate.get("verdict") or "?"
        return f"{'adj' if short and verdict == 'adjust' else verdict}{shown}{mark}"
    if status == DebateStatus.SKIPPED.value:  # the phase's one reason is printed under the table, once
        return "skipped" + mark
    reason = (debate.get("reason") or "").split(":", 1)[0]  # the kind; the detail is in --json
    return f"{status.replace('_', ' ')}" + (f": {reason}" if reason else "") + mark


#: How the table and the panel name each catalyst kind (the legend explains them).
CATALYST_FLAGS = {
    "earnings_before_expiry": "ER<exp",
    "earnings_soon": "ER soon",
    "earnings_after_window": "ER later",
    "earnings_unknown": "ER ?",
    "news": "news",
}


def catalyst_flags(catalysts: list[Mapping[str, Any]], news_flag: str | None = None) -> str:
    """The table's flags cell: each catalyst's short name; news only when it moved the score, as
    ``news_flag`` (``NEWS+``/``NEWS-``, the row's ``news_flag``) when given."""
    short = {**CATALYST_FLAGS, "news": news_flag} if news_flag else CATALYST_FLAGS
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
        if report.get("errors"):
            return ("Run FAILED: nothing was ranked; the errors above say why each ticker failed. Check the "
                    "tickers (--universe) and the data source (--source), or try `bin/scan --demo`.")
        return "Run FAILED: nothing was ranked. Check the tickers (--universe) and the data source (--source)."
    if report.get("unsaved"):
        return (f"Run is PARTIAL: not everything could be saved ({reason}). "
                "Rows marked (unsaved) exist only in this output.")
    resume = f"`bin/scan resume {report['run_id']}` (or bin/daemon, on its own once the LLM is back)"
    hints = {
        "llm_unreachable": f"start Ollama (`ollama serve`), then {resume}",
        "llm_not_responding": f"check that Ollama answers (`ollama ps`), then {resume}",
        "model_missing": f"pull the model (`ollama pull MODEL`, MODEL being ollama_model), then {resume}",
        "unauthorized": f"set ANTHROPIC_API_KEY (or anthropic_api_key_file) to a valid key, then {resume}",
        "llm_stopped_responding": f"check the LLM server, then {resume}",
        "deadline": f"{resume} continues where the phase deadline stopped (`--set ai_debate_phase_timeout=1200` "
                    "gives it longer)",
    }
    hint = next((text for key, text in hints.items() if key in reason), None)
    # The reason itself is on the status line just above; it is not repeated here.
    sentence = "Run is PARTIAL: scores and contracts are saved, debates incomplete."
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
    news = getattr(detail, "news", None) or {}
    debate_phase = next((p for p in detail.phases if p.phase.value == "ai_debate"), None)
    skipped_reason = (debate_phase.detail or None) if debate_phase else None
    if debate_phase is not None and debate_phase.status == "ok":
        skipped_reason = None
    return {
        "schema_version": SCHEMA_VERSION,
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
            [result_to_dict(r, debates.get(r.ticker), theses.get(r.ticker), news=news.get(r.ticker))
             for r in detail.results]
            if results is None
            else (_with_debate(row, debates.get(row["ticker"]), theses.get(row["ticker"]), news.get(row["ticker"]))
                  for row in results)
        ),
        "errors": _stored_errors(detail),
        "debate": {
            "requested": run.debates_requested,
            "completed": run.debates_completed,
            "skipped_reason": skipped_reason,
        },
        "unsaved": [],
    }


def _error_dict(error: Any) -> dict[str, Any]:
    return {"ticker": error.ticker, "piece": error.piece.value, "kind": error.kind, "message": error.message}


def _stored_errors(detail: Any) -> list[dict[str, Any]]:
    """A stored run's data errors: the checkpoint's rows, or for a run that FAILED before its
    checkpoint the lines the run row keeps (``TICKER piece: message``, ``kind`` unknown)."""
    if detail.data_errors:
        return [_error_dict(e) for e in detail.data_errors]
    out = []
    for line in detail.errors:
        head, _, message = str(line).partition(": ")
        ticker, _, piece = head.partition(" ")
        out.append({"ticker": ticker, "piece": piece, "kind": None, "message": message})
    return out


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


def summary_to_dict(run: Any) -> dict[str, Any]:
    """One stored run's summary (``actors.store.reader.RunSummary``): ``bin/scan runs --json`` and ``/api/runs``."""
    return {
        "run_id": run.id, "started_at": run.started_at.isoformat(), "status": run.status.value, "source": run.source,
        "tickers": run.tickers_requested, "scored": run.tickers_scored, "options": run.options_chosen,
        "debates_requested": run.debates_requested, "debates_completed": run.debates_completed,
        "reason": run.status_reason, "seconds": run.duration_seconds,
    }


def runs_document(runs: Iterable[Any]) -> dict[str, Any]:
    """``bin/scan runs --json`` and ``/api/runs``: ``{"schema_version", "runs": [summary_to_dict(...), ...]}``."""
    return {"schema_version": SCHEMA_VERSION, "runs": [summary_to_dict(r) for r in runs]}
