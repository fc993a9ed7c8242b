"""The LLM side of the process: breaker, health monitor and debate pool as supervised actors.

:func:`open_debate_runner` is called once per process. It starts three long-lived actors under
the given :class:`~actors.runtime.Supervisor` (or one of its own) and yields
``(runner, disabled_reason)``; ``runner(run_id, candidates)`` (a :class:`PhaseRunner`) is the
coordinator's ``DebateRunner``, and any number of runs may be in flight at once.

Dependencies point one way, downwards; nothing is late-bound::

    coordinator ──runner()──▶ PhaseRunner ──CheckNow──▶ llm-health ──┐
                                   │                      ▲          │ LLMHealth
                                   └──RunDebates──▶ debate-pool      │ (send_nowait)
                                                    │  │             ▼
                           LLM client ◀─complete()──┘  └─Admit──▶ llm-breaker ──▶ bus
                           (observer: AttemptOutcome, send_nowait) ──▶ ┘   (BreakerState,
                                                                            LLMCallsInFlight)
    llm-health ◀── LLMCallsInFlight ── llm bus (the breaker's events; fast probe cadence)

- **llm-breaker** (:mod:`actors.breaker.supervised`): the single source of truth on whether LLM
  calls may run; every attempt of every call reaches it; an opening cancels the permits of the
  calls in flight (→ CUT_OFF) and refuses new ones (→ SKIPPED).
- **llm-health** (:mod:`actors.health.supervised`): probes every ``health_interval`` (every
  ``health_in_flight_interval`` while calls run) and on ``CheckNow``; reports go to the breaker
  and the bus. The pre-check skips a phase at once when the LLM is unhealthy.
- **debate-pool** (:mod:`actors.debate.pool_actor`): one LLM slot budget (the limiter, between
  ``ai_concurrency_min`` and ``ai_debate_concurrency``) for every run of the process.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

import attrs
import trio

from actors.breaker.policy import BreakerSettings
from actors.breaker.supervised import BREAKER_INBOX, AttemptReporter, BreakerClient, BreakerHome, breaker_actor
from actors.config import Settings
from actors.coordinator import DebateRunner, DebateSummary
from actors.debate.activity import DebateActivity
from actors.debate.pool import DebatePool
from actors.debate.pool_actor import pool_actor
from actors.errors import ConfigError, StoreError
from actors.health.monitor import HealthMonitor
from actors.health.supervised import HealthReports, health_actor
from actors.llm.budget import Timeouts
from actors.llm.factory import make_client
from actors.llm.protocol import ChatClient, Observer
from actors.llm.limiter import AdaptiveLimit, ConcurrencyLimiter
from actors.llm.retry import RetryPolicy
from actors.runtime import (
    ActorDied,
    Address,
    ChildSpec,
    EventBus,
    Failure,
    Request,
    Supervisor,
    open_supervisor,
    request,
    stop,
)
from actors.store.client import StoreClient
from messages.debate import AgentOutcome, CancelRun, DebateFinished, DebateStatus, RunDebates
from messages.health import CheckNow, HealthStatus
from messages.scan import TickerResult
from messages.storage import SaveDebate

logger = logging.getLogger(__name__)

UNHEALTHY_REASONS = {
    HealthStatus.UNREACHABLE: "llm_unreachable",
    HealthStatus.TIMEOUT: "llm_not_responding",
    HealthStatus.MODEL_MISSING: "model_missing",
    HealthStatus.UNAUTHORIZED: "unauthorized",
    HealthStatus.ERROR: "llm_error",
}


def client_settings(settings: Settings, observer: Observer | None) -> dict:
    """Keyword arguments of the chosen backend's client, taken from settings."""
    timeouts = Timeouts(
        connect=settings.ai_connect_timeout,
        first_chunk=settings.ai_first_chunk_timeout,
        stall=settings.ai_stall_timeout,
        total=settings.ai_request_timeout,
    )
    common = {
        "timeouts": timeouts,
        "retry": RetryPolicy(delays=settings.ai_retry_delays),
        "observer": observer,
    }
    if settings.ai_backend == "ollama":
        return {
            **common,
            "temperature": settings.ai_temperature,
            "model": settings.ollama_model,
            "host": settings.ollama_host,
            "num_ctx": settings.ollama_num_ctx,
            "num_predict": settings.ollama_num_predict,
            "load_timeout": settings.ai_load_timeout,
            "keep_alive": settings.ollama_keep_alive,
        }
    key = settings.api_key()
    if key is None:
        raise ConfigError(
            "ai_backend = claude needs an API key: set ANTHROPIC_API_KEY or anthropic_api_key_file"
        )
    # No temperature: anthropic 2.x's messages.create takes no sampling parameters (README).
    return {
        **common,
        "model": settings.anthropic_model,
        "api_key": key,
        "base_url": settings.anthropic_base_url,
        "max_tokens": settings.ollama_num_predict,
    }


