"""The health monitor as a long-lived, supervised actor: one per process.

*Receives:* ``Request(CheckNow)`` (a debate phase's pre-check), answered with the
:class:`~messages.health.LLMHealth` of a probe made now; and, from the bus it is given, the
breaker's :class:`~messages.health.LLMCallsInFlight` events (fast cadence while calls run).

*Sends:* every report to the circuit breaker's inbox (``send_nowait``; a report the breaker has no
room for is counted in :attr:`HealthReports.dropped`) and to ``publish`` (the bus). Nothing else.

*Owns:* the :class:`~actors.health.monitor.HealthMonitor` (its probe schedule): a probe every
``interval`` seconds, every ``in_flight_interval`` seconds while calls are in flight, counted
from the start of the last check (a ``CheckNow`` included). The first scheduled probe comes one
``interval`` after the actor starts, so opening the system sends nothing to the LLM.

On failure: a probe that raises something other than ``OSError`` (a bug) ends the actor and
its supervisor restarts it; the monitor object, its schedule and counters, outlive the
incarnation. A ``CheckNow`` in hand then gets the error as its answer. On cancellation (stop):
a probe in progress is abandoned without a report.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import attrs
import trio

from actors.health.monitor import HealthMonitor
from actors.runtime import ActorDied, Address, EventBus, Request, answer, answering, open_background
from messages.health import CheckNow, LLMCallsInFlight, LLMHealth

__all__ = ["HealthReports", "health_actor"]

logger = logging.getLogger(__name__)


@attrs.define(eq=False)
class HealthReports:
    """Where the monitor's reports go: the breaker's inbox (never blocking) and the bus."""

    breaker: Address
    publish: Callable[[object], None]  # the bus's publish
    dropped: int = 0

    def __call__(self, health: LLMHealth) -> None:
        self.publish(health)
        try:
            self.breaker.send_nowait(health)
        except (trio.WouldBlock, ActorDied):
            self.dropped += 1
            logger.warning("circuit breaker inbox full or closed: health report %s not delivered", health.status.value)


async def health_actor(
    inbox: trio.MemoryReceiveChannel[Any],
    monitor: HealthMonitor,
    events: EventBus,
    *,
    task_status: trio.TaskStatus[None],
) -> None:
    """The health actor's loop (see the module docstring); run it under a supervisor."""
    async with (
        events.subscribe(LLMCallsInFlight, capacity=16) as calls,
        open_background(functools.partial(_follow_calls, calls, monitor), reason="health monitor stopped"),
        open_background(functools.partial(monitor.run, check_first=False), reason="health monitor stopped"),
    ):
        task_status.started()
        async for message in inbox:
            if isinstance(message, Request) and isinstance(message.payload, CheckNow):
                with answering(message):
                    answer(message, await monitor.check_now())
            else:
                logger.error("health monitor: unexpected message %r ignored", message)


async def _follow_calls(calls: Any, monitor: HealthMonitor, *, task_status: trio.TaskStatus[None]) -> None:
    task_status.started()
    async for event in calls:
        monitor.note_calls_in_flight(event.count)
