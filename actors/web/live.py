"""What feeds the dashboard's hub: the system's bus (daemon) or a poll of the database (``bin/scan serve``).

::

    hub = EventHub()
    nursery.start_soon(feed_from_bus, system.bus, hub, observed)   # progress, runs, breaker, health
    nursery.start_soon(poll_runs, RunStore(db), hub)             # new and finished runs, every 3 s

:func:`hub_event` is the pure mapping from a bus message to a hub event (kind, key, data);
every key names one slot of state (a run's phase, a run, the breaker), so the hub's
"latest per key" is the live state a new browser is sent first. :class:`Observed` keeps what
the system page shows of the LLM side as seen on the bus (breaker transitions, last health).
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
from typing import Any

import attrs
import trio

from actors.errors import StoreError
from actors.runtime import EventBus
from actors.web.sse import EventHub
from actors.web.store_view import RunStore
from messages.debate import DebateFinished
from messages.health import BreakerState, LLMHealth
from messages.progress import PhaseFinished, PhaseProgress, PhaseStarted, RunFinished

__all__ = ["LIVE_TYPES", "DebateProgress", "Observed", "feed_from_bus", "hub_event", "poll_runs", "progress_key"]

logger = logging.getLogger(__name__)

#: The bus messages the dashboard shows.
LIVE_TYPES = (PhaseStarted, PhaseProgress, PhaseFinished, RunFinished, DebateFinished, BreakerState, LLMHealth)

#: Seconds between database polls in ``bin/scan serve``.
POLL_INTERVAL = 3.0


def progress_key(run_id: str, phase: str) -> str:
    return f"progress:{run_id}:{phase}"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def hub_event(event: object) -> tuple[str, str, dict[str, Any]] | None:
    """``(kind, key, data)`` for a bus message the dashboard shows, None for others."""
    if isinstance(event, PhaseStarted):
        return "progress", progress_key(event.run_id, event.phase.value), {
            "run_id": event.run_id, "phase": event.phase.value, "state": "running", "done": 0, "total": event.total,
        }
    if isinstance(event, PhaseProgress):
        return "progress", progress_key(event.run_id, event.phase.value), {
            "run_id": event.run_id, "phase": event.phase.value, "state": "running",
            "done": event.done, "total": event.total,
        }
    if isinstance(event, PhaseFinished):
        return "progress", progress_key(event.run_id, event.phase.value), {
            "run_id": event.run_id, "phase": event.phase.value, "state": event.status,
            "seconds": event.seconds, "errors": event.errors, "detail": event.detail,
        }
    if isinstance(event, RunFinished):
        return "run", f"run:{event.run_id}", {
            "run_id": event.run_id, "status": event.status, "seconds": event.seconds, "reason": event.reason,
        }
    if isinstance(event, DebateFinished):
        return "debate", f"debate:{event.run_id}:{event.ticker}", {
            "run_id": event.run_id, "ticker": event.ticker, "status": event.status.value,
            "verdict": event.verdict.value if event.verdict else None, "conviction": event.conviction,
            "reason": event.reason,
        }
    if isinstance(event, BreakerState):
        return "breaker", "breaker", {"state": event.state.value, "reason": event.reason, "at": _now()}
    if isinstance(event, LLMHealth):
        return "health", "health", {
            "backend": event.backend, "status": event.status.value, "latency": round(event.latency, 3),
            "detail": event.detail, "at": _now(),
        }
    return None


@attrs.define
class DebateProgress:
    """Turns a run's ``DebateFinished`` events into progress of its ``ai_debate`` phase (the pool sends no other).

    The phase's total comes from its ``PhaseStarted``; each finished debate (any status) counts one.
    """

    _totals: dict[str, int | None] = attrs.field(factory=dict)
    _done: dict[str, set[str]] = attrs.field(factory=dict)

    def events(self, event: object) -> list[tuple[str, str, dict[str, Any]]]:
        """What to publish for ``event``: its own hub event, plus the debate phase's progress."""
        mapped = hub_event(event)
        out = [] if mapped is None else [mapped]
        if isinstance(event, PhaseStarted) and event.phase.value == "ai_debate":
            self._totals[event.run_id] = event.total
            self._done[event.run_id] = set()
        elif isinstance(event, DebateFinished) and event.run_id in self._done:
            done = self._done[event.run_id]
            done.add(event.ticker)
            out.append(("progress", progress_key(event.run_id, "ai_debate"), {
                "run_id": event.run_id, "phase": "ai_debate", "state": "running", "done": len(done),
                "total": self._totals.get(event.run_id),
            }))
        elif isinstance(event, (RunFinished, PhaseFinished)) and (
                isinstance(event, RunFinished) or event.phase.value == "ai_debate"):
            self._totals.pop(event.run_id, None)
            self._done.pop(event.run_id, None)
        return out


@attrs.define
class Observed:
    """The LLM side as seen on the bus since the dashboard started: breaker history, last health."""

    breaker_history: collections.deque[dict[str, Any]] = attrs.field(
        factory=lambda: collections.deque(maxlen=20))
    health: dict[str, Any] | None = None

    def note(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "breaker":
            self.breaker_history.appendleft(data)
        elif kind == "health":
            self.health = data


async def feed_from_bus(bus: EventBus, hub: EventHub, observed: Observed | None = None, *,
                        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    """Publish the bus's progress, run, debate, breaker and health events into ``hub`` until the bus closes."""
    debates = DebateProgress()
    async with bus.subscribe(*LIVE_TYPES, capacity=1024) as events:
        task_status.started()
        async for event in events:
            for kind, key, data in debates.events(event):
                hub.publish(kind, data, key=key)
                if observed is not None:
                    observed.note(kind, data)


async def poll_runs(store: RunStore, hub: EventHub, *, interval: float = POLL_INTERVAL, limit: int = 50,
                    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    """Publish the run list (key ``runs``) whenever it changes: new runs, new statuses, new counts.

    A database that cannot be read yet (no scan has run) is retried at the next poll, logged at DEBUG.
    """
    last: list[dict[str, Any]] | None = None
    task_status.started()
    while True:
        try:
            runs = await store.runs(limit)
        except StoreError as exc:
            logger.debug("dashboard poll: %s", exc)
        else:
            if runs != last:
                hub.publish("runs", {"runs": runs}, key="runs")
                last = runs
        await trio.sleep(interval)
