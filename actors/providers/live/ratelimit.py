"""A token bucket on the trio clock: the per-host request rate limit.

``rate`` tokens per second refill a bucket of ``burst`` tokens; each request takes one. Waiters
are served first come, first served (one lock), so a burst of tickers cannot starve one.
Virtual-time tests drive it with ``trio.testing.MockClock``.
"""

from __future__ import annotations

import trio

__all__ = ["TokenBucket"]


class TokenBucket:
    """At most ``burst`` requests at once, then ``rate`` per second on average."""

    def __init__(self, rate: float, *, burst: int = 1) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be > 0 requests per second, got {rate}")
        if burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst}")
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._updated: float | None = None
        self._lock = trio.Lock()

    async def acquire(self) -> None:
        """Wait until a token is free and take it."""
        async with self._lock:
            now = trio.current_time()
            self._refill(now)
            if self._tokens < 1:
                await trio.sleep((1 - self._tokens) / self.rate)
                self._refill(trio.current_time())
            self._tokens -= 1

    def _refill(self, now: float) -> None:
        if self._updated is not None:
            self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
        self._updated = now
