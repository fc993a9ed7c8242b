"""Typed outcomes of an LLM call: every way an LLM can misbehave, as a value instead of an exception.

::

    CallOutcome[T]                       what complete() returns: a value, or a FailureKind
     └── failure: FailureKind            (its meaning for the circuit breaker on the right)
          ├── timeouts (retried with backoff)
          │    ├── timeout_connect       TCP/TLS connect did not finish        not responding
          │    │                         within Timeouts.connect
          │    ├── timeout_first_chunk   connected, but no first chunk within  not responding
          │    │                         Timeouts.first_chunk
          │    ├── stall                 the stream started, then went silent  not responding
          │    │                         for Timeouts.stall
          │    └── deadline              the call's total budget               not responding
          │                              (Timeouts.total) ran out
          ├── transport (retried with backoff)
          │    ├── unreachable           connection refused / reset / DNS /    not responding
          │    │                         dropped mid-stream
          │    ├── protocol_error        the server's stream framing was       not responding
          │    │                         broken (bad NDJSON/SSE line)
          │    └── http_status           5xx, 529, 429, 408 (retried), an      answered with an error
          │                              error line mid-stream (retried)
          │                              other 4xx (not retried)               our request was wrong
          ├── backend set-up (never retried: no retry can fix them)
          │    ├── model_missing         the configured model is not           fatal
          │    │                         available (Ollama: not pulled)
          │    └── unauthorized          401/403: the API key is missing,      fatal
          │                              wrong or not allowed
          ├── invalid_output             the reply never parsed into the       answered, unusable
          │                              schema (after the parse retries)
          ├── truncated                  the reply was stopped by the output   answered, unusable
          │                              cap (Ollama ``done_reason: "length"``,
          │                              Claude ``stop_reason: "max_tokens"``):
          │                              retried once with the stricter instruction
          └── cancelled                  the caller cancelled the call (the    neutral
                                         breaker opening, the phase deadline)

A valid reply means *answered*. :meth:`FailureKind.breaker_meaning` is the one place that says
what each kind means to the breaker (:class:`~messages.llm.BreakerMeaning`, whose docstring
says what the breaker does with each); :func:`attempt_outcome` builds the per-attempt message
the retry loop sends to its observer.

:class:`AttemptFailed` is the internal exception one attempt raises at the client boundary
(like httpx's ``map_httpcore_exceptions``); :func:`actors.llm.retry.run_call` turns it into an
outcome. It never escapes ``complete()``.
"""

from __future__ import annotations

import enum
from typing import Generic, TypeVar

import attrs
from attrs import frozen

from messages.llm import AttemptOutcome, BreakerMeaning

__all__ = [
    "AttemptFailed",
    "CallOutcome",
    "FailureKind",
    "Usage",
    "attempt_outcome",
    "tokens_per_second",
    "retryable_status",
]

T = TypeVar("T")


class FailureKind(enum.Enum):
    """Why an LLM call produced no value. The values are stored in ``ai_theses.failure``."""

    TIMEOUT_CONNECT = "timeout_connect"
    TIMEOUT_FIRST_CHUNK = "timeout_first_chunk"
    STALL = "stall"
    DEADLINE = "deadline"
    UNREACHABLE = "unreachable"
    PROTOCOL_ERROR = "protocol_error"
    HTTP_STATUS = "http_status"
    MODEL_MISSING = "model_missing"
    UNAUTHORIZED = "unauthorized"
    INVALID_OUTPUT = "invalid_output"
    TRUNCATED = "truncated"
    CANCELLED = "cancelled"

    def breaker_meaning(self, http_status: int | None = None) -> BreakerMeaning:
        """What a failed attempt of this kind (with ``http_status``, if any) means for the breaker.

        ``http_status`` matters only for ``http_status``: 408, 429 and 5xx (529 included) mean
        *answered with an error*, as does an error without a known status or inside a 200
        stream; any other 4xx means *our request was wrong*.
        """
        if self is FailureKind.HTTP_STATUS:
            if http_status is not None and 400 <= http_status < 500 and not retryable_status(http_status):
                return BreakerMeaning.REQUEST_WRONG
            return BreakerMeaning.ANSWERED_ERROR
        return _MEANINGS[self]

    @property
    def is_timeout(self) -> bool:
        """One of the four timeouts."""
        return self in _TIMEOUTS


_TIMEOUTS = frozenset(
    {FailureKind.TIMEOUT_CONNECT, FailureKind.TIMEOUT_FIRST_CHUNK, FailureKind.STALL, FailureKind.DEADLINE}
)

