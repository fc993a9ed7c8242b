"""Request/reply: send a payload to an actor and wait for exactly one answer, never forever.

::

    price = await request(pricer, QuoteWanted("AAPL"), timeout=2.0)

The actor receives ``Request(payload, reply_to)`` in its inbox and answers with
``answer(envelope, value)``, or ``answer(envelope, Failure(error))`` to make ``request`` raise
``error`` in the caller.
"""

from __future__ import annotations

import math
from typing import Any

import trio

from .envelope import Failure, Request
from .errors import ActorDied, RequestTimeout
from .mailbox import Address


async def request(address: Address, payload: Any, *, timeout: float) -> Any:
    """Send ``Request(payload, reply_to)`` to ``address`` and return the one answer.

    ``timeout`` (seconds on trio's clock, required, finite) covers both waiting for room in a
    full inbox and waiting for the answer.

    Raises:
        RequestTimeout: no answer within ``timeout`` (not a ``trio.TooSlowError``; see its docstring).
        ActorDied: the inbox is closed, or the actor closed the reply channel without answering
            (the runtime does that for requests still queued when an actor exits).
        Exception: the ``error`` of a ``Failure`` answer, re-raised as is.
    """
    if not isinstance(timeout, int | float) or not (timeout > 0 and math.isfinite(timeout)):
        raise ValueError(f"request timeout must be a finite number of seconds > 0, got {timeout!r}")
    reply_to, replies = trio.open_memory_channel[Any](1)
    with replies:
        with trio.move_on_after(timeout):
            try:
                await address.send(Request(payload, reply_to))
            except ActorDied:
                reply_to.close()
                raise
            try:
                reply = await replies.receive()
            except trio.EndOfChannel:
                raise ActorDied(
                    address.name, f"closed the reply to {type(payload).__name__} without answering"
                ) from None
            if isinstance(reply, Failure):
                raise reply.error
            return reply
    raise RequestTimeout(address.name, timeout, type(payload).__name__)
