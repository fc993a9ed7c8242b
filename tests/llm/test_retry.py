"""The retry schedule (RetryPolicy, Retry-After, run_call) in virtual time, with a scripted attempt."""

from __future__ import annotations

import email.utils
import random

import pytest
import trio

from actors.llm import ChatMessage, FailureKind, RetryPolicy, Timeouts
from actors.llm.outcome import AttemptFailed, Usage
from actors.llm.retry import parse_retry_after, run_call
from messages.debate import Thesis

from tests.llm.llm_fakes import VALID_TEXT

MESSAGES = (ChatMessage("user", "go"),)


class Attempts:
    """An attempt function that plays a list of results: a str reply or an AttemptFailed."""

    def __init__(self, *results, tokens=(3, 4)):
        self.results = list(results)
        self.calls: list[tuple[float, list[ChatMessage]]] = []
        self.tokens = tokens

    async def __call__(self, messages, reply_type, timeouts, usage: Usage) -> str:
        self.calls.append((trio.current_time(), list(messages)))
        usage.input_tokens, usage.output_tokens = self.tokens
        result = self.results.pop(0)
        if isinstance(result, BaseException):
            raise result
        if isinstance(result, float):
            await trio.sleep(result)
            return VALID_TEXT
        return result


def failed(kind=FailureKind.UNREACHABLE, retryable=True, **kw):
    return AttemptFailed(kind, f"{kind.value} happened", retryable=retryable, **kw)


async def run(attempts, *, policy=RetryPolicy(delays=(2, 4, 8), jitter=0), timeouts=Timeouts(), **kw):
    return await run_call(attempts, MESSAGES, Thesis, timeouts=timeouts, policy=policy, model="m", backend="b", **kw)


class TestRetryPolicy:
    def test_defaults(self):
        """Defaults: delays 2, 4, 8 with 10 % jitter and 2 parse retries."""
        policy = RetryPolicy()
        assert (policy.delays, policy.jitter, policy.max_parse_retries) == ((2.0, 4.0, 8.0), 0.1, 2)

    def test_jitter_stays_within_its_fraction(self):
        """With jitter 0.1 every delay lies within ±10 % of its base."""
        policy = RetryPolicy(jitter=0.1)
        rng = random.Random(7)
        samples = [policy.delay(2, rng) for _ in range(500)]
        assert min(samples) >= 7.2 and max(samples) <= 8.8 and len(set(samples)) > 100

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [({"delays": (1, -1)}, "RetryPolicy.delays must be finite numbers >= 0, got -1"),
         ({"delays": 5}, "RetryPolicy.delays must be a sequence of seconds, got 5"),
         ({"jitter": 1.5}, r"RetryPolicy.jitter must be a fraction in \[0, 1\), got 1.5"),
         ({"max_parse_retries": -1}, "RetryPolicy.max_parse_retries must be an integer >= 0, got -1")],
    )
    def test_bad_values_are_named(self, kwargs, message):
        """Bad settings raise ValueError naming the field."""
        with pytest.raises(ValueError, match=message):
            RetryPolicy(**kwargs)


class TestParseRetryAfter:
    @pytest.mark.parametrize(("value", "seconds"), [("7", 7.0), (" 1.5 ", 1.5), ("-3", 0.0), (None, None),
                                                   ("soon", None), ("nan", None)])
    def test_seconds_form(self, value, seconds):
        """Delta-seconds parse; negatives clamp to 0; garbage is ignored."""
        assert parse_retry_after(value) == seconds

    def test_http_date_form_uses_the_given_now(self):
        """An HTTP-date is turned into seconds from `now`; a past date gives 0."""
        now = 1_700_000_000.0
        assert parse_retry_after(email.utils.formatdate(now + 45, usegmt=True), now=now) == pytest.approx(45, abs=1)
        assert parse_retry_after(email.utils.formatdate(now - 45, usegmt=True), now=now) == 0.0


class TestRunCall:
    async def test_jittered_schedule_uses_trio_time(self, autojump_clock):
        """With jitter, the gaps between attempts stay within ±10 % of 2, 4, 8."""
        attempts = Attempts(failed(), failed(), failed(), VALID_TEXT)
        outcome = await run(attempts, policy=RetryPolicy(jitter=0.1), rng=random.Random(3))
        times = [t for t, _ in attempts.calls]
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert outcome.ok
        assert [round(g / base, 2) for g, base in zip(gaps, (2, 4, 8))] != [1.0, 1.0, 1.0]
        assert all(0.9 * base <= g <= 1.1 * base for g, base in zip(gaps, (2, 4, 8)))

    async def test_not_retryable_failure_stops_at_once(self, autojump_clock):
        """A non-retryable failure is the outcome after one attempt."""
        attempts = Attempts(failed(FailureKind.UNAUTHORIZED, retryable=False, http_status=401))
        outcome = await run(attempts)
        assert outcome.failure is FailureKind.UNAUTHORIZED and outcome.attempts == 1 and outcome.http_status == 401

    async def test_backoff_that_would_pass_the_deadline_is_not_slept(self, autojump_clock):
        """When the next delay is longer than the budget left, the last failure is returned at once."""
        attempts = Attempts(failed(), failed())
        outcome = await run(attempts, timeouts=Timeouts(connect=1, first_chunk=3, stall=3, total=5))
        assert outcome.failure is FailureKind.UNREACHABLE and outcome.attempts == 2
        assert trio.current_time() == 2 and "not retried: backoff 4s" in outcome.detail

    async def test_deadline_cuts_a_slow_attempt(self, autojump_clock):
        """An attempt still running at the total deadline gives deadline, at exactly total."""
        attempts = Attempts(50.0)
        outcome = await run(attempts, timeouts=Timeouts(connect=1, first_chunk=10, stall=10, total=30))
        assert outcome.failure is FailureKind.DEADLINE and outcome.latency == 30
        assert outcome.input_tokens == 3  # what the cut attempt reported is kept

    async def test_tokens_are_summed_over_attempts(self, autojump_clock):
        """Tokens of failed and successful attempts add up."""
        attempts = Attempts(failed(), "not json", VALID_TEXT)
        outcome = await run(attempts)
        assert (outcome.input_tokens, outcome.output_tokens) == (9, 12)

    async def test_parse_retry_keeps_the_original_messages_and_replaces_the_instruction(self, autojump_clock):
        """Each parse retry sends the original messages plus only the latest instruction."""
        attempts = Attempts("nope", '{"stance": "x"}', VALID_TEXT)
        outcome = await run(attempts)
        assert outcome.ok and outcome.parse_failures == 2
        third = attempts.calls[2][1]
        assert third[0] == MESSAGES[0] and len(third) == 2
        assert "$.stance: expected one of" in third[1].content

    async def test_zero_parse_retries_fails_on_the_first_bad_reply(self, autojump_clock):
        """max_parse_retries=0: one bad reply is invalid_output."""
        outcome = await run(Attempts("nope"), policy=RetryPolicy(delays=(2,), jitter=0, max_parse_retries=0))
        assert outcome.failure is FailureKind.INVALID_OUTPUT and outcome.attempts == 1

    async def test_a_broken_observer_does_not_break_the_call(self, autojump_clock):
        """An observer that raises is logged, and the call still returns its outcome."""

        def observer(kind):
            raise RuntimeError("observer bug")

        outcome = await run(Attempts(VALID_TEXT), observer=observer)
        assert outcome.ok
