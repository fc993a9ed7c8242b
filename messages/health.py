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


@frozen
class CallSucceeded:
    """An LLM call finished with an answer (counts as a success for the circuit breaker)."""


@frozen
class CallFailed:
    """An LLM call failed; ``kind`` is a ``FailureKind`` value such as ``"stall"``.

    ``status`` is the HTTP status for ``kind="http_status"`` (None when unknown); ``detail`` is
    a short human text that ends up in the breaker's reason when this failure opens it.
    """

    kind: str
    status: int | None = None
    detail: str = ""
