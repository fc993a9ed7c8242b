"""What the progress display shows, from the bus's events: one line per phase, counts that move.

:class:`ProgressState` is pure: it takes events (:meth:`ProgressState.handle`) and keeps, per
phase, done / total and a note. The terminal display (:class:`actors.display.ProgressDisplay`)
draws it; tests read it.

- Fetching, scoring and options advance with ``PhaseProgress`` (options per ticker).
- The debate bar advances per finished debate (``DebateFinished``, one per ticker; a SKIPPED
  one never started and does not move it), and its
  note shows the LLM's state: the circuit breaker when it is not closed (``BreakerState``) and
  how many LLM attempts failed and were retried or given up (``AttemptOutcome``).
- A skipped phase is shown as skipped with its reason: its bar stays where it was, not full.
"""

from __future__ import annotations

import attrs

from messages.debate import DebateFinished, DebateStatus
from messages.health import BreakerState, BreakerStateName
from messages.llm import AttemptOutcome
from messages.progress import PhaseFinished, PhaseProgress, PhaseStarted
from messages.scan import Phase

__all__ = ["PhaseLine", "ProgressState"]


@attrs.define
class PhaseLine:
    """One phase as shown: ``done`` of ``total`` (None: unknown), a status and a note."""

    phase: str
    total: int | None
    done: int = 0
    status: str = "running"  # "running" | "ok" | "skipped" | "partial" | "failed"
    note: str = ""


@attrs.define
class ProgressState:
    """The phases of the scan being shown, updated from bus events (see the module docstring)."""

    phases: dict[str, PhaseLine] = attrs.Factory(dict)
    debates_finished: int = 0
    debate_outcomes: dict[str, int] = attrs.Factory(dict)
    breaker: BreakerState | None = None
    failed_attempts: int = 0
    attempts: int = 0

    def handle(self, event: object) -> str | None:
        """Apply ``event``; return the name of the phase whose line changed (None: nothing shown changed)."""
        if isinstance(event, PhaseStarted):
            self.phases[event.phase.value] = PhaseLine(event.phase.value, event.total)
            return event.phase.value
        if isinstance(event, PhaseProgress):
            line = self.phases.get(event.phase.value)
            if line is None:
                return None
            line.done, line.total = event.done, event.total
            return line.phase
        if isinstance(event, PhaseFinished):
            return self._finished(event)
        if isinstance(event, DebateFinished):
            status = event.status.value
            self.debate_outcomes[status] = self.debate_outcomes.get(status, 0) + 1
            if event.status is not DebateStatus.SKIPPED:  # a debate that never started is no progress
                self.debates_finished += 1
            line = self.phases.get(Phase.AI_DEBATE.value)
            if line is not None and line.status == "running":
                line.done = self.debates_finished
                line.note = self.llm_note()
            return Phase.AI_DEBATE.value
        if isinstance(event, BreakerState):
            self.breaker = event
            return self._llm_changed()
        if isinstance(event, AttemptOutcome):
            self.attempts += 1
            if event.kind is not None:
                self.failed_attempts += 1
                return self._llm_changed()
        return None

    def _llm_changed(self) -> str | None:
        line = self.phases.get(Phase.AI_DEBATE.value)
        if line is None or line.status != "running":
            return None
        line.note = self.llm_note()
        return line.phase

    def llm_note(self) -> str:
        """``"3 failed attempts retried · breaker open: 3 consecutive ..."``; empty when all is well."""
        parts = []
        not_ok = {k: v for k, v in sorted(self.debate_outcomes.items()) if k != "completed"}
        if not_ok:
            parts.append(", ".join(f"{v} {k.replace('_', ' ')}" for k, v in not_ok.items()))
        if self.failed_attempts:
            parts.append(f"{self.failed_attempts} failed LLM attempt{'s' if self.failed_attempts != 1 else ''}")
        if self.breaker is not None and self.breaker.state is not BreakerStateName.CLOSED:
            # The reason's head only ("health: unreachable"); its detail is on the run's status line.
            parts.append(f"breaker {self.breaker.state.value.replace('_', '-')}: {_head(self.breaker.reason)}")
        return " · ".join(parts)

    def _finished(self, event: PhaseFinished) -> str | None:
        line = self.phases.get(event.phase.value)
        if line is None:
            return None
        line.status = event.status
        if event.phase is Phase.AI_DEBATE and event.status != "ok":
            line.done = self.debates_finished  # what actually ran, never a full bar for a skipped phase
        elif event.status == "ok" and line.total is not None:
            line.done = line.total
        elif event.status == "ok":
            line.total = line.done = max(1, line.done)
        head = "" if event.status == "ok" else event.status
        detail = _head(event.detail) if head else event.detail  # why, in short; the status line has it all
        note = f"{head}: {detail}" if head and detail else (head or detail)
        llm = self.llm_note() if event.phase is Phase.AI_DEBATE and event.status != "skipped" else ""
        line.note = " · ".join(part for part in (note, llm) if part)
        return line.phase


def _head(reason: str) -> str:
    """The kind at the front of a reason: ``"llm_unreachable"`` of ``"llm_unreachable: cannot reach ..."``,
    ``"health: unreachable"`` of ``"health: unreachable — cannot reach ..."``."""
    reason = reason.split(" — ", 1)[0]
    if reason.startswith("skipped by configuration"):
        return reason
    return reason.split(": ", 1)[0] if not reason.startswith("health: ") else reason
