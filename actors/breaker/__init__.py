"""The circuit breaker: a pure state machine (``policy``) and the actor that guards LLM calls."""

from actors.breaker.actor import (
    BreakerOpen,
    BreakerStatistics,
    CircuitBreaker,
    Permit,
    open_breaker,
)
from actors.breaker.policy import BreakerPolicy, BreakerSettings

__all__ = [
    "BreakerOpen",
    "BreakerPolicy",
    "BreakerSettings",
    "BreakerStatistics",
    "CircuitBreaker",
    "Permit",
    "open_breaker",
]
