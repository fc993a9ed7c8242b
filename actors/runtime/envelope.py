"""Request/reply envelopes: a message plus a one-shot channel for the answer.

The only mutable thing that crosses a channel is the reply capability itself; the payload is a
frozen message. The receiver answers exactly once with :func:`answer` (which also closes the
channel), or wraps its handling in :func:`answering` so that an exception becomes a
:class:`Failure` answer instead of leaving the caller to time out. If the receiver closes the
reply channel without answering, or exits with the request still queued in its inbox (the
runtime closes those), the caller of ``request()`` sees ``ActorDied``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

import attrs
import trio

P = TypeVar("P")


@attrs.frozen
class Request(Generic[P]):
    """``payload`` plus the channel to send the one answer to."""

    payload: P
    reply_to: trio.MemorySendChannel[Any] = attrs.field(repr=False, eq=False)


@attrs.frozen
class Failure:
    """Sent as the answer when the receiver could not do what was asked; ``request()`` re-raises ``error``."""

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


@contextmanager
def answering(envelope: Request[Any]) -> Iterator[None]:
    """Handle ``envelope`` in a block: an ``Exception`` escaping it is answered as ``Failure``.

    The exception still propagates (the actor crashes as it would, and its supervisor decides
    what next), but the caller gets the error at once instead of a ``RequestTimeout``. The reply
    channel is closed when the block exits, answered or not.
    """
    try:
        yield
    except Exception as exc:
        answer(envelope, Failure(exc))
        raise
    finally:
        envelope.reply_to.close()
