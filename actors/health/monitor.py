"""The health monitor actor: pings the LLM backend's cheap endpoint and publishes LLMHealth.

*Receives:* nothing but its probe's answers, and :meth:`HealthMonitor.notify_in_flight` (LLM
calls have started: switch to the fast cadence now).

*Sends:* every :class:`~messages.health.LLMHealth` report to ``publish`` (the circuit breaker
opens on UNREACHABLE / TIMEOUT / MODEL_MISSING / UNAUTHORIZED). Status *changes* are logged at
INFO, repeated statuses at DEBUG.

*Owns:* the check schedule. Checks start every ``interval`` seconds, and every
``in_flight_interval`` seconds while ``in_flight()`` is True. The fast cadence tells "the server
stopped answering" (the cheap endpoint hangs too → TIMEOUT after ``timeout`` → the breaker
opens and cuts the calls off) from "the model is slow or loading" (the cheap endpoint answers →
HEALTHY → the call's generous first-chunk budget keeps running). With calls in flight and a
server that hangs from time T on, a TIMEOUT report is out by T + in_flight_interval + timeout.
The schedule counts from the *start* of the last check (including a :meth:`check_now` from
outside), so a slow check does not push the next one back.

The probe is ``probe() -> Awaitable[LLMHealth]``; the monitor wraps it in
``trio.move_on_after(timeout)``: no answer in time is TIMEOUT, an ``OSError`` is UNREACHABLE.

On failure: any other exception from the probe (or a probe returning something other than
LLMHealth) is a bug and propagates, ending :meth:`HealthMonitor.run` for the supervisor to
restart; a ``publish`` that raises is logged and counted. On cancellation: a check in progress
is abandoned without a report.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from contextlib import asynccontextmanager

import trio
from attrs import frozen

from actors.errors import ConfigError
from actors.runtime.background import open_background
from messages.health import HealthStatus, LLMHealth

__all__ = ["HealthMonitor", "HealthStatistics", "open_health_monitor", "run_health_monitor"]

logger = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[LLMHealth]]


@frozen
class HealthStatistics:
    checks: int
    by_status: tuple[tuple[str, int], ...]  # (status value, reports), in HealthStatus order
    last_status: HealthStatus | None
    last_checked_at: float | None
    status_changes: int
    fast_cadence: bool  # the loop is on the in-flight cadence
    publish_errors: int


def _seconds(name: str, value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ConfigError(f"health {name} must be a finite number of seconds > 0, got {value!r}")
    return float(value)


class HealthMonitor:
    """See the module docstring. Run :meth:`run` in a nursery or use :func:`open_health_monitor`."""

    def __init__(
        self,
        probe: Probe,
        *,
        publish: Callable[[object], None],
        in_flight: Callable[[], bool] | None = None,
        backend: str = "llm",
        interval: float = 60.0,
        in_flight_interval: float = 2.0,
        timeout: float = 3.0,
    ) -> None:
        if not callable(probe):
            raise ConfigError(f"health probe must be an async callable, got {probe!r}")
        if not isinstance(backend, str) or not backend:
            raise ConfigError(f"health backend must be a non-empty string, got {backend!r}")
        self._probe = probe
        self._publish = publish
        self._in_flight = in_flight if in_flight is not None else self._calls_in_flight
        self._busy = False  # set by note_calls_in_flight (the breaker's LLMCallsInFlight events)
        self.backend = backend
        self.interval = _seconds("interval", interval)
        self.in_flight_interval = _seconds("in_flight_interval", in_flight_interval)
        self.timeout = _seconds("timeout", timeout)
        self._wake = trio.Event()
        self._last_start: float | None = None
        self._last: LLMHealth | None = None
        self._fast = False
        self._checks = 0
        self._by_status = dict.fromkeys(HealthStatus, 0)
        self._changes = 0
        self._publish_errors = 0

    @property
    def last(self) -> LLMHealth | None:
        """The latest report, if any."""
        return self._last

    def statistics(self) -> HealthStatistics:
        return HealthStatistics(
            checks=self._checks,
            by_status=tuple((status.value, n) for status, n in self._by_status.items()),
            last_status=None if self._last is None else self._last.status,
            last_checked_at=None if self._last is None else self._last.checked_at,
            status_changes=self._changes,
            fast_cadence=self._fast,
            publish_errors=self._publish_errors,
        )

    def notify_in_flight(self) -> None:
        """LLM calls have started: wake the loop so the fast cadence begins now. Never blocks."""
        self._wake.set()
        self._wake = trio.Event()

    def note_calls_in_flight(self, count: int) -> None:
        """The breaker says ``count`` LLM calls are admitted now: fast cadence while > 0. Never blocks."""
        busy = count > 0
        if busy and not self._busy:
            self.notify_in_flight()
        self._busy = busy

    def _calls_in_flight(self) -> bool:
        return self._busy

    async def check_now(self) -> LLMHealth:
        """Probe once (within ``timeout``), publish the report and return it."""
        start = trio.current_time()
        self._last_start = start
        answer: object = None
        try:
            with trio.move_on_after(self.timeout) as scope:
                answer = await self._probe()
        except OSError as exc:
            now = trio.current_time()
            detail = str(exc) or type(exc).__name__
            health = LLMHealth(self.backend, HealthStatus.UNREACHABLE, now - start, detail, now)
        else:
            now = trio.current_time()
            if scope.cancelled_caught:
                detail = f"no answer within {self.timeout:g} s"
                health = LLMHealth(self.backend, HealthStatus.TIMEOUT, now - start, detail, now)
            elif isinstance(answer, LLMHealth):
                health = answer
            else:
                raise TypeError(f"health probe must return LLMHealth, got {type(answer).__name__}")
        self._report(health)
        return health

    async def run(
        self, *, check_first: bool = True, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Check at once (or, with ``check_first=False``, one period from now), then on schedule, until cancelled."""
        task_status.started()
        if not check_first:
            if self._last_start is None:
                self._last_start = trio.current_time()
            await self._wait_next()
        while True:
            await self.check_now()
            await self._wait_next()

    async def _wait_next(self) -> None:
        while True:
            self._fast = bool(self._in_flight())
            period = self.in_flight_interval if self._fast else self.interval
            assert self._last_start is not None
            due = self._last_start + period
            if trio.current_time() >= due:
                return
            wake = self._wake
            with trio.move_on_at(due):
                await wake.wait()

    def _report(self, health: LLMHealth) -> None:
        self._checks += 1
        self._by_status[health.status] += 1
        previous = self._last
        self._last = health
        if previous is None or previous.status is not health.status:
            self._changes += 1
            was = "unknown" if previous is None else previous.status.value
            logger.info(
                "LLM health (%s): %s → %s (%.2f s) %s",
                health.backend, was, health.status.value, health.latency, health.detail,
            )
        else:
            logger.debug(
                "LLM health (%s): %s (%.2f s)", health.backend, health.status.value, health.latency
            )
        try:
            self._publish(health)
        except Exception:
            self._publish_errors += 1
            logger.exception("publishing an LLM health report failed")


@asynccontextmanager
async def open_health_monitor(probe: Probe, **settings: Any) -> AsyncIterator[HealthMonitor]:
    """Run a :class:`HealthMonitor`'s loop for the ``async with`` block; yields the monitor.

    ``settings`` are :class:`HealthMonitor`'s keyword arguments. An exception from the
    ``async with`` body is re-raised as itself (not in an ExceptionGroup).

    Raises:
        ConfigError: an invalid setting.
    """
    monitor = HealthMonitor(probe, **settings)
    async with open_background(monitor.run, reason="health monitor closed"):
        yield monitor


async def run_health_monitor(
    probe: Probe,
    *,
    task_status: trio.TaskStatus[HealthMonitor] = trio.TASK_STATUS_IGNORED,
    **settings: Any,
) -> None:
    """Run a monitor until cancelled; ``nursery.start`` returns the :class:`HealthMonitor`.

    ``settings`` are :class:`HealthMonitor`'s keyword arguments.
    """
    monitor = HealthMonitor(probe, **settings)
    task_status.started(monitor)
    await monitor.run()
