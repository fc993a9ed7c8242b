"""What each storage command does to the database: one transaction per command.

Synchronous and blocking (apsw): the persister calls :func:`execute` in a worker thread
(start-up recovery is in :mod:`actors.store.recovery`). :func:`execute` returns the acknowledgement only after COMMIT succeeded; on any
error the transaction is rolled back and a :class:`StoreError` (or :class:`DiskFull`) is raised
``from`` the apsw error.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import apsw

from actors.errors import StoreError
from actors.store.articles import ARTICLE_HANDLERS
from actors.store.codec import describe, dump_json, now, thesis_kind, time_text
from actors.store.recovery import debate_counts
from actors.store.resume import list_resumable, reopen_run
from actors.store.schema import map_apsw_error
from messages.resume import ListResumable, ReopenRun
from messages.scan import CheckpointCommitted, RunStatus
from messages.storage import (
    BeginRun,
    Committed,
    FinishRun,
    RecordPhase,
    SaveAgentOutcome,
    SaveCheckpoint,
    SaveDebate,
)

__all__ = ["INTERRUPTED_REASON", "describe", "execute"]

logger = logging.getLogger(__name__)

#: ``status_reason`` of a run found RUNNING by the in-memory fake's restart.
INTERRUPTED_REASON = "process stopped while running"

#: Statuses a checkpoint may still be written in.
OPEN_STATUSES = (RunStatus.RUNNING.value, RunStatus.PARTIAL.value)


def _run_status(conn: apsw.Connection, run_id: str) -> str:
    rows = conn.execute("SELECT status FROM scan_runs WHERE id = ?", (run_id,)).fetchall()
    if not rows:
        raise StoreError(f"unknown run id {run_id!r} (send BeginRun first)")
    return rows[0][0]


def _begin_run(conn: apsw.Connection, cmd: BeginRun, owner: str | None = None) -> Committed:
    if conn.execute("SELECT 1 FROM scan_runs WHERE id = ?", (cmd.run_id,)).fetchall():
        raise StoreError(f"run id {cmd.run_id!r} already exists")
    conn.execute(
        "INSERT INTO scan_runs (id, started_at, status, source, tickers_requested, settings_json, owner)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (cmd.run_id, time_text(cmd.started_at), RunStatus.RUNNING.value, cmd.source,
         cmd.tickers_requested, cmd.settings_json, owner),
    )
    return Committed("BeginRun", cmd.run_id, 1)


def _record_phase(conn: apsw.Connection, cmd: RecordPhase) -> Committed:
    _run_status(conn, cmd.run_id)
    conn.execute(
        "INSERT INTO run_phases (run_id, phase, status, seconds, errors, detail) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (run_id, phase) DO UPDATE SET status = excluded.status,"
        " seconds = excluded.seconds, errors = excluded.errors, detail = excluded.detail",
        (cmd.run_id, cmd.phase.value, cmd.status, float(cmd.seconds), cmd.errors, cmd.detail),
    )
    return Committed("RecordPhase", cmd.run_id, 1)


def _save_checkpoint(conn: apsw.Connection, cmd: SaveCheckpoint) -> CheckpointCommitted:
    cp = cmd.checkpoint
    status = _run_status(conn, cp.run_id)
    if status not in OPEN_STATUSES:
        raise StoreError(f"run {cp.run_id!r} is already {status}; its checkpoint cannot change")
    # A checkpoint replaces an earlier one of the same run (a retry after a lost ack).
    conn.execute("DELETE FROM options_recommendations WHERE run_id = ?", (cp.run_id,))
    conn.execute("DELETE FROM ticker_scores WHERE run_id = ?", (cp.run_id,))
    conn.execute("DELETE FROM run_errors WHERE run_id = ?", (cp.run_id,))
    chosen = 0
    for r in cp.results:
        conn.execute(
            "INSERT INTO ticker_scores (run_id, ticker, rank, score, technical_score, direction,"
            " components_json, catalysts_json, last_close, as_of, synthetic, no_option_reason,"
            " quote_age_s, data_flags_json)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (cp.run_id, r.ticker, r.rank, r.score, r.technical_score, r.direction.value,
             dump_json(r.components), dump_json(r.catalysts), r.last_close, r.as_of.isoformat(),
             int(r.synthetic), r.no_option_reason, r.quote_age_s, json.dumps(list(r.data_flags))),
        )
        o = r.option
        if o is not None:
            chosen += 1
            conn.execute(
                "INSERT INTO options_recommendations (run_id, ticker, contract, type, strike,"
                " expiry, dte, delta, bid, ask, mid, open_interest, volume, iv, greeks_source,"
                " gamma, theta, vega) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (cp.run_id, r.ticker, o.contract, o.type.value, o.strike, o.expiry.isoformat(),
                 o.dte, o.delta, o.bid, o.ask, o.mid, o.open_interest, o.volume, o.iv,
                 o.greeks_source, o.gamma, o.theta, o.vega),
            )
    for e in cp.errors:
        conn.execute(
            "INSERT INTO run_errors (run_id, ticker, piece, kind, message) VALUES (?, ?, ?, ?, ?)",
            (cp.run_id, e.ticker, e.piece.value, e.kind, e.message),
        )
    conn.execute(
        "UPDATE scan_runs SET status = ?, tickers_requested = ?, tickers_scored = ?,"
        " options_chosen = ? WHERE id = ?",
        (RunStatus.PARTIAL.value, cp.tickers_requested, len(cp.results), chosen, cp.run_id),
    )
    return CheckpointCommitted(cp.run_id, len(cp.results))


def _save_outcome(conn: apsw.Connection, cmd: SaveAgentOutcome) -> Committed:
    o = cmd.outcome
    _run_status(conn, o.run_id)
    ok = o.thesis is not None and o.failure is None
    conn.execute(
        "INSERT INTO ai_theses (run_id, ticker, role, model, status, failure, thesis_type,"
        " thesis_json, attempts, latency_seconds, input_tokens, output_tokens, detail, created_at,"
        " generation_seconds, prompt_seconds, load_seconds)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (o.run_id, o.ticker, o.role.value, o.model, "ok" if ok else "failed",
         o.failure if not ok else None, thesis_kind(o.thesis),
         None if o.thesis is None else dump_json(o.thesis), o.attempts, float(o.latency),
         o.input_tokens, o.output_tokens, o.detail, time_text(cmd.recorded_at or now()),
         o.generation_seconds, o.prompt_seconds, o.load_seconds),
    )
    return Committed("SaveAgentOutcome", o.run_id, 1)


def _save_debate(conn: apsw.Connection, cmd: SaveDebate) -> Committed:
    f = cmd.finished
    _run_status(conn, f.run_id)
    conn.execute(
        "INSERT INTO debates (run_id, ticker, status, verdict, conviction, reason) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (run_id, ticker) DO UPDATE SET status = excluded.status,"
        " verdict = excluded.verdict, conviction = excluded.conviction, reason = excluded.reason",
        (f.run_id, f.ticker, f.status.value, None if f.verdict is None else f.verdict.value,
         f.conviction, f.reason),
    )
    return Committed("SaveDebate", f.run_id, 1)


def _finish_run(conn: apsw.Connection, cmd: FinishRun) -> Committed:
    _run_status(conn, cmd.run_id)
    requested, completed = cmd.debates_requested, cmd.debates_completed
    if cmd.status is RunStatus.INTERRUPTED:  # what the saved rows show, as recovery would count
        requested, completed = (max(a, b) for a, b in zip((requested, completed), debate_counts(conn, cmd.run_id)))
    conn.execute(
        "UPDATE scan_runs SET status = ?, status_reason = ?, debates_requested = ?,"
        " debates_completed = ?, duration_seconds = ?, finished_at = ?, errors_json = ? WHERE id = ?",
        (cmd.status.value, cmd.reason, requested, completed,
         float(cmd.duration_seconds), time_text(cmd.finished_at), json.dumps(list(cmd.errors)),
         cmd.run_id),
    )
    return Committed("FinishRun", cmd.run_id, 1)


_HANDLERS: dict[type, Callable[[apsw.Connection, Any], Any]] = {
    BeginRun: _begin_run,
    RecordPhase: _record_phase,
    SaveCheckpoint: _save_checkpoint,
    SaveAgentOutcome: _save_outcome,
    SaveDebate: _save_debate,
    FinishRun: _finish_run,
    ListResumable: list_resumable,
    ReopenRun: reopen_run,
    **ARTICLE_HANDLERS,
}

#: Handlers that also take the writer's lease name (``owner``): the runs they create or take over become its own.
_OWNED: dict[type, Callable[[apsw.Connection, Any, str | None], Any]] = {BeginRun: _begin_run, ReopenRun: reopen_run}


def execute(conn: apsw.Connection, command: object, *, owner: str | None = None) -> Any:
    """Apply ``command`` in one transaction; return its acknowledgement after COMMIT.

    ``owner`` (the writer's lease name) is recorded on runs that ``BeginRun`` creates.

    Raises:
        StoreError: the command is not a storage command, refers to an unknown run or article,
            or SQLite failed (``DiskFull`` when full, ``StoreBusy`` when another connection held
            the database locked past the busy timeout). Nothing of the command was written.
    """
    handler = _HANDLERS.get(type(command))
    if handler is None:
        raise StoreError(f"the persister does not understand {type(command).__name__!r}")
    doing = describe(command)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            owned = _OWNED.get(type(command))
            ack = owned(conn, command, owner) if owned is not None else handler(conn, command)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    except StoreError as exc:
        raise type(exc)(f"{doing}: {exc}") from exc
    except apsw.Error as exc:
        raise map_apsw_error(exc, doing) from exc
    except (ValueError, TypeError) as exc:  # a value SQLite or JSON cannot take (e.g. NaN)
        raise StoreError(f"{doing}: cannot store value: {exc}") from exc
    return ack
