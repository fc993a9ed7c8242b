"""Serve the dashboard with Hypercorn's trio worker inside the caller's nursery.

One call for the daemon (and ``bin/scan serve``)::

    url = await nursery.start(functools.partial(
        run_dashboard, db=db, listen=settings.dashboard_listen, token=settings.dashboard_token,
        bus=system.bus, actions=actions, status=status))

:func:`run_dashboard` builds the hub, feeds it from ``bus`` (progress, runs, debates, breaker,
health) and from a poll of the database (runs started or finished by any process), and serves
until cancelled, or until ``shutdown`` is set (then it ends every SSE stream, so browsers
reconnect to the next server with ``Last-Event-ID``, and lets requests in hand finish).
:func:`serve_dashboard` serves an app built from :class:`DashboardDeps` alone.

Listening beyond loopback without ``dashboard_token`` is refused (:class:`ConfigError`, exit 2).
"""

from __future__ import annotations

import functools
import ipaddress
import logging
from typing import Any

import attrs
import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from actors.errors import ConfigError
from actors.runtime import EventBus
from actors.secrets import Secret
from actors.web.actions import Actions
from actors.web.app import StatusProvider, create_app
from actors.web.history import HistoryProvider, LocalHistory
from actors.web.live import POLL_INTERVAL, Observed, feed_from_bus, poll_runs
from actors.web.sse import EventHub
from actors.web.store_view import RunStore

__all__ = ["DashboardDeps", "check_listen", "is_loopback", "parse_listen", "run_dashboard", "serve_dashboard"]

logger = logging.getLogger(__name__)

#: Seconds the server waits for requests in hand after a shutdown (SSE streams are ended first).
GRACEFUL_TIMEOUT = 2.0


@attrs.frozen(kw_only=True)
class DashboardDeps:
    """What the app shows and may do (see :func:`actors.web.app.create_app`)."""

    store: RunStore
    hub: EventHub
    observed: Observed | None = None
    actions: Actions | None = None
    status: StatusProvider | None = None
    history: HistoryProvider | None = None


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) as ``(host, port)``.

    Raises:
        ConfigError: naming ``dashboard_listen`` and what is wrong.
    """
    host, sep, port_text = str(text).strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port_text.isdigit() or int(port_text) > 65535:
        raise ConfigError(f"dashboard_listen: expected HOST:PORT (e.g. 127.0.0.1:8787), got {text!r}")
    return host, int(port_text)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine's loopback interface only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_listen(listen: str, token: Secret | None) -> tuple[str, int, bool]:
    """``(host, port, loopback)`` of ``listen``, checked.

    Raises:
        ConfigError: ``listen`` is malformed, or beyond loopback without a token.
    """
    host, port = parse_listen(listen)
    loopback = is_loopback(host)
    if not loopback and not token:
        raise ConfigError(f"dashboard_listen: {listen} is beyond loopback; set dashboard_token "
                          "(a secret the browser must present) or listen on 127.0.0.1")
    return host, port, loopback


async def serve_dashboard(deps: DashboardDeps, *, listen: str, token: Secret | None,
                          shutdown: trio.Event | None = None,
                          task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
    """Serve the app on ``listen`` until cancelled or ``shutdown`` is set; ``task_status`` gets the URL bound.

    Raises:
        ConfigError: ``listen`` is malformed, or beyond loopback without a token.
        OSError: the address cannot be bound (in use, not ours).
    """
    host, port, loopback = check_listen(listen, token)
    app = create_app(deps.store, hub=deps.hub, observed=deps.observed, actions=deps.actions,
                     status=deps.status, token=token, loopback_only=loopback, history=deps.history)
    config = Config()
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    config.accesslog = None  # a query string may carry the token: no access log
    config.errorlog = logging.getLogger("hypercorn.error")  # through our logging set-up, no handler of its own
    config.graceful_timeout = GRACEFUL_TIMEOUT
    config.keep_alive_timeout = 30
    stop = trio.Event() if shutdown is None else shutdown

    async def shutdown_trigger() -> None:
        await stop.wait()
        deps.hub.close_clients()

    async with trio.open_nursery() as nursery:
        binds: list[str] = await nursery.start(_serve, app, config, shutdown_trigger)
        logger.info("dashboard on %s", binds[0])
        task_status.started(binds[0])
    logger.info("dashboard stopped")


async def _serve(app: Any, config: Config, trigger: Any, *, task_status: trio.TaskStatus[list[str]]) -> None:
    await serve(app, config, shutdown_trigger=trigger, task_status=task_status, mode="asgi")


async def run_dashboard(*, db: Any, listen: str, token: Secret | None, bus: EventBus | None = None,
                        actions: Actions | None = None, status: StatusProvider | None = None,
                        shutdown: trio.Event | None = None, poll_interval: float = POLL_INTERVAL,
                        hub: EventHub | None = None,
                        task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
    """The whole dashboard in one task: hub, feeders (bus and database poll) and server; see the module doc.

    ``hub`` replaces the hub built here (tests publish into it and read its statistics).
    """
    check_listen(listen, token)  # before anything starts, so the error is not wrapped in a group
    store = RunStore(db)
    hub = EventHub() if hub is None else hub
    observed = Observed() if bus is not None else None
    deps = DashboardDeps(store=store, hub=hub, observed=observed, actions=actions, status=status,
                         history=LocalHistory())
    async with trio.open_nursery() as nursery:

        async def serve_then_stop(*, task_status: trio.TaskStatus[str]) -> None:
            await serve_dashboard(deps, listen=listen, token=token, shutdown=shutdown, task_status=task_status)
            nursery.cancel_scope.cancel()  # the server ended (shutdown): so do the feeders

        if bus is not None:
            await nursery.start(feed_from_bus, bus, hub, observed)
        await nursery.start(functools.partial(poll_runs, store, hub, interval=poll_interval))
        task_status.started(await nursery.start(serve_then_stop))
