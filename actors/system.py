"""The supervised actor system behind ``bin/scan`` (and the daemon): open it once, send it scans.

::

    open_system(settings, db=...)           one supervisor, one-for-one, a restart limit per child
    └── supervisor "option-alpha"
        ├── persister     the only writer (SQLite WAL); the process's run-ownership lease is passed in
        ├── fetcher       fetch and score (provider, concurrency, rate limit, worker processes)
        ├── LLM side      breaker, health monitor, debate pool: started by
        │                 open_debate_runner(..., supervisor=sup) (actors.debate.wiring)
        ├── news-scorer   (news=True) scores the article queue on the LLM side's client, breaker,
        │                 limiter; yields to debates (actors.news)
        └── coordinator   one task per scan; asks the fetcher, the persister and the debate runner
    bus (EventBus)        progress and LLM events, published by every actor, read by the display

Dependencies point down the list: each child talks only to children started before it, so
stopping in reverse start order (coordinator first, persister last) never leaves an actor
talking to one already gone. The system's scope is the ``async with`` block::

    async with open_system(settings, db=path) as system:
        outcome = await system.scan(ScanRequested(...))

A crashing child is restarted on the same inbox (queued messages wait for it; see
:mod:`actors.serving` for the requests it had in hand). A child that crashes more than
``max_restarts`` times within ``within`` seconds stops the system: the block is cancelled,
the other children stop in reverse order, and ``open_system`` raises one
:class:`~actors.runtime.SupervisorEscalation` naming the child and its last exception.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import trio

from actors.config import Settings, settings_snapshot
from actors.coordinator import DebateRunner, ScanOutcome, snapshot_json
from actors.coordinator_actor import CoordinatorDeps, cancel_scan, request_scan, run_coordinator
from actors.debate.wiring import open_debate_runner
from actors.errors import StoreError
from actors.fetch_actor import FetcherClient, run_fetcher
from actors.fetcher import Fetcher
from actors.news.client import NewsClient
from actors.news.scorer import wall_clock
from actors.news.wiring import start_news_scorer
from actors.providers.base import Provider, make_provider
from actors.runtime import ActorFunction, Address, ChildSpec, EventBus, Supervisor, open_supervisor, stop
from actors.store.client import StoreClient
from actors.store.owners import OwnerLease
from actors.store.persister import run_persister, store_options
from messages.scan import ScanRequested

logger = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class RestartLimit:
    """A child may be restarted ``max_restarts`` times within any ``within`` seconds; one more stops the system."""

    max_restarts: int = 3
    within: float = 60.0


@attrs.frozen(kw_only=True)
class System:
    """The running system: the actors' addresses, the bus, and the debate runner."""

    supervisor: Supervisor
    bus: EventBus
    persister: Address
    fetcher: Address
    coordinator: Address
    store: StoreClient
    provider: Provider
    debate: DebateRunner | None
    debate_disabled_reason: str | None
    #: The news scorer actor (``open_system(..., news=True)``), or None.
    news: Address | None = None

    async def scan(self, scan: ScanRequested) -> ScanOutcome:
        """Request ``scan`` from the coordinator and wait for its outcome (see ``request_scan``)."""
        return await request_scan(self.coordinator, scan)

    async def cancel_scan(self, run_id: str) -> bool:
        """Cancel scan ``run_id``; returns once it is marked INTERRUPTED (False if it was not running)."""
        return await cancel_scan(self.coordinator, run_id)


def make_scan_provider(settings: Settings) -> Provider:
    """The provider named by ``settings.source`` (sim sized and seeded by the settings, live
    configured by :func:`~actors.providers.live.settings.live_config`, snapshot from its folder)."""
    options: dict[str, Any] = {}
    if settings.source == "sim":
        options = {"size": settings.universe_size, "seed": settings.seed}
    elif settings.source == "live":
        from actors.providers.live.settings import live_config

        options = {"config": live_config(settings)}
    elif settings.source == "snapshot" and settings.snapshot_dir is not None:
        options = {"data_dir": settings.snapshot_dir}
    return make_provider(settings.source, **options)


