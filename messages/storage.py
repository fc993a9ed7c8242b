"""The storage conversation: write commands to the persister and its acknowledgements.

Callers send ``Request(command, reply_to)`` (``actors.runtime.envelope``) to the persister, the
only writer. Every command is applied in one transaction and answered only after COMMIT:

=====================  =========================================================
command                answer
=====================  =========================================================
``BeginRun``           ``Committed`` (rows=1)
``RecordPhase``        ``Committed`` (rows=1)
``SaveCheckpoint``     ``messages.scan.CheckpointCommitted`` (rows=ticker results)
``SaveAgentOutcome``   ``Committed`` (rows=1)
``SaveDebate``         ``Committed`` (rows=1)
``FinishRun``          ``Committed`` (rows=1)
=====================  =========================================================

The news queue's commands (``AddArticles``, ``ClaimArticle``, ``FinishArticle``, ...) are in
:mod:`messages.articles`, with their answers.

A command that cannot be applied is answered ``Failure(StoreError)`` (``DiskFull`` when the
disk or the configured size cap is full); nothing of it was written.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import attrs
from attrs import frozen

from messages.articles import (
    AddArticles,
    ClaimArticle,
    FinishArticle,
    LoadNewsScores,
    NewsCooldown,
    NewsQueueCounts,
    ReleaseArticle,
    RetryArticles,
    SaveRunNews,
    SetNewsCooldown,
)
from messages.debate import AgentOutcome, DebateFinished
from messages.scan import Checkpoint, Phase, RunStatus

__all__ = [
    "AddArticles",
    "BeginRun",
    "Committed",
    "FinishRun",
    "RecordPhase",
    "SaveAgentOutcome",
    "SaveCheckpoint",
    "SaveDebate",
    "StoreCommand",
    "StoreOpened",
]

_str = attrs.validators.instance_of(str)
_count = attrs.validators.and_(attrs.validators.instance_of(int), attrs.validators.ge(0))
_seconds = attrs.validators.and_(attrs.validators.instance_of((int, float)), attrs.validators.ge(0))
_when = attrs.validators.instance_of(dt.datetime)
_optional_when = attrs.validators.optional(_when)


def _run_id(_inst: object, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{attribute.name} must be a non-empty string, got {value!r:.40}")


def _json_text(_inst: object, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, str):
        raise ValueError(f"{attribute.name} must be a JSON string, got {type(value).__name__}")
    try:
        json.loads(value)
    except ValueError as exc:
        raise ValueError(f"{attribute.name} is not valid JSON: {exc}") from None


_FINAL = (RunStatus.PARTIAL, RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.INTERRUPTED)


def _final_status(_inst: object, attribute: attrs.Attribute, value: Any) -> None:
    if value not in _FINAL:
        allowed = ", ".join(s.value for s in _FINAL)
        raise ValueError(f"{attribute.name} must be one of {allowed}, got {value!r:.40}")


@frozen
class BeginRun:
    """Create the ``scan_runs`` row as RUNNING. ``settings_json`` is a snapshot without secrets."""

    run_id: str = attrs.field(validator=_run_id)
    started_at: dt.datetime = attrs.field(validator=_when)
    source: str = attrs.field(validator=_str)
    tickers_requested: int = attrs.field(validator=_count)
    settings_json: str = attrs.field(default="{}", validator=_json_text)


@frozen
class RecordPhase:
    """Record how one phase of a run went (a phase recorded again replaces the earlier row)."""

    run_id: str = attrs.field(validator=_run_id)
    phase: Phase = attrs.field(validator=attrs.validators.instance_of(Phase))
    status: str = attrs.field(validator=_str)  # "ok" | "skipped" | "partial" | "failed"
    seconds: float = attrs.field(validator=_seconds)
    errors: int = attrs.field(default=0, validator=_count)
    detail: str = attrs.field(default="", validator=_str)


@frozen
class SaveCheckpoint:
    """All scores, picks and data errors of a run in ONE transaction; the run becomes PARTIAL.

    Saving a checkpoint again for the same run replaces the earlier one (safe to retry).
    """

    checkpoint: Checkpoint = attrs.field(validator=attrs.validators.instance_of(Checkpoint))


@frozen
class SaveAgentOutcome:
    """One agent call's thesis or failure, saved as soon as it exists."""

    outcome: AgentOutcome = attrs.field(validator=attrs.validators.instance_of(AgentOutcome))
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=_optional_when)


@frozen
class SaveDebate:
    """How one ticker's debate ended (saved again, it replaces the earlier row)."""

    finished: DebateFinished = attrs.field(validator=attrs.validators.instance_of(DebateFinished))


@frozen
class FinishRun:
    """Close a run: its final status, why, debate counts and duration."""

    run_id: str = attrs.field(validator=_run_id)
    status: RunStatus = attrs.field(validator=_final_status)
    reason: str | None = attrs.field(validator=attrs.validators.optional(_str))
    debates_requested: int = attrs.field(validator=_count)
    debates_completed: int = attrs.field(validator=_count)
    duration_seconds: float = attrs.field(validator=_seconds)
    finished_at: dt.datetime = attrs.field(validator=_when)
    errors: tuple[str, ...] = attrs.field(default=(), converter=tuple)


StoreCommand = (
    BeginRun
    | RecordPhase
    | SaveCheckpoint
    | SaveAgentOutcome
    | SaveDebate
    | FinishRun
    | AddArticles
    | ClaimArticle
    | FinishArticle
    | ReleaseArticle
    | RetryArticles
    | SetNewsCooldown
    | NewsCooldown
    | NewsQueueCounts
    | LoadNewsScores
    | SaveRunNews
)


@frozen
class Committed:
    """The persister's acknowledgement: sent only after COMMIT. ``command`` is the class name."""

    command: str
    run_id: str | None
    rows: int


@frozen
class StoreOpened:
    """What the persister found on start-up (its ``task_status.started`` value)."""

    db_path: str
    schema_version: int
    migrated_from: int
    interrupted_runs: tuple[str, ...]
    requeued_articles: int
