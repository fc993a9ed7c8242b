"""Time budgets of an LLM call: the four timeouts, and a chunk timer that enforces two of them.

A call has four separate budgets, all on trio's clock (so virtual-time tests work):

- ``connect``: TCP (and TLS) connect; enforced by the HTTP client (``httpx.Timeout.connect``).
- ``first_chunk``: from the request's start to its first streamed chunk. Covers model loading
  and queueing on a busy Ollama, so it is generous.
- ``stall``: the longest silence allowed between two chunks once the stream has started. A
  stream that stops sending is caught here, not by waiting for ``total``.
- ``total``: the whole ``complete()`` call, retries and backoff included (the outer cancel scope).

Every :class:`ChunkTimer` also tells the task's :data:`FIRST_CHUNK_LISTENER` (if any) when its
attempt starts and how long the first chunk took, or that it never came: the concurrency
limiter (``actors.llm.limiter``) reads server-side queueing from that.
"""

from __future__ import annotations

import contextvars
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, TypeVar

import trio
from attrs import frozen

from actors.llm.outcome import AttemptFailed, FailureKind

__all__ = ["END", "FIRST_CHUNK_LISTENER", "ChunkTimer", "FirstChunkListener", "Timeouts"]

X = TypeVar("X")

logger = logging.getLogger(__name__)


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"Timeouts.{name} must be a finite number of seconds > 0, got {value!r}")
    return float(value)


@frozen(kw_only=True)
class Timeouts:
    """Separate connect / first-chunk / stall / total budgets in seconds (see the module docstring).

    ``total`` is the setting ``ai_request_timeout``. Rules: every value > 0,
    ``connect <= first_chunk <= total`` and ``stall <= total``.

    Raises:
        ValueError: naming the field and the rule it breaks.
    """

    connect: float = 5.0
    first_chunk: float = 90.0
    stall: float = 20.0
    total: float = 120.0

    def __attrs_post_init__(self) -> None:
        for name in ("connect", "first_chunk", "stall", "total"):
            _positive(name, getattr(self, name))
        if self.connect > self.first_chunk:
            raise ValueError(
                f"Timeouts.connect must be <= first_chunk (the first chunk's wait includes the "
                f"connect), got connect={self.connect:g}, first_chunk={self.first_chunk:g}"
            )
        if self.first_chunk > self.total:
            raise ValueError(
                f"Timeouts.first_chunk must be <= total, got first_chunk={self.first_chunk:g}, "
                f"total={self.total:g}"
            )
        if self.stall > self.total:
            raise ValueError(f"Timeouts.stall must be <= total, got stall={self.stall:g}, total={self.total:g}")


class FirstChunkListener(Protocol):
    """Told by every :class:`ChunkTimer` of the task when its attempt starts and how it began."""

    def attempt_started(self) -> None: ...

    def first_chunk(self, waited: float) -> None:
        """The first chunk arrived ``waited`` seconds after the request was sent."""

    def first_chunk_timeout(self, waited: float) -> None:
        """No first chunk within the ``first_chunk`` budget (``waited`` seconds)."""


#: The listener of the current task (set by the concurrency limiter's slot; None: nobody listens).
FIRST_CHUNK_LISTENER: contextvars.ContextVar[FirstChunkListener | None] = contextvars.ContextVar(
    "first_chunk_listener", default=None
)


class _End:
    def __repr__(self) -> str:
        return "END"


#: Returned by :meth:`ChunkTimer.next` when the stream is exhausted.
END: Any = _End()


class ChunkTimer:
    """Enforces ``first_chunk`` (from construction to the first chunk) and ``stall`` (between chunks).

    Create it just before sending the request. Each await runs in a cancel scope that ends at
    the current window's deadline; the scope wraps the ``__anext__`` call, never a ``yield``.
    """

    def __init__(self, *, first_chunk: float, stall: float) -> None:
        self._first_chunk = first_chunk
        self._stall = stall
        self._started = trio.current_time()
        self._deadline = self._started + first_chunk
        self.chunks = 0
        self._listener = FIRST_CHUNK_LISTENER.get()
        self._tell("attempt_started")

    def _tell(self, event: str, *args: float) -> None:
        """Tell the listener (if any); its bug is logged, never turned into an LLM failure."""
        if self._listener is None:
            return
        try:
            getattr(self._listener, event)(*args)
        except Exception:
            logger.exception("first-chunk listener failed on %s", event)

    def _failure(self) -> AttemptFailed:
        if self.chunks == 0:
            self._tell("first_chunk_timeout", trio.current_time() - self._started)
            return AttemptFailed(
                FailureKind.TIMEOUT_FIRST_CHUNK,
                f"no first chunk within {self._first_chunk:g}s of the request",
                retryable=True,
            )
        return AttemptFailed(
            FailureKind.STALL,
            f"the stream stalled: no chunk for {self._stall:g}s after chunk {self.chunks}",
            retryable=True,
        )

    async def call(self, fn: Callable[..., Awaitable[X]], *args: Any) -> X:
        """Await ``fn(*args)`` within the current window (e.g. sending the request, reading headers).

        Raises:
            AttemptFailed: ``timeout_first_chunk`` or ``stall`` when the window closes first.
        """
        with trio.move_on_at(self._deadline) as scope:
            return await fn(*args)
        assert scope.cancelled_caught
        raise self._failure()

    async def next(self, chunks: AsyncIterator[X]) -> X:
        """The next chunk, or :data:`END`; each chunk opens a new ``stall`` window.

        Raises:
            AttemptFailed: ``timeout_first_chunk`` or ``stall`` when the window closes first.
        """
        with trio.move_on_at(self._deadline):
            try:
                item = await chunks.__anext__()
            except StopAsyncIteration:
                return END
            self.chunks += 1
            now = trio.current_time()
            if self.chunks == 1:
                self._tell("first_chunk", now - self._started)
            self._deadline = now + self._stall
            return item
        raise self._failure()
