"""The LLM conversation: what one attempt of an LLM call said about the server.

The LLM clients send one :class:`AttemptOutcome` per attempt (success included) to their
observer, which hands it to the circuit breaker. ``meaning`` is decided by the LLM layer
(:meth:`actors.llm.outcome.FailureKind.breaker_meaning`, the one source of truth); the breaker
reads only ``meaning`` and keeps ``kind``/``http_status``/``detail`` for the reason it gives.
"""

from __future__ import annotations

import enum

import attrs
from attrs import frozen

__all__ = ["Admit", "AttemptOutcome", "BreakerMeaning", "PermitEnded"]


class BreakerMeaning(enum.Enum):
    """What an attempt's outcome means for the circuit breaker.

    ::

        the server answered (resets the not-responding streak)
         ├── answered          a valid reply: a success in the failure-rate window
         ├── answered_error    5xx, 529, 429, 408, an error line mid-stream: a failure in the window
         ├── answered_invalid  the reply did not fit the schema, or was truncated: neutral
         └── request_wrong     another 4xx: our request was wrong, the server is fine: neutral
        the server did not answer
         └── not_responding    refused, connect/first-chunk timeout, stall, deadline, dropped
                               stream, broken stream framing: counts towards the streak
        fatal                  model missing, unauthorized: opens the breaker at once
        neutral                cancelled by the caller: says nothing about the server
    """

    ANSWERED = "answered"
    ANSWERED_ERROR = "answered_error"
    ANSWERED_INVALID = "answered_invalid"
    REQUEST_WRONG = "request_wrong"
    NOT_RESPONDING = "not_responding"
    FATAL = "fatal"
    NEUTRAL = "neutral"

    @property
    def server_answered(self) -> bool:
        """True for the four meanings under "the server answered" (they reset the streak)."""
        return self in _ANSWERED


_ANSWERED = frozenset(
    {
        BreakerMeaning.ANSWERED,
        BreakerMeaning.ANSWERED_ERROR,
        BreakerMeaning.ANSWERED_INVALID,
        BreakerMeaning.REQUEST_WRONG,
    }
)


def _optional_status(_inst: object, attribute: attrs.Attribute, value: object) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599):
        raise ValueError(f"AttemptOutcome.{attribute.name} must be an HTTP status (100-599) or None, got {value!r}")


@frozen(kw_only=True)
class AttemptOutcome:
    """One attempt of an LLM call ended.

    ``kind`` is the ``FailureKind`` value (``"stall"``, ``"http_status"``...) or None for a
    valid reply; ``http_status`` the status the server sent, when one is known; ``detail`` a
    short human text (never a secret) that ends up in the breaker's reason.
    """

    kind: str | None = attrs.field(validator=attrs.validators.optional(attrs.validators.instance_of(str)))
    meaning: BreakerMeaning = attrs.field(validator=attrs.validators.instance_of(BreakerMeaning))
    http_status: int | None = attrs.field(default=None, validator=_optional_status)
    detail: str = attrs.field(default="", validator=attrs.validators.instance_of(str))

    @property
    def label(self) -> str:
        """``"stall"``, ``"http_status 503"``, ``"answered"``: how a breaker reason names it."""
        if self.kind is None:
            return self.meaning.value
        return f"{self.kind} {self.http_status}" if self.http_status is not None else self.kind


@frozen(kw_only=True)
class Admit:
    """Request to the circuit breaker: may one LLM call start now?

    The answer is a permit handle (the breaker cancels its cancel scope if it opens while the
    call runs) or a ``Failure(BreakerOpen)``. ``user`` names the caller ("debate", "news").
    """

    user: str = attrs.field(validator=attrs.validators.instance_of(str))


@frozen(kw_only=True)
class PermitEnded:
    """To the circuit breaker: the call admitted with permit ``permit_id`` has ended."""

    permit_id: int = attrs.field(validator=attrs.validators.instance_of(int))
