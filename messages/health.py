"""Health of the LLM backend and the circuit breaker's state."""

from __future__ import annotations

import enum

from attrs import frozen


class HealthStatus(enum.Enum):
    HEALTHY = "healthy"
    UNREACHABLE = "unreachable"  # connection refused / DNS / reset
    TIMEOUT = "timeout"  # accepted but did not answer within health_timeout
    MODEL_MISSING = "model_missing"
    UNAUTHORIZED = "unauthorized"
    ERROR = "error"  # answered with an unexpected status


@frozen
class LLMHealth:
    backend: str
    status: HealthStatus
    latency: float
    detail: str
    checked_at: float  # trio clock


class BreakerStateName(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@frozen
class BreakerState:
    state: BreakerStateName
    reason: str
    changed_at: float  # trio clock


@frozen(kw_only=True)
class CheckNow:
    """Request to the health monitor: probe the LLM now; the answer is the :class:`LLMHealth`."""

    why: str = "pre-check"


@frozen(kw_only=True)
class LLMCallsInFlight:
    """The circuit breaker's admitted LLM calls went from none to some, or from some to none.

    Published on the bus by the breaker; the health monitor switches to its fast cadence while
    ``count > 0``.
    """

    count: int
    at: float  # trio clock
