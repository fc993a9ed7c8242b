"""The watchdog task: ``WATCHDOG=1`` at half of ``WATCHDOG_USEC``, only while every actor's heartbeat is fresh.

Every ``interval`` seconds it sends each supervised actor a heartbeat (:meth:`Supervisor.beat`:
a message the runtime takes out of the inbox before the actor sees it) and pings systemd if no
actor has left one waiting longer than ``max_age``. An actor wedged in a handler stops taking
messages, its heartbeat ages, the pings stop, and systemd's ``WatchdogSec=`` restarts the
service. The first stale heartbeat is logged at ERROR naming the actor(s); recovery at INFO.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import trio

from actors.runtime import Supervisor

__all__ = ["run_watchdog"]

logger = logging.getLogger(__name__)


async def run_watchdog(
    supervisor: Supervisor,
    ping: Callable[[], object],
    *,
    interval: float,
    max_age: float | None = None,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Beat, check, ping every ``interval`` s until cancelled; ``max_age`` defaults to ``interval``."""
    max_age = interval if max_age is None else max_age
    stale_before: tuple[str, ...] = ()
    supervisor.beat()
    task_status.started()
    while True:
        await trio.sleep(interval)
        stale = supervisor.stale(max_age)
        if stale:
            if stale != stale_before:
                logger.error("watchdog: actor(s) %s took no message for over %g s; not pinging systemd",
                             ", ".join(stale), max_age)
        else:
            if stale_before:
                logger.info("watchdog: every actor answers its heartbeat again")
            ping()
        stale_before = stale
        supervisor.beat()
