"""Read-only queries for the CLI and the dashboard, on their own read-only connection.

Blocking (apsw): call from a worker thread (``trio.to_thread.run_sync``) inside trio code.
Readers never write and never block the persister (WAL); they see committed data only.

::

    with open_reader(path) as reader:
        runs = reader.list_runs(limit=20)
        detail = reader.load_run("20240105")   # a unique prefix of the run id is enough

Raises :class:`StoreError` when there is no database or it is newer than this code, and
:class:`RunNotFound` for an unknown or ambiguous run id.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import apsw
import attrs

from actors.errors import StoreError
from actors.store import articles, codec, schema
from messages.convert import unstructure
from messages.articles import Article, ArticleStatus, QueueCounts
from messages.debate import AgentOutcome, AgentRole, DebateFinished, DebateStatus, Verdict
from messages.market import DataError, DataPiece, OptionType
from messages.scan import Catalyst, Direction, OptionPick, Phase, RunStatus, ScoreComponent, TickerResult

__all__ = [
    "PhaseRecord",
    "RunDetail",
    "RunNotFound",
    "RunSummary",
    "StoreReader",
    "ThesisRecord",
    "list_runs",
    "load_run",
    "load_theses",
    "open_reader",
]


class RunNotFound(StoreError, LookupError):
    """No run has that id (or that prefix matches several runs)."""


@attrs.frozen
class RunSummary:
    """One ``scan_runs`` row."""

    id: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: RunStatus
    source: str
    tickers_requested: int
    tickers_scored: int
    options_chosen: int
    debates_requested: int
    debates_completed: int
    status_reason: str | None
    duration_seconds: float | None


@attrs.frozen
class PhaseRecord:
    phase: Phase
    status: str
    seconds: float
    errors: int
    detail: str


@attrs.frozen
class ThesisRecord:
    """One agent call as stored, with the time it was saved."""

    outcome: AgentOutcome
    created_at: dt.datetime


@attrs.frozen
class RunDetail:
    """A run with everything saved for it; ``results`` in rank order."""

    run: RunSummary
    settings_json: str
    errors: tuple[str, ...]
    phases: tuple[PhaseRecord, ...]
    results: tuple[TickerResult, ...]
    data_errors: tuple[DataError, ...]
    debates: tuple[DebateFinished, ...]
    theses: tuple[ThesisRecord, ...]
    #: Per ticker, the articles that moved its score (``StoreReader.run_news``).
    news: dict[str, list[dict[str, Any]]] = attrs.Factory(dict)



_RUN_COLUMNS = (
    "id, started_at, finished_at, status, source, tickers_requested, tickers_scored,"
    " options_chosen, debates_requested, debates_completed, status_reason, duration_seconds"
)


def _summary(row: tuple) -> RunSummary:
    (rid, started, finished, status, source, requested, scored, chosen, d_req, d_done, reason,
     duration) = row
    return RunSummary(
        id=rid, started_at=codec.parse_time(started), finished_at=codec.parse_time(finished),
        status=RunStatus(status), source=source, tickers_requested=requested,
        tickers_scored=scored, options_chosen=chosen, debates_requested=d_req,
        debates_completed=d_done, status_reason=reason, duration_seconds=duration,
    )


def _option(row: tuple) -> OptionPick | None:
    if row[0] is None:
        return None
    (contract, type_, strike, expiry, dte, delta, bid, ask, mid, oi, volume, iv, source, gamma,
     theta, vega) = row
    return OptionPick(
        contract=contract, type=OptionType(type_), strike=strike, expiry=dt.date.fromisoformat(expiry),
        dte=dte, delta=delta, bid=bid, ask=ask, mid=mid, open_interest=oi, volume=volume, iv=iv,
        greeks_source=source, gamma=gamma, theta=theta, vega=vega,
    )


_COMPONENT_KEYS = tuple(a.name for a in attrs.fields(ScoreComponent))
_CATALYST_KEYS = tuple(a.name for a in attrs.fields(Catalyst))
_OPTION_KEYS = tuple(a.name for a in attrs.fields(OptionPick))
#: Index of ``quote_age_s`` in a result tuple (after the 11 score columns and the option's columns).
_AGE = 11 + len(_OPTION_KEYS)


def _result_dict(r: tuple) -> dict[str, Any]:
    """One result row as ``unstructure`` of its :class:`TickerResult` would give it (same keys, order, values)."""
    option = None if r[11] is None else dict(zip(_OPTION_KEYS, r[11:_AGE]))
    return {
        "ticker": r[0], "rank": r[1], "score": r[2], "technical_score": r[3], "direction": r[4],
        "last_close": r[7], "as_of": r[8], "synthetic": bool(r[9]),
        "components": [{k: c[k] for k in _COMPONENT_KEYS} for c in json.loads(r[5])],
        "catalysts": [{k: c.get(k) for k in _CATALYST_KEYS} for c in json.loads(r[6])],
        "option": option, "no_option_reason": r[10],
        "quote_age_s": r[_AGE], "data_flags": _flags(r[_AGE + 1]),
    }


def _flags(text: str | None) -> list[str]:
    """The stored data flags (NULL on rows written before they existed: none)."""
    return list(json.loads(text)) if text else []


class StoreReader:
    """Queries over one read-only connection; close it (or use :func:`open_reader`)."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self._conn = schema.open_readonly(path, busy_timeout=busy_timeout)

    @classmethod
    def on_connection(cls, conn: apsw.Connection, path: str | Path = "(persister)") -> StoreReader:
        """The same queries over an open connection (the persister's, inside its transaction); not closed by us."""
        reader = cls.__new__(cls)
        reader.path = Path(path)
        reader._conn = conn
        return reader

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> StoreReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except apsw.Error as exc:
            raise schema.map_apsw_error(exc, f"reading {self.path}") from exc

    def list_runs(self, limit: int = 20) -> tuple[RunSummary, ...]:
        """The newest ``limit`` runs, newest first."""
        if not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive int, got {limit!r}")
        rows = self._rows(
            f"SELECT {_RUN_COLUMNS} FROM scan_runs ORDER BY started_at DESC, id DESC LIMIT ?", (limit,)
        )
        return tuple(_summary(r) for r in rows)

    def resolve_run_id(self, run_id: str) -> str:
        """The full id of the run ``run_id`` names exactly or as a unique prefix.

        Raises:
            RunNotFound: no run matches, or the prefix matches several runs.
        """
        if not isinstance(run_id, str) or not run_id.strip():
            raise RunNotFound(f"run id must be a non-empty string, got {run_id!r:.40}")
        if self._rows("SELECT 1 FROM scan_runs WHERE id = ?", (run_id,)):
            return run_id
        matches = [
            r[0]
            for r in self._rows(
                "SELECT id FROM scan_runs WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT 6",
                (len(run_id), run_id),
            )
        ]
        if not matches:
            raise RunNotFound(f"{self.path}: no run with id {run_id!r} (see the run list)")
        if len(matches) > 1:
            shown = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
            raise RunNotFound(f"run id prefix {run_id!r} is ambiguous: matches {shown}")
        return matches[0]

    def load_run(self, run_id: str, *, results: bool = True) -> RunDetail:
        """A run with its phases, results (with pick or no-option reason), errors, debates, theses.

        ``results=False`` leaves ``results`` empty: for callers that stream them with
        :meth:`result_rows` instead (20,000 results are a lot of objects to hold).
        """
        rid = self.resolve_run_id(run_id)
        run_row = self._rows(
            f"SELECT {_RUN_COLUMNS}, settings_json, errors_json FROM scan_runs WHERE id = ?", (rid,)
        )[0]
        phases = tuple(
            PhaseRecord(phase=Phase(p), status=s, seconds=sec, errors=e, detail=d)
            for p, s, sec, e, d in self._rows(
                "SELECT phase, status, seconds, errors, detail FROM run_phases WHERE run_id = ?", (rid,)
            )
        )
        order = {p: i for i, p in enumerate(Phase)}
        phases = tuple(sorted(phases, key=lambda p: order[p.phase]))
        return RunDetail(
            run=_summary(run_row[:-2]),
            settings_json=run_row[-2],
            errors=tuple(json.loads(run_row[-1])),
            phases=phases,
            results=self._results(rid) if results else (),
            data_errors=tuple(
                DataError(ticker=t, piece=DataPiece(p), kind=k, message=m)
                for t, p, k, m in self._rows(
                    "SELECT ticker, piece, kind, message FROM run_errors WHERE run_id = ? ORDER BY id",
                    (rid,),
                )
            ),
            debates=self.debates(rid),
            theses=self._theses(rid),
            news=self.run_news(rid),
        )

    def debates(self, rid: str) -> tuple[DebateFinished, ...]:
        """The debate rows of run ``rid`` (a full id), by ticker."""
        return tuple(
            DebateFinished(
                run_id=rid, ticker=t, status=DebateStatus(s),
                verdict=None if v is None else Verdict(v), conviction=c, reason=r,
            )
            for t, s, v, c, r in self._rows(
                "SELECT ticker, status, verdict, conviction, reason FROM debates"
                " WHERE run_id = ? ORDER BY ticker",
                (rid,),
            )
        )

    def checkpointed_results(self, rid: str) -> tuple[TickerResult, ...]:
        """The checkpointed results of run ``rid`` (a full id), in rank order."""
        return self._results(rid)

    def theses(self, rid: str) -> tuple[ThesisRecord, ...]:
        """Every saved agent outcome of run ``rid`` (a full id), in the order saved."""
        return self._theses(rid)

    def _result_tuples(self, rid: str) -> list[tuple]:
        return self._rows(
            "SELECT s.ticker, s.rank, s.score, s.technical_score, s.direction, s.components_json,"
            " s.catalysts_json, s.last_close, s.as_of, s.synthetic, s.no_option_reason,"
            " o.contract, o.type, o.strike, o.expiry, o.dte, o.delta, o.bid, o.ask, o.mid,"
            " o.open_interest, o.volume, o.iv, o.greeks_source, o.gamma, o.theta, o.vega,"
            " s.quote_age_s, s.data_flags_json"
            " FROM ticker_scores s LEFT JOIN options_recommendations o"
            " ON o.run_id = s.run_id AND o.ticker = s.ticker"
            " WHERE s.run_id = ? ORDER BY s.rank, s.ticker",
            (rid,),
        )

    def result_rows(self, run_id: str) -> Iterator[dict[str, Any]]:
        """A run's results in rank order as JSON-shaped dicts, built one at a time.

        The same values as ``unstructure`` of the :class:`TickerResult` that :meth:`load_run`
        returns, without structuring and validating again what this store wrote: for
        streaming large runs (``bin/scan --json``). The rows are read before this returns,
        so a read error is raised here, not halfway through the iteration.
        """
        rows = self._result_tuples(self.resolve_run_id(run_id))
        return (_result_dict(r) for r in rows)

    def _results(self, rid: str) -> tuple[TickerResult, ...]:
        rows = self._result_tuples(rid)
        return tuple(
            TickerResult(
                ticker=r[0], rank=r[1], score=r[2], technical_score=r[3], direction=Direction(r[4]),
                components=codec.load_components(r[5]), catalysts=codec.load_catalysts(r[6]),
                last_close=r[7], as_of=dt.date.fromisoformat(r[8]), synthetic=bool(r[9]),
                no_option_reason=r[10], option=_option(r[11:_AGE]),
                quote_age_s=r[_AGE], data_flags=tuple(_flags(r[_AGE + 1])),
            )
            for r in rows
        )

    def _theses(self, rid: str) -> tuple[ThesisRecord, ...]:
        rows = self._rows(
            "SELECT ticker, role, model, failure, thesis_type, thesis_json, attempts,"
            " latency_seconds, input_tokens, output_tokens, detail, created_at,"
            " generation_seconds, prompt_seconds, load_seconds"
            " FROM ai_theses WHERE run_id = ? ORDER BY id",
            (rid,),
        )
        return tuple(
            ThesisRecord(
                outcome=AgentOutcome(
                    run_id=rid, ticker=t, role=AgentRole(role), model=model,
                    thesis=codec.load_thesis(kind, text), failure=failure, attempts=attempts,
                    latency=latency, detail=detail, input_tokens=tin, output_tokens=tout,
                    generation_seconds=generating, prompt_seconds=prompting, load_seconds=loading,
                ),
                created_at=codec.parse_time(created),
            )
            for (t, role, model, failure, kind, text, attempts, latency, tin, tout, detail, created,
                 generating, prompting, loading) in rows
        )

    def list_articles(self, *, status: ArticleStatus | None = None, limit: int = 50) -> tuple[Article, ...]:
        """Articles with their tickers, newest published first, optionally only those in ``status``."""
        if not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive int, got {limit!r}")
        rows = self._rows(
            "SELECT id FROM articles WHERE (?1 IS NULL OR status = ?1) ORDER BY published_at DESC, id LIMIT ?2",
            (None if status is None else status.value, limit),
        )
        found = (articles.load_article(self._conn, r[0]) for r in rows)
        return tuple(a for a in found if a is not None)

    def article_counts(self) -> QueueCounts:
        """Articles per status and the news cool-down in force now."""
        return articles.queue_counts(self._conn)

    def run_news(self, run_id: str) -> dict[str, list[dict[str, Any]]]:
        """The articles that moved each ticker's score in run ``run_id`` (the ``news`` key of a result)."""
        if schema.schema_version(self._conn) < schema.NEWS_SCHEMA_VERSION:
            return {}  # written before news existed (a scan since would have migrated it)
        rows = self._rows(
            "SELECT n.ticker, a.id, a.title, a.source, a.url, a.published_at, s.sentiment, s.impact,"
            " a.event_type, a.reasoning, n.weight, n.points FROM run_news n JOIN articles a ON a.id = n.article_id"
            " LEFT JOIN article_scores s ON s.article_id = n.article_id AND s.ticker = n.ticker"
            " WHERE n.run_id = ? ORDER BY n.ticker, abs(n.points) DESC, a.id",
            (run_id,),
        )
        out: dict[str, list[dict[str, Any]]] = {}
        for ticker, aid, title, source, url, published, sentiment, impact, event, reasoning, weight, points in rows:
            out.setdefault(ticker, []).append({
                "id": aid, "title": title, "source": source, "url": url, "published_at": published,
                "sentiment": sentiment, "impact": impact, "event_type": event, "reasoning": reasoning,
                "weight": weight, "points": points,
            })
        return out


