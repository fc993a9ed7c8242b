"""The coordinator actor: runs each requested scan in a task of its own and answers with its outcome.

*Receives:* ``Request(ScanRequested)`` (answered with the :class:`~actors.coordinator.ScanOutcome`
once the scan has finished, or a ``Failure`` naming why it stopped) and ``Request(CancelScan)``
(answered once that scan has ended, marked INTERRUPTED).
*Sends:* progress events on the bus (``publish``), store commands through the persister's
:class:`~actors.store.client.StoreClient`, ``FetchAndScore``/``FetchChains`` to the fetcher
through :class:`~actors.fetch_actor.FetcherClient`, debate requests through the debate runner.
*Owns:* only the table of scans in flight (run id → its cancel scope); each scan's state (its
universe, results, phase timings) lives in its task (:func:`actors.coordinator.run_scan`), so
two scans at once never share anything but the actors they talk to.

A scan that stops on an error is marked INTERRUPTED by ``run_scan`` and its requester gets the
error; the coordinator keeps serving the other scans. Closing the inbox (``stop``) lets the
scans in flight finish; past the stop deadline they are cancelled and marked INTERRUPTED.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import attrs
import trio

from actors.config import Settings
from actors.coordinator import DebateRunner, ScanOutcome, new_run_id, run_scan
from actors.fetch_actor import FetcherClient
from actors.news.client import NewsClient
from actors.runtime import Address, Failure, Request, answer, request
from actors.serving import HandlerCrashed, single_cause
from actors.store.client import StoreClient
from messages.scan import ScanRequested
from messages.system import CancelScan

logger = logging.getLogger(__name__)

#: How long a requester waits for a whole scan (its phases have their own deadlines; this only
#: keeps ``request()`` finite).
SCAN_REPLY_TIMEOUT = 7 * 24 * 3600.0


@attrs.frozen(kw_only=True)
class CoordinatorDeps:
    """What every scan needs: settings, the actors it talks to, and the debate runner."""

    settings: Settings
    fetcher: FetcherClient
    store: StoreClient
    publish: Callable[[object], None]
    debate: DebateRunner | None
    debate_disabled_reason: str | None
    settings_json: str = "{}"
    #: The news scorer (``open_system(..., news=True)``), or None and why.
    news: NewsClient | None = None
    news_unavailable: str | None = None


@attrs.define(eq=False)
class _InFlight:
    scope: trio.CancelScope = attrs.Factory(trio.CancelScope)
    done: trio.Event = attrs.Factory(trio.Event)


async def run_coordinator(
    inbox: trio.MemoryReceiveChannel[Any],
    deps: CoordinatorDeps,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """The coordinator actor (see the module docstring)."""
    scans: dict[str, _InFlight] = {}
    async with trio.open_nursery() as nursery:
        task_status.started()
        async for message in inbox:
            if not isinstance(message, Request):
                logger.error("coordinator: dropped %r: not a request", type(message).__name__)
                continue
            payload = message.payload
            if isinstance(payload, ScanRequested):
                run_id = payload.run_id or new_run_id()
                refused = _refusal(payload, run_id, deps, scans)
                if refused is not None:
                    answer(message, Failure(refused))
                    continue
                scans[run_id] = _InFlight()  # registered before the next message: a CancelScan behind it finds it
                nursery.start_soon(_scan, message, payload, run_id, deps, scans)
            elif isinstance(payload, CancelScan):
                nursery.start_soon(_cancel, message, payload.run_id, scans)
            else:
                answer(message, Failure(ValueError(f"coordinator: cannot handle {type(payload).__name__}")))


def _refusal(
    payload: ScanRequested, run_id: str, deps: CoordinatorDeps, scans: dict[str, _InFlight]
) -> ValueError | None:
    """Why a scan request cannot start (naming the field), or None."""
    if run_id in scans:
        return ValueError(f"run_id: scan {run_id} is already running")
    source = getattr(deps.fetcher.provider, "name", None)
    if payload.source != source:
        return ValueError(f"source: this system fetches from {source!r}, not {payload.source!r}")
    return None


async def _scan(
    envelope: Request[Any], payload: ScanRequested, run_id: str, deps: CoordinatorDeps, scans: dict[str, _InFlight]
) -> None:
    flight = scans[run_id]
    # Until run_scan answers, what the requester gets if the coordinator itself is cancelled.
    outcome: ScanOutcome | Failure = Failure(HandlerCrashed("coordinator", f"was stopped while scan {run_id} ran"))
    try:
        with flight.scope:
            outcome = await run_scan(
                payload,
                run_id=run_id,
                settings=deps.settings,
                fetcher=deps.fetcher,
                store=deps.store,
                publish=deps.publish,
                debate=deps.debate,
                debate_disabled_reason=deps.debate_disabled_reason,
                settings_json=deps.settings_json,
                news=deps.news,
                news_unavailable=deps.news_unavailable,
            )
        if flight.scope.cancelled_caught:
            outcome = Failure(ScanCancelled(run_id))
    except Exception as exc:  # run_scan marked the run INTERRUPTED; the other scans go on
        cause = single_cause(exc)
        logger.error("run %s stopped: %s: %s", run_id, type(cause).__name__, cause)
        outcome = Failure(cause)
    finally:
        del scans[run_id]
        flight.done.set()
        answer(envelope, outcome)


class ScanCancelled(Exception):
    """The scan was cancelled by a ``CancelScan`` (it is marked INTERRUPTED in the store)."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(f"scan {run_id} was cancelled; it is marked INTERRUPTED")


async def _cancel(envelope: Request[Any], run_id: str, scans: dict[str, _InFlight]) -> None:
    flight = scans.get(run_id)
    if flight is None:
        answer(envelope, False)
        return
    logger.info("run %s: cancelling on request", run_id)
    flight.scope.cancel()
    await flight.done.wait()
    answer(envelope, True)


async def request_scan(coordinator: Address, scan: ScanRequested) -> ScanOutcome:
    """Ask the coordinator for ``scan`` and wait for its outcome.

    Raises:
        ScanCancelled: a ``CancelScan`` stopped it.
        Exception: what stopped the scan (the run is marked INTERRUPTED).
    """
    return await request(coordinator, scan, timeout=SCAN_REPLY_TIMEOUT)


async def cancel_scan(coordinator: Address, run_id: str) -> bool:
    """Cancel scan ``run_id`` and wait until it is marked INTERRUPTED; False if it was not running."""
    return await request(coordinator, CancelScan(run_id=run_id), timeout=SCAN_REPLY_TIMEOUT)
