"""Start-up recovery: finish the runs of processes that ended, requeue their articles.

Synchronous and blocking (apsw); the persister calls :func:`recover` in a worker thread after it
has taken its own lease (``actors.store.owners``).

A run is *open* while it has no ``finished_at`` (status RUNNING before its checkpoint, PARTIAL
after it). An open run whose owner is gone is finished the way an interrupt would have
finished it: INTERRUPTED, ``finished_at`` now, a reason naming the phase the process died in
(the phase after the last one recorded in ``run_phases``), and debate counts taken from the
saved ``debates`` and ``ai_theses`` rows. Its checkpoint and saved theses stay, so it can be
resumed later. Runs whose owner still holds its lease are not touched.

Articles whose scoring lease has expired go back to ``pending`` with their attempt counted (a
claim counts it), so a crash-looping article is not retried for ever; leases still running
(a live scorer in another process) are untouched. Running out of attempts is decided at the
next claim (``actors.store.articles``), which knows ``news_max_attempts``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import apsw

from actors.store.codec import now, time_text
from messages.debate import DebateStatus
from messages.scan import PHASE_ORDER, RunStatus

__all__ = ["DebateCounts", "debate_counts", "interrupted_phase", "recover", "recovery_reason"]

logger = logging.getLogger(__name__)

#: ``owner -> alive?``; asked once per distinct owner of an open run.
OwnerCheck = Callable[[str | None], bool]

DebateCounts = tuple[int, int]


def debate_counts(conn: apsw.Connection, run_id: str) -> DebateCounts:
    """``(requested, completed)`` as the saved rows show them.

    Requested: tickers with a ``debates`` row or at least one saved thesis; completed: debates
    saved as completed.
    """
    requested = conn.execute(
        "SELECT count(*) FROM (SELECT ticker FROM debates WHERE run_id = ?"
        " UNION SELECT ticker FROM ai_theses WHERE run_id = ?)",
        (run_id, run_id),
    ).fetchall()[0][0]
    completed = conn.execute(
        "SELECT count(*) FROM debates WHERE run_id = ? AND status = ?",
        (run_id, DebateStatus.COMPLETED.value),
    ).fetchall()[0][0]
    return int(requested), int(completed)


def interrupted_phase(conn: apsw.Connection, run_id: str) -> str:
    """The phase a run was in when its process ended: the first phase not recorded as finished."""
    done = {row[0] for row in conn.execute("SELECT phase FROM run_phases WHERE run_id = ?", (run_id,)).fetchall()}
    for phase in PHASE_ORDER:
        if phase.value not in done:
            return phase.value
    return "finish"  # every phase recorded; it died writing the final status


def recovery_reason(phase: str) -> str:
    """``status_reason`` of a run finished by recovery."""
    if phase == "finish":
        return "process ended after its last phase, before recording the result; found by start-up recovery"
    return f"process ended during the {phase} phase; found by start-up recovery"


def recover(
    conn: apsw.Connection, *, owner_alive: OwnerCheck, at: dt.datetime | None = None
) -> tuple[tuple[str, ...], int]:
    """Finish every open run whose owner is gone; requeue articles left ``scoring``.

    Runs in one IMMEDIATE transaction, so two processes recovering at once do not both finish
    the same run. Returns ``(ids of the runs finished as INTERRUPTED, requeued articles)``.
    """
    stamp = time_text(at or now())
    conn.execute("BEGIN IMMEDIATE")
    try:
        rows = conn.execute(
            "SELECT id, owner FROM scan_runs WHERE finished_at IS NULL AND status IN (?, ?) ORDER BY started_at, id",
            (RunStatus.RUNNING.value, RunStatus.PARTIAL.value),
        ).fetchall()
        alive: dict[str | None, bool] = {}
        finished: list[str] = []
        for run_id, owner in rows:
            if owner not in alive:
                alive[owner] = owner_alive(owner)
            if alive[owner]:
                continue
            requested, completed = debate_counts(conn, run_id)
            conn.execute(
                "UPDATE scan_runs SET status = ?, status_reason = ?, finished_at = ?,"
                " debates_requested = ?, debates_completed = ? WHERE id = ?",
                (RunStatus.INTERRUPTED.value, recovery_reason(interrupted_phase(conn, run_id)), stamp,
                 requested, completed, run_id),
            )
            finished.append(run_id)
        conn.execute(
            "UPDATE articles SET status = 'pending', lease_expires_at = NULL, updated_at = ?,"
            " last_error = 'lease expired after attempt ' || attempts || ' (found by start-up recovery)'"
            " WHERE status = 'scoring' AND (lease_expires_at IS NULL OR lease_expires_at <= ?)",
            (stamp, stamp),
        )
        requeued = conn.changes()
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    if finished or requeued:
        logger.info(
            "recovery: %d run(s) of ended processes marked INTERRUPTED, %d article(s) back to pending",
            len(finished), requeued,
        )
    return tuple(finished), requeued
