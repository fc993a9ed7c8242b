"""Builds the debate phase from settings: LLM client, circuit breaker, health monitor, pool.

:func:`open_debate_runner` yields ``(runner, disabled_reason)``. ``runner(run_id, candidates)``
first checks the LLM's health (``health_timeout``): an unhealthy LLM skips the phase at once
with the reason (``llm_unreachable``, ``llm_not_responding``, ``model_missing``,
``unauthorized``). Otherwise the health monitor runs beside the pool for the whole phase,
probing every ``health_in_flight_interval`` while calls are in flight, and its reports feed the
breaker: a server whose cheap endpoint stops answering opens the breaker, which cuts the
in-flight calls off, instead of waiting out the generous first-chunk budget.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

import trio

from actors.breaker.actor import CircuitBreaker, open_breaker
from actors.config import Settings
from actors.coordinator import DebateRunner, DebateSummary
from actors.debate.pool import DebatePool
from actors.errors import ConfigError, StoreError
from actors.health.monitor import HealthMonitor
from actors.llm.budget import Timeouts
from actors.llm.retry import RetryPolicy
from actors.llm.client import ChatClient, Observer, make_client
from actors.llm.limiter import AdaptiveLimit, ConcurrencyLimiter
from actors.store.client import StoreClient
from messages.debate import DebateFinished, DebateStatus
from messages.health import HealthStatus, LLMHealth
from messages.llm import AttemptOutcome
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


def breaker_observer(get_breaker: Callable[[], CircuitBreaker | None]) -> Observer:
    """Hands every attempt's outcome (success included) to the breaker as the attempt ends."""

    def observe(attempt: AttemptOutcome) -> None:
        breaker = get_breaker()
        if breaker is not None:
            breaker.receive(attempt)

    return observe


@asynccontextmanager
async def open_debate_runner(
    settings: Settings,
    *,
    store: StoreClient,
    publish: Callable[[object], None],
    disabled: str | None,
    client_factory: Callable[[Observer], ChatClient] | None = None,
    supervisor: object | None = None,  # accepted and ignored until sys-llm starts the LLM actors under it
) -> AsyncIterator[tuple[DebateRunner | None, str | None]]:
    """Yield ``(runner, None)``, or ``(None, reason)`` when debates are off by configuration.

    ``client_factory(observer)`` builds the LLM client (tests pass a fake); by default the
    backend named in settings. The observer reports each attempt's outcome to the breaker.
    """
    if disabled:
        yield None, disabled
        return
    holder: list[CircuitBreaker] = []
    observer = breaker_observer(lambda: holder[0] if holder else None)
    if client_factory is None:
        client = make_client(settings.ai_backend, **client_settings(settings, observer))
    else:
        client = client_factory(observer)
    monitor_ref: list[HealthMonitor] = []
    try:
        async with open_breaker(
            publish=publish,
            on_in_flight=lambda: monitor_ref[0].notify_in_flight() if monitor_ref else None,
            failures=settings.breaker_failures,
            failure_rate=settings.breaker_failure_rate,
            window=settings.breaker_window,
            min_calls=settings.breaker_min_calls,
            cooldown=settings.breaker_cooldown,
        ) as breaker:
            holder.append(breaker)

            def feed(event: object) -> None:
                publish(event)
                if isinstance(event, LLMHealth):
                    breaker.receive(event)

            monitor = HealthMonitor(
                lambda: client.probe(timeout=settings.health_timeout),
                publish=feed,
                in_flight=lambda: breaker.in_flight_count > 0,
                backend=client.backend,
                interval=settings.health_interval,
                in_flight_interval=settings.health_in_flight_interval,
                timeout=settings.health_timeout,
            )
            monitor_ref.append(monitor)
            pool = DebatePool(
                client,
                store=store,
                breaker=breaker,
                publish=publish,
                limiter=llm_limiter(settings),
                phase_timeout=settings.ai_debate_phase_timeout,
            )

            async def runner(run_id: str, candidates: Sequence[TickerResult]) -> DebateSummary:
                started = trio.current_time()
                health = await monitor.check_now()
                if health.status is not HealthStatus.HEALTHY:
                    reason = f"{UNHEALTHY_REASONS[health.status]}: {health.detail}"
                    logger.warning("LLM %s (%s): skipping the debate phase", health.status.value, health.detail)
                    return await skip_all(store, publish, run_id, candidates, reason, started)
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(_monitor_after_first_interval, monitor, settings.health_in_flight_interval)
                    summary = await pool.run(run_id, candidates)
                    nursery.cancel_scope.cancel()
                return summary

            yield runner, None
    finally:
        with trio.CancelScope(shield=True):
            await client.aclose()


async def _monitor_after_first_interval(monitor: HealthMonitor, delay: float) -> None:
    # check_now() just ran; the loop's first check comes after the in-flight interval.
    await trio.sleep(delay)
    await monitor.run()


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