@asynccontextmanager
async def open_system(
    settings: Settings,
    *,
    db: str | Path,
    disabled: str | None = None,
    provider: Provider | None = None,
    persister: ActorFunction | None = None,
    client_factory: Callable[..., Any] | None = None,
    restarts: RestartLimit = RestartLimit(),
    name: str = "option-alpha",
    news: bool = False,
    news_interval: float | None = None,
    news_clock: Callable[[], dt.datetime] = wall_clock,
) -> AsyncIterator[System]:
    """Start the system's actors under one supervisor; stop them in reverse order when the block ends.

    ``disabled`` is why debates are off (``--no-debate``), or None. ``provider`` replaces the
    one named in settings (the caller then closes it); ``persister`` replaces the SQLite
    persister with another actor speaking the store protocol (``MemoryPersister().run`` in
    virtual-time tests); ``client_factory`` builds the LLM client (see ``open_debate_runner``).
    ``news`` starts the news scorer (it needs the LLM side: not when debates are ``disabled``);
    with ``news_interval`` it drains the queue on its own every that many seconds (the daemon);
    ``news_clock`` is its wall clock (virtual-time tests derive one from trio's clock).

    Raises:
        StoreError: the run-ownership lease cannot be taken, or the database cannot be opened
            (the persister is not restarted before it has opened once).
        SupervisorEscalation: a child crashed past its restart limit (the block was cancelled).
    """
    own_provider = provider is None
    provider = make_scan_provider(settings) if provider is None else provider
    lease = _take_lease(db) if persister is None else None
    limits = {"max_restarts": restarts.max_restarts, "within": restarts.within}
    bus = EventBus(name=name)
    try:
        async with open_supervisor(name=name) as sup:
            if persister is None:
                persister = functools.partial(run_persister, **store_options(settings, db), lease=lease)
            store_address = await sup.start(ChildSpec(
                "persister", persister, capacity=64, stop_deadline=10, restart_before_ready=False, **limits
            ))
            store = StoreClient(store_address)
            fetcher = Fetcher(
                provider,
                concurrency=settings.fetch_concurrency,
                retry_delays=settings.fetch_retry_delays,
                timeout=settings.fetch_timeout,
                earnings_horizon_days=settings.dte_max,
            )
            fetcher_address = await sup.start(ChildSpec("fetcher", run_fetcher, args=(fetcher,), **limits))
            # The news scorer needs the LLM side even when only the debates are off (--no-debate).
            llm_wanted = news and settings.ai_backend != "none"
            async with open_debate_runner(
                settings, store=store, publish=bus.publish, disabled=None if llm_wanted else disabled,
                supervisor=sup, client_factory=client_factory,
            ) as (runner, runner_disabled):
                debate, debate_disabled = (None, disabled) if disabled else (runner, runner_disabled)
                news_address, news_unavailable = None, None
                shared = getattr(runner, "llm", None)
                if news and shared is not None:
                    news_address = await start_news_scorer(
                        sup, settings, shared, store, interval=news_interval, clock=news_clock
                    )
                elif news:
                    news_unavailable = f"the LLM is off ({runner_disabled or disabled})"
                deps = CoordinatorDeps(
                    settings=settings,
                    fetcher=FetcherClient(fetcher_address, provider=provider),
                    store=store,
                    publish=bus.publish,
                    debate=debate,
                    debate_disabled_reason=debate_disabled,
                    settings_json=snapshot_json(settings_snapshot(settings)),
                    news=None if news_address is None else NewsClient(news_address),
                    news_unavailable=news_unavailable,
                )
                coordinator = await sup.start(ChildSpec("coordinator", run_coordinator, args=(deps,), **limits))
                system = System(
                    supervisor=sup, bus=bus, persister=store_address, fetcher=fetcher_address,
                    coordinator=coordinator, store=store, provider=provider, debate=debate,
                    debate_disabled_reason=debate_disabled, news=news_address,
                )
                try:
                    yield system
                finally:  # before the LLM side closes: the coordinator and news scorer are its users
                    await stop(coordinator)
                    if news_address is not None:
                        await stop(news_address)
            logger.debug("%s: stopping fetcher and persister", name)
    finally:
        bus.close()
        with trio.CancelScope(shield=True):
            if own_provider:
                await provider.aclose()
        if lease is not None:
            lease.release()


def _take_lease(db: str | Path) -> OwnerLease:
    """This process's run-ownership lease, taken once and kept across persister restarts."""
    try:
        return OwnerLease(db)
    except OSError as exc:
        raise StoreError(f"cannot take the run ownership lease in {db}.owners: {exc.strerror or exc}") from exc
