"""The circuit breaker: a pure state machine (``policy``), the state it drives (``actor``) and the supervised actor (``supervised``)."""

from actors.breaker.actor import (
    BreakerOpen,
    BreakerStatistics,
    CircuitBreaker,
    Permit,
    open_breaker,
)
from actors.breaker.policy import BreakerPolicy, BreakerSettings
from actors.breaker.supervised import AttemptReporter, BreakerClient, BreakerHome, breaker_actor

__all__ = [
    "AttemptReporter",
    "BreakerClient",
    "BreakerHome",
    "BreakerOpen",
    "BreakerPolicy",
    "BreakerSettings",
    "BreakerStatistics",
    "CircuitBreaker",
    "Permit",
    "breaker_actor",
    "open_breaker",
]
