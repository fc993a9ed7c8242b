"""The retry schedule of an LLM call, on trio's clock.

One call = attempts until a valid reply, a failure no retry can fix, or the end of the budget:

- Transport failures and timeouts that may pass (connect/first-chunk/stall timeouts,
  unreachable, protocol errors, 408/429/5xx/529) are retried after ``RetryPolicy.delays``
  (``ai_retry_delays``) with ±``jitter``. A server's ``Retry-After`` (seconds or HTTP-date)
  replaces the scheduled delay. A retry whose wait would not leave any of the ``total`` budget
  is not started: the call ends at once with the last failure (no sleeping into the deadline).
- 400/401/403/404 and other 4xx are not retried.
- A reply that does not parse into the schema is retried AT ONCE (no backoff) with the stricter
  instruction appended, at most ``max_parse_retries`` times, logged at DEBUG; if it persists the
  outcome is ``invalid_output``. Parse retries never sleep.
- Every attempt is reported to the ``observer`` as it ends, as one
  :class:`~messages.llm.AttemptOutcome` (built by :func:`~actors.llm.outcome.attempt_outcome`):
  a valid reply (*answered*), a reply that did not parse (*answered*, unusable: the server
  works), a failure with its kind and HTTP status. The circuit breaker listens there.
- A reply stopped by the output cap (``truncated``) is retried ONCE, at once, with the stricter
  instruction and a request to be brief, logged at DEBUG like bad JSON; if the retry is cut too
  the outcome is ``truncated`` (never a deadline: the cap ends it long before).
- The ``total`` budget covers everything (outer cancel scope): if it runs out mid-attempt the
  outcome is ``deadline``.

Sleeps use ``trio.sleep`` and budgets ``trio.current_time``, never the wall clock (the one
wall-clock read turns an HTTP-date Retry-After into a duration), so virtual-time tests work.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import attrs
import trio
from attrs import frozen

from actors.llm.budget import Timeouts
from actors.llm.protocol import ChatMessage, Observer
from actors.llm.outcome import AttemptFailed, CallOutcome, FailureKind, Usage, attempt_outcome, retryable_status
from actors.llm.structured import ReplyInvalid, parse_reply, strict_retry_instruction, truncated_retry_instruction

__all__ = ["Attempt", "RetryPolicy", "parse_retry_after", "retryable_status", "run_call"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: How many times a reply stopped by the output cap is asked for again.
MAX_TRUNCATED_RETRIES = 1

#: One attempt: send ``messages`` and return the reply text, recording tokens in ``usage``.
#: Raises :class:`AttemptFailed` for every known failure; lets ``trio.Cancelled`` through.
Attempt = Callable[[Sequence[ChatMessage], type, Timeouts, Usage], Awaitable[str]]


def _delays(value: Any) -> tuple[float, ...]:
    try:
        delays = tuple(value)
    except TypeError:
        raise ValueError(f"RetryPolicy.delays must be a sequence of seconds, got {value!r}") from None
    for d in delays:
        if isinstance(d, bool) or not isinstance(d, (int, float)) or not math.isfinite(d) or d < 0:
            raise ValueError(f"RetryPolicy.delays must be finite numbers >= 0, got {d!r}")
    return tuple(float(d) for d in delays)


def _check_jitter(_inst: object, _attr: attrs.Attribute, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"RetryPolicy.jitter must be a fraction in [0, 1), got {value!r}")


def _check_parse_retries(_inst: object, _attr: attrs.Attribute, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"RetryPolicy.max_parse_retries must be an integer >= 0, got {value!r}")


@frozen(kw_only=True)
class RetryPolicy:
    """Backoff for transport failures and the immediate-retry budget for parse failures.

    Retry ``i`` (0-based) waits ``delays[i] * (1 + uniform(-jitter, +jitter))``; at most
    ``len(delays)`` transport retries. ``jitter=0`` gives an exact schedule (tests).
    """

    delays: tuple[float, ...] = attrs.field(default=(2.0, 4.0, 8.0), converter=_delays)
    jitter: float = attrs.field(default=0.1, validator=_check_jitter)
    max_parse_retries: int = attrs.field(default=2, validator=_check_parse_retries)

    def delay(self, retry_index: int, rng: random.Random | None = None) -> float:
        """The wait before transport retry ``retry_index`` (0-based), jitter applied."""
        base = self.delays[retry_index]
        if not self.jitter:
            return base
        return base * (1.0 + (rng or random).uniform(-self.jitter, self.jitter))


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), or None.

    ``now`` is the wall-clock time (``time.time()``) used for an HTTP-date; past dates give 0.
    """
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


@attrs.define
class _Tally:
    attempts: int = 0
    parse_failures: int = 0
    truncations: int = 0
    usage: Usage = attrs.Factory(Usage)
    history: list[str] = attrs.Factory(list)

    def add(self, usage: Usage) -> None:
        """Sum what one attempt reported into the call's usage (fields no attempt reported stay None)."""
        for field in attrs.fields(Usage):
            value = getattr(usage, field.name)
            if value is not None:
                setattr(self.usage, field.name, (getattr(self.usage, field.name) or 0) + value)