@contextmanager
def open_reader(path: str | Path, *, busy_timeout: float = 5.0) -> Iterator[StoreReader]:
    """A :class:`StoreReader` closed on exit."""
    reader = StoreReader(path, busy_timeout=busy_timeout)
    try:
        yield reader
    finally:
        reader.close()


def list_runs(path: str | Path, limit: int = 20) -> tuple[RunSummary, ...]:
    """The newest ``limit`` runs of the database at ``path``."""
    with open_reader(path) as reader:
        return reader.list_runs(limit)


def load_run(path: str | Path, run_id: str) -> RunDetail:
    """One run (exact id or unique prefix) of the database at ``path``."""
    with open_reader(path) as reader:
        return reader.load_run(run_id)


def thesis_to_dict(record: ThesisRecord) -> dict[str, Any]:
    """The JSON-shaped form of one stored agent call (for ``--json`` reports and the dashboard)."""
    o = record.outcome
    return {
        "role": o.role.value,
        "model": o.model,
        "status": "ok" if o.thesis is not None and o.failure is None else "failed",
        "failure": o.failure,
        "thesis": None if o.thesis is None else unstructure(o.thesis),
        "attempts": o.attempts,
        "latency_seconds": o.latency,
        "input_tokens": o.input_tokens,
        "output_tokens": o.output_tokens,
        "tokens_per_second": o.tokens_per_second,
        "generation_seconds": o.generation_seconds,
        "prompt_seconds": o.prompt_seconds,
        "load_seconds": o.load_seconds,
        "detail": o.detail,
        "created_at": record.created_at.isoformat(),
    }


def load_theses(path: str | Path, run_id: str) -> dict[str, list[dict[str, Any]]]:
    """A run's agent calls as JSON-shaped dicts, by ticker, in the order they were saved."""
    with open_reader(path) as reader:
        detail = reader.load_run(run_id)
    by_ticker: dict[str, list[dict[str, Any]]] = {}
    for record in detail.theses:
        by_ticker.setdefault(record.outcome.ticker, []).append(thesis_to_dict(record))
    return by_ticker
