"""Request/reply envelopes: a message plus a one-shot channel for the answer.

The only mutable thing that crosses a channel is the reply capability itself; the payload is a
frozen message. The receiver answers exactly once with ``envelope.reply_to.send_nowait(...)``
(or via :func:`answer`) and closes the channel; a receiver that dies without answering closes
it implicitly when the envelope is garbage, and the caller sees :class:`ActorDied`.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import attrs
import trio

P = TypeVar("P")


@attrs.frozen
class Request(Generic[P]):
    payload: P
    reply_to: trio.MemorySendChannel[Any] = attrs.field(repr=False, eq=False)


@attrs.frozen
class Failure:
    """Sent as the answer when the receiver could not do what was asked."""

    error: BaseException


def answer(envelope: Request[Any], value: Any) -> None:
    """Send ``value`` as the one answer to ``envelope`` and close its reply channel.

    Never blocks and never raises if the caller has gone away.
    """
    try:
        envelope.reply_to.send_nowait(value)
    except (trio.BrokenResourceError, trio.ClosedResourceError, trio.WouldBlock):
        pass
    finally:
        envelope.reply_to.close()
