"""Run one task beside an ``async with`` block: started before it, cancelled after it.

::

    async with open_background(breaker.run, reason="breaker closed"):
        ...   # breaker.run is running (it has called task_status.started())

An exception from the block is re-raised as itself, not wrapped in an ExceptionGroup, so
callers can ``except BreakerOpen`` around the block as usual.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import trio


@asynccontextmanager
async def open_background(task: Callable[..., Awaitable[Any]], *, reason: str) -> AsyncIterator[Any]:
    """Start ``task`` with ``nursery.start`` and yield what it passed to ``task_status.started``.

    On leaving the block the task is cancelled with ``reason``. An exception the task raises
    propagates as usual.
    """
    body_error: Exception | None = None
    async with trio.open_nursery() as nursery:
        started = await nursery.start(task)
        try:
            yield started
        except Exception as exc:
            body_error = exc  # re-raised after the nursery, as itself
        finally:
            nursery.cancel_scope.cancel(reason=reason)
    if body_error is not None:
        raise body_error
