"""What the dashboard's buttons may ask of the process that serves it: "scan now", "resume this run".

The dashboard offers the buttons only when an :class:`Actions` object is attached (the daemon);
``bin/scan serve`` attaches none. The scan belongs to the process, never to the HTTP request:
the action starts it in the owner's nursery and answers at once, so closing or reloading the
page changes nothing.

:class:`SystemActions` implements them on an open :class:`~actors.system.System`: one scan at a
time (a second request while one runs is refused with a message), resume delegated to a
callable the owner supplies (the daemon's resume), refused plainly when there is none.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

import attrs
import trio

from actors.coordinator import new_run_id
from messages.scan import ScanRequested

__all__ = ["ActionResult", "Actions", "SystemActions"]

logger = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class ActionResult:
    """The answer to a button: accepted or refused, with the message shown to the user."""

    accepted: bool
    message: str
    run_id: str | None = None


class Actions(Protocol):
    """The buttons' back end; both methods answer at once (the work runs elsewhere)."""

    async def scan_now(self) -> ActionResult: ...

    async def resume(self, run_id: str) -> ActionResult: ...


class SystemActions:
    """Scan now / resume on a running system; scans run in ``nursery`` (the owner's, not the request's).

    ``universe`` gives the tickers of a new scan; ``resume_run`` (optional) resumes a stored run
    and returns when it ends.
    """

    def __init__(self, system: object, *, nursery: trio.Nursery, source: str,
                 universe: Callable[[], tuple[str, ...]],
                 resume_run: Callable[[str], Awaitable[object]] | None = None) -> None:
        self._system = system
        self._nursery = nursery
        self._source = source
        self._universe = universe
        self._resume_run = resume_run
        self._running: str | None = None

    @property
    def running(self) -> str | None:
        """The run id of the scan started here and still running, or None."""
        return self._running

    def _busy(self) -> ActionResult | None:
        if self._running is not None:
            return ActionResult(accepted=False, message=f"refused: scan {self._running} is still running")
        return None

    async def scan_now(self) -> ActionResult:
        busy = self._busy()
        if busy:
            return busy
        run_id = new_run_id()
        request = ScanRequested(universe=self._universe(), source=self._source,
                                requested_at=dt.datetime.now(dt.timezone.utc), reason="dashboard", run_id=run_id)
        self._running = run_id
        self._nursery.start_soon(self._run, run_id, self._system.scan, request)  # type: ignore[attr-defined]
        return ActionResult(accepted=True, message=f"scan {run_id} started", run_id=run_id)

    async def resume(self, run_id: str) -> ActionResult:
        if self._resume_run is None:
            return ActionResult(accepted=False, message="refused: this process cannot resume runs")
        busy = self._busy()
        if busy:
            return busy
        self._running = run_id
        self._nursery.start_soon(self._run, run_id, self._resume_run, run_id)
        return ActionResult(accepted=True, message=f"resuming run {run_id}", run_id=run_id)

    async def _run(self, run_id: str, work: Callable[..., Awaitable[object]], arg: object) -> None:
        try:
            await work(arg)
        except Exception:  # the scan's own status says what happened; the dashboard must keep serving
            logger.exception("dashboard action on run %s failed", run_id)
        finally:
            self._running = None
