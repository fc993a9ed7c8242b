"""The per-host circuit breaker: a dead host costs one short wait, not one per ticker.

``failures`` consecutive transport failures (connection refused, DNS, timeout, 5xx, and 429: a
host that keeps refusing us is as good as down) open it for ``cooldown`` seconds (trio clock);
while open every request to the host fails at once. After the cooldown one request is let
through (half-open): success closes it, failure opens it again. Any other answer below 500
counts as success (the host is up, whatever it said).
"""

from __future__ import annotations

import enum

import trio

__all__ = ["BreakerState", "HostBreaker"]


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class HostBreaker:
    """See the module docstring."""

    def __init__(self, *, failures: int = 3, cooldown: float = 60.0) -> None:
        if failures < 1:
            raise ValueError(f"failures must be >= 1, got {failures}")
        if cooldown <= 0:
            raise ValueError(f"cooldown must be > 0, got {cooldown}")
        self.failures = failures
        self.cooldown = cooldown
        self._consecutive = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False
        #: The failure that opened the breaker (shown in every fast failure).
        self.last_failure = ""
        #: How many times it opened (an operator message is logged on each opening).
        self.openings = 0

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if trio.current_time() - self._opened_at >= self.cooldown:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def retry_in(self) -> float:
        """Seconds until the next trial request may go (0 when closed)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self.cooldown - trio.current_time())

    def allow(self) -> bool:
        """True when a request may go now (closed, or the one half-open trial)."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._trial_in_flight:
            self._trial_in_flight = True
            return True
        return False

    def record_success(self) -> None:
        self._consecutive = 0
        self._opened_at = None
        self._trial_in_flight = False

    def record_failure(self, description: str) -> bool:
        """Count a transport failure; True when this one opened the breaker."""
        self._consecutive += 1
        self.last_failure = description
        was_open = self._opened_at is not None
        if was_open and self._trial_in_flight:  # the half-open trial failed: open again
            self._trial_in_flight = False
            self._opened_at = trio.current_time()
            return False
        if not was_open and self._consecutive >= self.failures:
            self._opened_at = trio.current_time()
            self.openings += 1
            return True
        return False
