"""Reopening a run to finish its debates: the SQL behind ``ListResumable`` and ``ReopenRun``.

Synchronous (apsw), called by :func:`actors.store.writes.execute` inside its IMMEDIATE
transaction, so two processes reopening the same run are serialized: the second finds it open
(``finished_at`` NULL, owned by the first, whose lease is alive) and is refused.

Reopening sets the run back to PARTIAL with no ``finished_at`` and this process as its owner,
exactly as a run in its debate phase looks: if the process dies now, start-up recovery finishes
it as INTERRUPTED again, and it stays resumable.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import apsw

from actors.core.ranking import debate_candidates
from actors.errors import StoreError
from actors.store.codec import time_text
from actors.store.reader import StoreReader
from messages.resume import ListResumable, ReopenedRun, ReopenRun
from messages.scan import RunStatus

__all__ = ["RESUMABLE_STATUSES", "candidates_of", "list_resumable", "reopen_run", "top_n_of"]

RESUMABLE_STATUSES = (RunStatus.PARTIAL.value, RunStatus.INTERRUPTED.value)

#: ``top_n_ai_debate`` when a run's settings do not say (runs from before the setting was recorded).
DEFAULT_TOP_N = 10


def list_resumable(conn: apsw.Connection, cmd: ListResumable) -> tuple[str, ...]:
    rows = conn.execute(
        "SELECT r.id FROM scan_runs r WHERE r.started_at >= ? AND r.finished_at IS NOT NULL"
        " AND r.status IN (?, ?) AND EXISTS (SELECT 1 FROM ticker_scores s WHERE s.run_id = r.id)"
        " ORDER BY r.started_at, r.id",
        (time_text(cmd.since), *RESUMABLE_STATUSES),
    ).fetchall()
    return tuple(r[0] for r in rows)


def reopen_run(conn: apsw.Connection, cmd: ReopenRun, owner: str | None) -> ReopenedRun:
    rows = conn.execute(
        "SELECT status, finished_at, settings_json, duration_seconds FROM scan_runs WHERE id = ?", (cmd.run_id,)
    ).fetchall()
    if not rows:
        raise StoreError(f"unknown run id {cmd.run_id!r}")
    status, finished_at, settings_json, duration = rows[0]
    if finished_at is None:
        raise StoreError(f"run {cmd.run_id} is still open: its process is running it (or resuming it)")
    if status not in RESUMABLE_STATUSES:
        raise StoreError(f"run {cmd.run_id} is {status}; only PARTIAL or INTERRUPTED runs can be resumed")
    if not conn.execute("SELECT 1 FROM ticker_scores WHERE run_id = ? LIMIT 1", (cmd.run_id,)).fetchall():
        raise StoreError(f"run {cmd.run_id} has no checkpoint (it ended before its results were saved)")
    conn.execute(
        "UPDATE scan_runs SET status = ?, finished_at = NULL, owner = ?, status_reason = ? WHERE id = ?",
        (RunStatus.PARTIAL.value, owner, "resuming its debates", cmd.run_id),
    )
    reader = StoreReader.on_connection(conn)
    results = reader.checkpointed_results(cmd.run_id)
    debates = reader.debates(cmd.run_id)
    saved = tuple(r.outcome for r in reader.theses(cmd.run_id) if r.outcome.thesis is not None and not r.outcome.failure)
    return ReopenedRun(
        run_id=cmd.run_id,
        candidates=candidates_of(results, debates, settings_json),
        debates=debates,
        saved=saved,
        duration_seconds=float(duration or 0.0),
        previous_status=status,
    )


def candidates_of(results: Sequence[Any], debates: Sequence[Any], settings_json: str | None) -> tuple[Any, ...]:
    """The tickers the run debates, in rank order: the ones its scan chose by the rule
    (:func:`~actors.core.ranking.debate_candidates` with the run's recorded ``top_n_ai_debate``
    and ``debate_without_contract``; absent from older runs, which debated regardless of a
    contract), and any other it has a debate row for."""
    try:
        recorded = json.loads(settings_json or "{}")
    except ValueError:
        recorded = {}
    if not isinstance(recorded, dict):
        recorded = {}
    # A run recorded before debate_without_contract existed debated the best tickers, contract or not.
    without = recorded.get("debate_without_contract", True) is True
    chosen = {r.ticker for r in debate_candidates(results, top_n=top_n_of(settings_json), without_contract=without)}
    chosen |= {d.ticker for d in debates}
    return tuple(r for r in results if r.ticker in chosen)


def top_n_of(settings_json: str | None) -> int:
    """The run's ``top_n_ai_debate`` from its recorded settings."""
    try:
        value = json.loads(settings_json or "{}").get("top_n_ai_debate", DEFAULT_TOP_N)
    except (ValueError, AttributeError):
        return DEFAULT_TOP_N
    return value if isinstance(value, int) and value >= 0 else DEFAULT_TOP_N
