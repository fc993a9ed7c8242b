"""The resume conversation: finding and reopening runs whose debates did not all finish.

=====================  =========================================================
command (persister)    answer
=====================  =========================================================
``ListResumable``      ``tuple[str, ...]``: ids of finished PARTIAL / INTERRUPTED runs
                       started since ``since`` that have a checkpoint, oldest first
``ReopenRun``          ``ReopenedRun``: the run is PARTIAL again, open, owned by the
                       persister's process; what it needs to go on
=====================  =========================================================

A run that cannot be reopened (unknown, still open, COMPLETED or FAILED, no checkpoint) is
answered ``Failure(StoreError)`` naming why, and nothing changed.
"""

from __future__ import annotations

import datetime as dt

import attrs
from attrs import frozen

from messages.debate import AgentOutcome, DebateFinished
from messages.scan import TickerResult

__all__ = ["ListResumable", "ReopenRun", "ReopenedRun"]

_when = attrs.validators.instance_of(dt.datetime)


def _run_id(_inst: object, attribute: attrs.Attribute, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{attribute.name} must be a non-empty string, got {value!r:.40}")


@frozen(kw_only=True)
class ListResumable:
    """Which runs started at or after ``since`` are checkpointed, finished, and PARTIAL or INTERRUPTED."""

    since: dt.datetime = attrs.field(validator=_when)


@frozen(kw_only=True)
class ReopenRun:
    """Take run ``run_id`` over to finish its debates (one transaction: check, reopen, read)."""

    run_id: str = attrs.field(validator=_run_id)


@frozen(kw_only=True)
class ReopenedRun:
    """A reopened run: its debate candidates (the checkpointed top ``top_n_ai_debate``, by rank),
    the debate rows and successful theses saved so far, and the seconds it had run."""

    run_id: str
    candidates: tuple[TickerResult, ...]
    debates: tuple[DebateFinished, ...]
    saved: tuple[AgentOutcome, ...]
    duration_seconds: float
    previous_status: str
