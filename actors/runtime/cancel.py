"""A cancel scope that remembers why it was cancelled, so actors and logs can say so.

::

    with ReasonedCancelScope() as scope:
        ...                              # elsewhere: scope.cancel("breaker opened")
    if scope.cancelled_caught:
        logger.info("debate cut off: %s", scope.reason)

The first reason given wins, like trio's own. On trio >= 0.31 the reason is also attached to
the ``trio.Cancelled`` exception the cancelled code sees (``exc.reason``).
"""

from __future__ import annotations

import math
from types import TracebackType

import trio


class ReasonedCancelScope:
    """A ``trio.CancelScope`` whose ``cancel(reason)`` records ``reason`` for later reading.

    Use it exactly like a cancel scope (``with`` block, once). If it is cancelled by its
    ``deadline`` instead of ``cancel()``, ``reason`` reads ``"deadline passed"`` afterwards.
    """

    def __init__(self, *, deadline: float = math.inf, shield: bool = False) -> None:
        self._scope = trio.CancelScope(deadline=deadline, shield=shield)
        self.reason: str | None = None

    def __enter__(self) -> ReasonedCancelScope:
        self._scope.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        suppressed = self._scope.__exit__(exc_type, exc, tb)
        if self._scope.cancel_called and self.reason is None:
            self.reason = "deadline passed"
        return suppressed

    def cancel(self, reason: str) -> None:
        """Cancel the scope, recording ``reason`` unless an earlier one was recorded. Never blocks."""
        if not isinstance(reason, str) or not reason:
            raise ValueError(f"cancel reason must be a non-empty string, got {reason!r}")
        if self.reason is None:
            self.reason = reason
        try:
            self._scope.cancel(reason)
        except TypeError:  # trio < 0.31: CancelScope.cancel() takes no reason
            self._scope.cancel()

    @property
    def deadline(self) -> float:
        """The scope's absolute deadline on trio's clock (``math.inf`` for none)."""
        return self._scope.deadline

    @deadline.setter
    def deadline(self, value: float) -> None:
        self._scope.deadline = value

    @property
    def cancel_called(self) -> bool:
        """True once ``cancel()`` was called or the deadline passed."""
        return self._scope.cancel_called

    @property
    def cancelled_caught(self) -> bool:
        """True if the scope exited because of its own cancellation."""
        return self._scope.cancelled_caught