_MEANINGS = {
    FailureKind.TIMEOUT_CONNECT: BreakerMeaning.NOT_RESPONDING,
    FailureKind.TIMEOUT_FIRST_CHUNK: BreakerMeaning.NOT_RESPONDING,
    FailureKind.STALL: BreakerMeaning.NOT_RESPONDING,
    FailureKind.DEADLINE: BreakerMeaning.NOT_RESPONDING,
    FailureKind.UNREACHABLE: BreakerMeaning.NOT_RESPONDING,
    FailureKind.PROTOCOL_ERROR: BreakerMeaning.NOT_RESPONDING,
    FailureKind.HTTP_STATUS: BreakerMeaning.ANSWERED_ERROR,  # refined by status in breaker_meaning()
    FailureKind.MODEL_MISSING: BreakerMeaning.FATAL,
    FailureKind.UNAUTHORIZED: BreakerMeaning.FATAL,
    FailureKind.INVALID_OUTPUT: BreakerMeaning.ANSWERED_INVALID,
    FailureKind.TRUNCATED: BreakerMeaning.ANSWERED_INVALID,
    FailureKind.CANCELLED: BreakerMeaning.NEUTRAL,
}


def retryable_status(status: int) -> bool:
    """HTTP statuses worth another attempt: 408, 429 and every 5xx (529 overloaded included)."""
    return status in (408, 429) or status >= 500


def attempt_outcome(kind: FailureKind | None, *, http_status: int | None = None, detail: str = "") -> AttemptOutcome:
    """The message reporting one attempt: ``kind`` None for a valid reply, else how it failed.

    A status outside 100-599 (ollama's -1 for an error line mid-stream) is reported as unknown.
    """
    if http_status is not None and not 100 <= http_status <= 599:
        http_status = None
    meaning = BreakerMeaning.ANSWERED if kind is None else kind.breaker_meaning(http_status)
    return AttemptOutcome(
        kind=None if kind is None else kind.value, meaning=meaning, http_status=http_status, detail=detail
    )


@frozen
class CallOutcome(Generic[T]):
    """What one ``complete()`` call produced: ``value`` or ``failure``, never both.

    ``attempts`` counts requests sent (transport retries and parse retries); ``parse_failures``
    counts replies that did not fit the schema; ``latency`` is trio-clock seconds from the call's
    start to its outcome. Usage is summed over the attempts that reported it (None: no attempt
    did): ``input_tokens``/``output_tokens`` (Ollama's ``prompt_eval_count``/``eval_count``,
    Claude's usage), and from Ollama the seconds spent generating (``eval_duration``), reading
    the prompt (``prompt_eval_duration``) and loading the model (``load_duration``, plus a
    warm-up load the call waited for). ``detail`` is for humans and never contains the API key.
    """

    value: T | None
    failure: FailureKind | None
    attempts: int
    parse_failures: int
    latency: float
    model: str
    backend: str
    detail: str = ""
    http_status: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    generation_seconds: float | None = None
    prompt_seconds: float | None = None
    load_seconds: float | None = None
    #: The reply text the value was parsed from (audit: the news scorer stores it), or None.
    raw_reply: str | None = None
    #: Seconds the server asked us to wait (its Retry-After header) on the attempt that ended the
    #: call, when it sent one: the caller's cool-down (news), never read from message text.
    retry_after: float | None = None

    def __attrs_post_init__(self) -> None:
        if (self.value is None) == (self.failure is None):
            raise ValueError("CallOutcome needs exactly one of value and failure")

    @property
    def tokens_per_second(self) -> float | None:
        """The generation rate: output tokens per second of generation, when both are known."""
        return tokens_per_second(self.output_tokens, self.generation_seconds)

    @property
    def ok(self) -> bool:
        """True when the call produced a validated value."""
        return self.failure is None


class AttemptFailed(Exception):
    """One attempt failed in a known way (internal: raised at the client boundary, never escapes).

    ``retryable`` says whether backoff and another attempt could help; ``retry_after`` is the
    server's Retry-After in seconds when it sent one.
    """

    def __init__(
        self,
        kind: FailureKind,
        detail: str,
        *,
        retryable: bool,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{kind.value}: {detail}")
        self.kind = kind
        self.detail = detail
        self.retryable = retryable
        self.http_status = http_status
        self.retry_after = retry_after


@attrs.define
class Usage:
    """Token counts and timings one attempt reported (mutable accumulator local to one attempt).

    Seconds are Ollama's nanosecond durations divided by 1e9; Claude reports tokens only.
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    generation_seconds: float | None = None
    prompt_seconds: float | None = None
    load_seconds: float | None = None


def tokens_per_second(tokens: int | None, seconds: float | None) -> float | None:
    """``tokens / seconds`` when both are known and ``seconds > 0``, else None."""
    if tokens is None or seconds is None or seconds <= 0:
        return None
    return tokens / seconds