async def run_call(
    attempt: Attempt,
    messages: Sequence[ChatMessage],
    reply_type: type[T],
    *,
    timeouts: Timeouts,
    policy: RetryPolicy,
    model: str,
    backend: str,
    observer: Observer | None = None,
    rng: random.Random | None = None,
) -> CallOutcome[T]:
    """Run ``attempt`` under ``policy`` within ``timeouts.total``; see the module docstring.

    Never raises for LLM misbehaviour; ``trio.Cancelled`` from an enclosing scope propagates.
    """
    start = trio.current_time()
    deadline = start + timeouts.total
    tally = _Tally()
    current: list[ChatMessage] = list(messages)
    transport_retries = 0
    usage = Usage()

    def notify(kind: FailureKind | None, *, status: int | None = None, detail: str = "") -> None:
        # Every attempt, as it ends: a valid reply, a malformed one, a fast 500 and a stall alike.
        if observer is not None:
            try:
                observer(attempt_outcome(kind, http_status=status, detail=detail))
            except Exception:  # an observer's bug must not turn into an LLM failure
                logger.exception("LLM attempt observer failed")

    def finish(value: T | None, failure: FailureKind | None, detail: str = "", status: int | None = None,
               *, raw_reply: str | None = None, retry_after: float | None = None) -> CallOutcome[T]:
        outcome = CallOutcome(
            value=value,
            failure=failure,
            attempts=tally.attempts,
            parse_failures=tally.parse_failures,
            latency=trio.current_time() - start,
            model=model,
            backend=backend,
            detail=detail,
            http_status=status,
            input_tokens=tally.usage.input_tokens,
            output_tokens=tally.usage.output_tokens,
            generation_seconds=tally.usage.generation_seconds,
            prompt_seconds=tally.usage.prompt_seconds,
            load_seconds=tally.usage.load_seconds,
            raw_reply=raw_reply,
            retry_after=retry_after,
        )
        if failure is not None:
            logger.info("%s %s call failed: %s after %d attempt(s), %.1fs: %s", backend, model,
                        failure.value, tally.attempts, outcome.latency, detail)
        return outcome

    with trio.move_on_at(deadline):
        while True:
            tally.attempts += 1
            usage = Usage()
            try:
                text = await attempt(current, reply_type, timeouts, usage)
            except AttemptFailed as exc:
                tally.add(usage)
                usage = Usage()
                tally.history.append(exc.kind.value)
                notify(exc.kind, status=exc.http_status, detail=exc.detail)
                if exc.kind is FailureKind.TRUNCATED:
                    tally.truncations += 1
                    logger.debug("%s %s reply cut by the output cap (%d): %s", backend, model,
                                 tally.truncations, exc.detail)
                    if tally.truncations > MAX_TRUNCATED_RETRIES:
                        return finish(None, FailureKind.TRUNCATED, _with_attempts(exc.detail, tally))
                    current = [*messages, ChatMessage("user", truncated_retry_instruction())]
                    continue
                if not exc.retryable or transport_retries >= len(policy.delays):
                    return finish(None, exc.kind, _with_attempts(exc.detail, tally), exc.http_status,
                                  retry_after=exc.retry_after)
                if exc.retry_after is not None:
                    wait, why = exc.retry_after, "Retry-After"
                else:
                    wait, why = policy.delay(transport_retries, rng), "backoff"
                remaining = deadline - trio.current_time()
                if wait >= remaining:
                    detail = f"{exc.detail}; not retried: {why} {wait:g}s leaves none of the {remaining:.3g}s budget left"
                    return finish(None, exc.kind, _with_attempts(detail, tally), exc.http_status,
                                  retry_after=exc.retry_after)
                transport_retries += 1
                logger.info("%s %s attempt %d failed (%s: %s); retrying in %.2fs (%s)", backend, model,
                            tally.attempts, exc.kind.value, exc.detail, wait, why)
                await trio.sleep(wait)
                continue
            tally.add(usage)
            usage = Usage()
            try:
                value = parse_reply(text, reply_type)
            except ReplyInvalid as exc:
                tally.parse_failures += 1
                tally.history.append(FailureKind.INVALID_OUTPUT.value)
                notify(FailureKind.INVALID_OUTPUT, detail="the reply did not fit the schema")
                logger.debug("%s %s reply %d did not fit %s: %s", backend, model, tally.parse_failures,
                             getattr(reply_type, "__name__", reply_type), "; ".join(exc.problems))
                if tally.parse_failures > policy.max_parse_retries:
                    detail = f"reply did not fit {exc.what} after {tally.parse_failures} tries: {'; '.join(exc.problems[:5])}"
                    return finish(None, FailureKind.INVALID_OUTPUT, detail)
                current = [*messages, ChatMessage("user", strict_retry_instruction(exc.problems))]
                continue
            notify(None)
            return finish(value, None, raw_reply=text)
    tally.add(usage)  # what the attempt cut off by the deadline had reported
    tally.history.append(FailureKind.DEADLINE.value)
    detail = f"total budget of {timeouts.total:g}s ran out during attempt {tally.attempts}"
    notify(FailureKind.DEADLINE, detail=detail)
    return finish(None, FailureKind.DEADLINE, _with_attempts(detail, tally))


def _with_attempts(detail: str, tally: _Tally) -> str:
    if len(tally.history) <= 1:
        return detail
    return f"{detail} (attempts: {', '.join(tally.history)})"
