"""The daemon's dashboard: the web app of :mod:`actors.web` on the daemon's bus, its buttons sent to the scheduler.

The daemon starts it with :func:`start_dashboard` in its task nursery once the scheduler is up.
A dashboard that cannot listen (the port is taken, the address is not ours) is logged at ERROR
and the daemon goes on scanning without it: the schedule matters more than the page.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

import attrs
import trio

from actors.config import Settings
from actors.app.scheduler import SchedulerHome
from actors.errors import StoreError
from actors.runtime import Address, request
from actors.serving import single_cause
from actors.system import System
from actors.web.actions import ActionResult
from actors.web.serve import run_dashboard
from actors.web.status import system_status
from messages.articles import NewsQueueCounts
from messages.daemon import ButtonAnswer, ResumeNow, ScanNow

__all__ = ["SchedulerButtons", "start_dashboard"]

logger = logging.getLogger(__name__)

#: How long a button waits for the scheduler's answer (it answers at once unless wedged).
BUTTON_TIMEOUT = 10.0


class SchedulerButtons:
    """The dashboard's "scan now" / "resume this run", asked of the scheduler actor.

    The scheduler keeps one scan at a time for scheduled and dashboard scans alike, so a button
    pressed while a scan or resume runs is refused with a message saying which.
    """

    def __init__(self, scheduler: Address) -> None:
        self._scheduler = scheduler

    async def scan_now(self) -> ActionResult:
        return _result(await request(self._scheduler, ScanNow(), timeout=BUTTON_TIMEOUT))

    async def resume(self, run_id: str) -> ActionResult:
        return _result(await request(self._scheduler, ResumeNow(run_id=run_id), timeout=BUTTON_TIMEOUT))


def _result(answer: ButtonAnswer) -> ActionResult:
    return ActionResult(accepted=answer.accepted, message=answer.message, run_id=answer.run_id)


def daemon_status(system: System, home: SchedulerHome, settings: Settings):
    """The system page: the actors and bus (``system_status``), plus the scheduler and the news queue."""
    base = system_status(system, source=settings.source, next_scan=functools.partial(_next_scan, home))

    async def status() -> Mapping[str, Any]:
        sections = dict(await base())
        sections["scheduler"] = home.status_line()
        source_status = getattr(system.provider, "source_status", None)
        sections["data_sources"] = (source_status() or "no request sent yet") if source_status else (
            f"{settings.source}: no network fetch (recorded or synthetic data)")
        if system.news is not None:
            try:
                counts = await system.store.send(NewsQueueCounts())
            except StoreError as exc:
                sections["news_queue"] = f"unavailable: {exc}"
            else:
                sections["news_queue"] = attrs.asdict(counts)
        return sections

    return status


def _next_scan(home: SchedulerHome) -> str | None:
    if home.next_due is None:
        return None
    return f"{home.next_due.astimezone(home.spec.zone):%a %Y-%m-%d %H:%M %Z}"


async def start_dashboard(nursery: trio.Nursery, settings: Settings, *, db: Any, system: System,
                          home: SchedulerHome, scheduler: Address) -> str | None:
    """Start the dashboard on ``settings.dashboard_listen`` in ``nursery``; its URL, or None when it cannot listen."""
    try:
        url = await nursery.start(functools.partial(
            run_dashboard, db=db, listen=settings.dashboard_listen, token=settings.dashboard_token,
            bus=system.bus, actions=SchedulerButtons(scheduler), status=daemon_status(system, home, settings),
        ))
    except BaseException as exc:  # noqa: BLE001 - one cause, or re-raised
        cause = single_cause(exc)
        if isinstance(cause, OSError):
            logger.error("dashboard: cannot listen on %s: %s; the daemon goes on without it",
                         settings.dashboard_listen, cause)
            return None
        if cause is not exc:
            raise cause from None
        raise
    logger.info("dashboard at %s", url)
    return url
