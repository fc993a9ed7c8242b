"""Progress events a scan publishes on the bus (coordinator → CLI display, dashboard)."""

from __future__ import annotations

from attrs import frozen

from messages.scan import Phase


@frozen
class PhaseStarted:
    run_id: str
    phase: Phase
    total: int | None  # items to process, when known


@frozen
class PhaseProgress:
    run_id: str
    phase: Phase
    done: int
    total: int | None


@frozen
class PhaseFinished:
    run_id: str
    phase: Phase
    status: str  # "ok" | "skipped" | "partial" | "failed"
    seconds: float
    errors: int
    detail: str = ""


@frozen
class RunFinished:
    run_id: str
    status: str
    seconds: float
    reason: str | None = None
