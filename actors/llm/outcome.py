"""Typed outcomes of an LLM call: every way an LLM can misbehave, as a value instead of an exception.

::

    CallOutcome[T]                       what complete() returns: a value, or a FailureKind
     └── failure: FailureKind
          ├── timeouts (count against the breaker, retried with backoff)
          │    ├── timeout_connect       TCP/TLS connect did not finish within Timeouts.connect
          │    ├── timeout_first_chunk   connected, but no first chunk within Timeouts.first_chunk
          │    ├── stall                 the stream started, then went silent for Timeouts.stall
          │    └── deadline              the call's total budget (Timeouts.total) ran out
          ├── transport (count against the breaker, retried with backoff)
          │    ├── unreachable           connection refused / reset / DNS / dropped mid-stream
          │    ├── protocol_error        the server's stream framing was broken (bad NDJSON/SSE line)
          │    └── http_status           an error status (5xx, 429, 529 retried; 400/4xx not retried)
          ├── backend set-up (count against the breaker, never retried: no retry can fix them)
          │    ├── model_missing         the configured model is not available (Ollama: not pulled)
          │    └── unauthorized          401/403: the API key is missing, wrong or not allowed
          ├── invalid_output             the reply never parsed into the schema (after the parse
          │                              retries); the backend works, so it does NOT count
          ├── truncated                  the reply was stopped by the output cap (Ollama
          │                              ``done_reason: "length"``, Claude ``stop_reason:
          │                              "max_tokens"``): invalid output of its own kind, retried
          │                              once with the stricter instruction; does NOT count
          └── cancelled                  the caller cancelled the call (the breaker opening, the
                                         phase deadline); the caller's decision, does NOT count

:class:`AttemptFailed` is the internal exception one attempt raises at the client boundary
(like httpx's ``map_httpcore_exceptions``); :func:`actors.llm.retry.run_call` turns it into an
outcome. It never escapes ``complete()``.
"""

from __future__ import annotations

import enum
from typing import Generic, TypeVar

import attrs
from attrs import frozen

__all__ = ["AttemptFailed", "CallOutcome", "FailureKind", "Usage", "tokens_per_second"]

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

    @property
    def counts_against_breaker(self) -> bool:
        """Whether the circuit breaker should count this as a backend failure.

        Timeouts and transport failures: yes. ``model_missing`` and ``unauthorized``: yes, because
        every further call will fail the same way until an operator acts, and an open breaker
        turns those calls into clean "skipped" debates (the health probe closes it again).
        ``invalid_output``: no, the backend answered; a small model's bad JSON is not an outage.
        ``cancelled``: no, it is the caller's decision (often the breaker's own).
        """
        return self not in (FailureKind.INVALID_OUTPUT, FailureKind.TRUNCATED, FailureKind.CANCELLED)

    @property
    def is_timeout(self) -> bool:
        """One of the four timeouts."""
        return self in _TIMEOUTS


_TIMEOUTS = frozenset(
    {FailureKind.TIMEOUT_CONNECT, FailureKind.TIMEOUT_FIRST_CHUNK, FailureKind.STALL, FailureKind.DEADLINE}
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