def llm_limiter(settings: Settings) -> ConcurrencyLimiter:
    """LLM slots between ``ai_concurrency_min`` and ``ai_debate_concurrency``, adapting in between."""
    return ConcurrencyLimiter(AdaptiveLimit(
        minimum=settings.ai_concurrency_min,
        maximum=settings.ai_debate_concurrency,
        first_chunk_timeout=settings.ai_first_chunk_timeout,
    ))


class _Tee:
    """Publishes each event to the caller's bus and to the LLM side's own bus (one-way fan-out)."""

    def __init__(self, publish: Callable[[object], None], llm_events: EventBus) -> None:
        self._publish = publish
        self._llm_events = llm_events

    def __call__(self, event: object) -> None:
        self._publish(event)
        self._llm_events.publish(event)


def breaker_settings(settings: Settings) -> BreakerSettings:
    """The circuit breaker's policy settings, from settings."""
    return BreakerSettings(
        failures=settings.breaker_failures,
        failure_rate=settings.breaker_failure_rate,
        window=settings.breaker_window,
        min_calls=settings.breaker_min_calls,
        cooldown=settings.breaker_cooldown,
    )


@asynccontextmanager
async def open_debate_runner(
    settings: Settings,
    *,
    store: StoreClient,
    publish: Callable[[object], None],
    disabled: str | None,
    client_factory: Callable[[Observer], ChatClient] | None = None,
    supervisor: Supervisor | None = None,
) -> AsyncIterator[tuple[DebateRunner | None, str | None]]:
    """Yield ``(runner, None)``, or ``(None, reason)`` when debates are off by configuration.

    Starts the breaker, health monitor and pool actors (in that order) as children of
    ``supervisor``, or of a supervisor of its own when none is given; they serve every
    ``runner(run_id, candidates)`` call until the block ends, when they are stopped in reverse
    order and the LLM client is closed. ``client_factory(observer)`` builds the LLM client (tests
    pass one over a mock transport); by default the backend named in settings. The observer
    sends each attempt's outcome to the breaker's inbox. With debates disabled nothing starts.

    Raises:
        ConfigError: a setting the client or the breaker refuses.
        SupervisorEscalation: (own supervisor) an actor crashed past its restart limit.
    """
    if disabled:
        yield None, disabled
        return
    if supervisor is None:
        async with open_supervisor(name="llm") as own:
            async with _open_llm_side(settings, store, publish, client_factory, own) as opened:
                yield opened
        return
    async with _open_llm_side(settings, store, publish, client_factory, supervisor) as opened:
        yield opened


@asynccontextmanager
async def _open_llm_side(
    settings: Settings,
    store: StoreClient,
    publish: Callable[[object], None],
    client_factory: Callable[[Observer], ChatClient] | None,
    supervisor: Supervisor,
) -> AsyncIterator[tuple[DebateRunner, None]]:
    llm_events = EventBus(name="llm")
    tee = _Tee(publish, llm_events)
    breaker = await supervisor.start(ChildSpec(
        "llm-breaker", breaker_actor, args=(BreakerHome(breaker_settings(settings), tee),),
        capacity=BREAKER_INBOX, max_restarts=3, within=60.0,
    ))
    addresses = [breaker]
    client: ChatClient | None = None
    try:
        observer = AttemptReporter(breaker, publish=publish)
        if client_factory is None:
            client = make_client(settings.ai_backend, **client_settings(settings, observer))
        else:
            client = client_factory(observer)
        monitor = HealthMonitor(
            functools.partial(client.probe, timeout=settings.health_timeout),
            publish=HealthReports(breaker, publish),
            backend=client.backend,
            interval=settings.health_interval,
            in_flight_interval=settings.health_in_flight_interval,
            timeout=settings.health_timeout,
        )
        health = await supervisor.start(ChildSpec(
            "llm-health", health_actor, args=(monitor, llm_events), max_restarts=3, within=60.0,
        ))
        addresses.append(health)
        limiter = llm_limiter(settings)
        activity = DebateActivity()
        pool = DebatePool(
            client,
            store=store,
            breaker=BreakerClient(breaker, user="debate", timeout=settings.ai_request_timeout + 30.0),
            publish=publish,
            limiter=limiter,
            phase_timeout=settings.ai_debate_phase_timeout,
        )
        pool_address = await supervisor.start(ChildSpec(
            "debate-pool", pool_actor, args=(pool, activity), max_restarts=3, within=60.0,
            stop_deadline=settings.ai_debate_phase_timeout + 10.0,
        ))
        addresses.append(pool_address)
        shared = SharedLLM(client=client, breaker=breaker, limiter=limiter, activity=activity)
        yield PhaseRunner(
            settings=settings, store=store, publish=publish, health=health, pool=pool_address, llm=shared,
        ), None
    finally:
        with trio.CancelScope(shield=True):
            for address in reversed(addresses):
                await stop(address, deadline=5.0)
            llm_events.close()
            if client is not None:
                await client.aclose()


