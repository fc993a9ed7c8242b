"""How messages become column values and back: UTC timestamps, JSON columns, article keys.

Pure: shared by the SQLite writer, the reader and the in-memory fake, so both persisters agree
on what a value looks like once stored.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from messages.convert import structure, unstructure
from messages.debate import RiskAssessment, Thesis
from messages.scan import Catalyst, ScoreComponent

__all__ = [
    "article_key",
    "describe",
    "dump_json",
    "load_catalysts",
    "load_components",
    "load_thesis",
    "parse_time",
    "thesis_kind",
    "time_text",
    "utc",
]


def utc(value: dt.datetime) -> dt.datetime:
    """``value`` in UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def time_text(value: dt.datetime) -> str:
    """The stored form of a timestamp: ISO 8601 in UTC with microseconds, so text order is time order."""
    return utc(value).isoformat(timespec="microseconds")


def parse_time(text: str | None) -> dt.datetime | None:
    """Inverse of :func:`time_text`."""
    return None if text is None else utc(dt.datetime.fromisoformat(text))


def now() -> dt.datetime:
    """Wall-clock time for ``created_at``/``updated_at`` columns (records only; no timing logic)."""
    return dt.datetime.now(dt.timezone.utc)


def dump_json(value: Any) -> str:
    """Compact JSON of a message (enums as values, dates ISO) for a ``*_json`` column."""
    return json.dumps(unstructure(value), separators=(",", ":"), sort_keys=True, allow_nan=False)


def load_components(text: str) -> tuple[ScoreComponent, ...]:
    return structure(json.loads(text), tuple[ScoreComponent, ...], what="components_json")


def load_catalysts(text: str) -> tuple[Catalyst, ...]:
    return structure(json.loads(text), tuple[Catalyst, ...], what="catalysts_json")


def thesis_kind(thesis: Thesis | RiskAssessment | None) -> str | None:
    if thesis is None:
        return None
    return "risk_assessment" if isinstance(thesis, RiskAssessment) else "thesis"


def load_thesis(kind: str | None, text: str | None) -> Thesis | RiskAssessment | None:
    if kind is None or text is None:
        return None
    cls = RiskAssessment if kind == "risk_assessment" else Thesis
    return structure(json.loads(text), cls, what="thesis_json")


def article_key(url: str | None, title: str) -> str:
    """What makes an article a duplicate within its ticker: its url, or its title without one."""
    return url if url else title


def describe(command: object) -> str:
    """``SaveCheckpoint run=r1``: names a command in error messages and logs."""
    name = type(command).__name__
    for path in ("run_id", "checkpoint.run_id", "outcome.run_id", "finished.run_id"):
        value: Any = command
        for part in path.split("."):
            value = getattr(value, part, None)
        if isinstance(value, str):
            return f"{name} run={value}"
    return name
