"""The one small interface every LLM backend implements (the factory that picks one: ``actors.llm.factory``).

"Send these messages, expect a reply that fits this schema, within this budget":

    outcome = await client.complete(messages, Thesis, timeouts=Timeouts(total=60))
    if outcome.ok:
        use(outcome.value)
    else:
        record(outcome.failure, outcome.detail)

``complete()`` never raises for LLM misbehaviour; it returns a :class:`CallOutcome`. It does let
trio cancellation propagate (closing its stream and connection on the way out). A caller that
cancels calls from outside, and wants a ``cancelled`` outcome rather than the ``Cancelled``
exception, runs the call with :func:`complete_or_cancelled` and its own cancel scope.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, Protocol, TypeVar, runtime_checkable

import attrs
import trio
from attrs import frozen

from actors.llm.budget import Timeouts
from actors.llm.outcome import CallOutcome, FailureKind
from messages.health import LLMHealth
from messages.llm import AttemptOutcome

__all__ = [
    "ChatClient",
    "ChatMessage",
    "Observer",
    "ProbeResult",
    "check_messages",
    "complete_or_cancelled",
]

T = TypeVar("T")

#: Called once per attempt, as it ends (a valid reply included), with what it said about the
#: server: its kind (None for a valid reply), HTTP status and meaning for the circuit breaker.
Observer = Callable[[AttemptOutcome], None]

#: What ``probe()`` returns (the health monitor publishes it as is).
ProbeResult = LLMHealth

_ROLES = ("system", "user", "assistant")


def _check_role(_inst: object, _attr: attrs.Attribute, value: str) -> None:
    if value not in _ROLES:
        raise ValueError(f"ChatMessage.role must be one of {', '.join(_ROLES)}, got {value!r}")


def _check_content(_inst: object, _attr: attrs.Attribute, value: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"ChatMessage.content must be a str, got {type(value).__name__}")


@frozen
class ChatMessage:
    """One message of a chat: ``role`` is ``system``, ``user`` or ``assistant``."""

    role: Literal["system", "user", "assistant"] = attrs.field(validator=_check_role)
    content: str = attrs.field(validator=_check_content)


@runtime_checkable
class ChatClient(Protocol):
    """What the debate pool, the news scorer and the health monitor call."""

    @property
    def backend(self) -> str: ...

    @property
    def model(self) -> str: ...

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        reply_type: type[T],
        *,
        timeouts: Timeouts | None = None,
    ) -> CallOutcome[T]:
        """Send ``messages``, expect a reply fitting ``reply_type``'s schema, within ``timeouts``."""
        ...

    async def probe(self, *, timeout: float) -> LLMHealth:
        """A cheap health check with a short timeout (never raises for backend trouble)."""
        ...

    async def aclose(self) -> None:
        """Close the HTTP client; the object is unusable afterwards."""
        ...


def check_messages(messages: Sequence[ChatMessage]) -> None:
    """Raise a clear error unless ``messages`` is a non-empty sequence of :class:`ChatMessage`.

    Raises:
        ValueError: empty (or a string instead of a sequence).
        TypeError: an item is not a ChatMessage (names its index).
    """
    if isinstance(messages, (str, bytes)) or not messages:
        raise ValueError("messages must be a non-empty sequence of ChatMessage")
    for i, message in enumerate(messages):
        if not isinstance(message, ChatMessage):
            raise TypeError(f"messages[{i}] must be a ChatMessage, got {type(message).__name__}")


async def complete_or_cancelled(
    client: ChatClient,
    messages: Sequence[ChatMessage],
    reply_type: type[T],
    *,
    cancel_scope: trio.CancelScope,
    timeouts: Timeouts | None = None,
) -> CallOutcome[T]:
    """``client.complete(...)`` inside ``cancel_scope``; a ``cancelled`` outcome if it gets cancelled.

    The breaker (or a phase deadline) cancels ``cancel_scope`` to cut the call off; the stream
    and connection are closed before this returns. ``attempts`` is 0 in a cancelled outcome (the
    count is lost with the cancelled call); the caller's own ``Cancelled`` (an enclosing scope)
    still propagates.
    """
    start = trio.current_time()
    with cancel_scope:
        return await client.complete(messages, reply_type, timeouts=timeouts)
    return CallOutcome(
        value=None,
        failure=FailureKind.CANCELLED,
        attempts=0,
        parse_failures=0,
        latency=trio.current_time() - start,
        model=client.model,
        backend=client.backend,
        detail="cancelled by the caller",
    )