@attrs.frozen(kw_only=True)
class SharedLLM:
    """What another LLM user (the news scorer) shares with the debates: the one client, the
    breaker actor's address, the process's limiter and the debating signal."""

    client: ChatClient
    breaker: Address
    limiter: ConcurrencyLimiter
    activity: DebateActivity


@attrs.define(eq=False, kw_only=True)
class PhaseRunner:
    """The coordinator's ``DebateRunner``: ``await runner(run_id, candidates) -> DebateSummary``.

    Asks the health actor for a check (``CheckNow``): an unhealthy LLM skips the phase at once
    with the reason (``llm_unreachable``, ``llm_not_responding``, ``model_missing``,
    ``unauthorized``, ``llm_error``). Otherwise it asks the pool actor (``RunDebates``) and waits
    for the summary; if the caller is cancelled, it tells the pool (``CancelRun``) and waits
    (shielded) until that run's interrupted rows are written, then lets the cancellation go on.
    """

    settings: Settings
    store: StoreClient
    publish: Callable[[object], None]
    health: Address
    pool: Address
    #: The LLM side's shared parts, for the news scorer (None when built without them).
    llm: SharedLLM | None = None

    async def __call__(
        self, run_id: str, candidates: Sequence[TickerResult], *, saved: Sequence[AgentOutcome] = ()
    ) -> DebateSummary:
        """Debate ``candidates`` of run ``run_id``; ``saved``: theses a resumed run already has."""
        started = trio.current_time()
        health = await request(self.health, CheckNow(), timeout=self.settings.health_timeout + 5.0)
        if health.status is not HealthStatus.HEALTHY:
            reason = f"{UNHEALTHY_REASONS[health.status]}: {health.detail}"
            # INFO, not WARNING: the run's status line gives this reason to the user, once.
            logger.info("LLM %s (%s): skipping the debate phase", health.status.value, health.detail)
            return await skip_all(self.store, self.publish, run_id, candidates, reason, started)
        return await self._ask_pool(RunDebates(run_id=run_id, candidates=candidates, saved=saved))

    async def _ask_pool(self, payload: RunDebates) -> DebateSummary:
        reply_to, replies = trio.open_memory_channel[object](1)
        with replies:
            try:
                await self.pool.send(Request(payload, reply_to))
            except ActorDied:
                reply_to.close()
                raise
            try:
                reply = await replies.receive()
            except trio.EndOfChannel:
                raise ActorDied(self.pool.name, f"closed the reply to run {payload.run_id} without answering") from None
            except trio.Cancelled:
                with trio.CancelScope(shield=True) as drain:
                    drain.deadline = trio.current_time() + _CANCEL_DRAIN
                    try:
                        await self.pool.send(CancelRun(run_id=payload.run_id))
                        await replies.receive()  # closed once the run's rows are written
                    except (trio.EndOfChannel, ActorDied):
                        pass  # the pool is gone: its stop interrupted the run already
                raise
        if isinstance(reply, Failure):
            raise reply.error
        assert isinstance(reply, DebateSummary)
        return reply


#: How long a cancelled runner waits (shielded) for its run's interrupted rows to be written.
_CANCEL_DRAIN = 30.0


async def skip_all(
    store: StoreClient,
    publish: Callable[[object], None],
    run_id: str,
    candidates: Sequence[TickerResult],
    reason: str,
    started: float,
) -> DebateSummary:
    """Record every candidate's debate as SKIPPED with ``reason``; the phase is skipped."""
    finished = []
    for result in candidates:
        item = DebateFinished(run_id, result.ticker, DebateStatus.SKIPPED, None, None, reason)
        finished.append(item)
        publish(item)
        try:
            await store.send(SaveDebate(item))
        except StoreError as exc:
            logger.error("could not save the skipped debate of %s: %s", result.ticker, exc)
    return DebateSummary(
        requested=len(candidates),
        completed=0,
        skipped_reason=reason,
        finished=tuple(finished),
        status="skipped",
        seconds=trio.current_time() - started,
    )
