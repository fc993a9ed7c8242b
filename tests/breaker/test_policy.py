"""The breaker's pure state machine: plain synchronous tests, time passed in.

Attempts are built with :func:`actors.llm.outcome.attempt_outcome`, the function the retry loop
uses, so each test also exercises the LLM layer's meaning of the kind.
"""

from __future__ import annotations

import pytest

from actors.breaker.policy import BreakerPolicy, BreakerSettings
from actors.errors import ConfigError
from actors.llm.outcome import FailureKind, attempt_outcome
from messages.health import BreakerStateName, HealthStatus, LLMHealth
from messages.llm import AttemptOutcome

CLOSED, OPEN, HALF_OPEN = BreakerStateName.CLOSED, BreakerStateName.OPEN, BreakerStateName.HALF_OPEN
K = FailureKind
OK = attempt_outcome(None)


def att(kind: FailureKind, status: int | None = None, detail: str = "") -> AttemptOutcome:
    return attempt_outcome(kind, http_status=status, detail=detail)


def health(status: HealthStatus, detail: str = "") -> LLMHealth:
    return LLMHealth("ollama", status, 0.01, detail, 0.0)


def opened(now: float = 0.0) -> BreakerPolicy:
    policy = BreakerPolicy(now=0.0)
    assert policy.record_health(health(HealthStatus.UNREACHABLE), now) is not None
    return policy


def half_open() -> BreakerPolicy:
    policy = opened(0.0)
    assert policy.tick(30.0) is not None
    return policy


def rate_policy(**overrides) -> BreakerPolicy:
    """The failure-rate rule alone: a streak could never open it."""
    settings = {"failures": 1000, "min_calls": 10, "window": 30.0, "failure_rate": 0.5, **overrides}
    return BreakerPolicy(BreakerSettings(**settings))


class TestBreakerSettings:
    def test_defaults(self):
        """3 not responding in a row; over 50 % answered errors in 30 s with 20 at least; 30 s cool-down."""
        s = BreakerSettings()
        assert (s.failures, s.failure_rate, s.window, s.min_calls, s.cooldown) == (3, 0.5, 30.0, 20, 30.0)

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"failures": 0}, "breaker failures must be an integer >= 1, got 0"),
            ({"failures": True}, "breaker failures must be an integer >= 1, got True"),
            ({"min_calls": 2.5}, "breaker min_calls must be an integer >= 1, got 2.5"),
            ({"window": 0}, "breaker window must be a finite number of seconds > 0, got 0"),
            ({"window": float("nan")}, "breaker window must be a finite number of seconds > 0, got nan"),
            ({"failure_rate": 0}, r"breaker failure_rate must be a number in \(0, 1\], got 0"),
            ({"failure_rate": 1.5}, r"breaker failure_rate must be a number in \(0, 1\], got 1.5"),
            ({"cooldown": -1}, "breaker cooldown must be a finite number of seconds > 0, got -1"),
            ({"cooldown": float("inf")}, "breaker cooldown must be a finite number of seconds > 0, got inf"),
        ],
    )
    def test_invalid_settings_name_the_field(self, kwargs, message):
        """Each bad setting is refused with a message naming the field and the allowed values."""
        with pytest.raises(ConfigError, match=f"^{message}$"):
            BreakerSettings(**kwargs)

    def test_settings_are_keyword_only(self):
        """Positional settings are refused."""
        with pytest.raises(TypeError):
            BreakerSettings(3)  # type: ignore[misc]


class TestNotResponding:
    def test_opens_after_three_in_a_row(self):
        """Three not-responding attempts in a row open it, naming them in the reason."""
        policy = BreakerPolicy()
        assert policy.record_attempt(att(K.STALL), 1.0) is None
        assert policy.record_attempt(att(K.UNREACHABLE), 2.0) is None
        event = policy.record_attempt(att(K.TIMEOUT_FIRST_CHUNK, detail="no first chunk in 90s"), 3.0)
        assert event is not None and (event.state, event.changed_at) == (OPEN, 3.0)
        assert event.reason == (
            "3 attempts in a row not responding: stall, unreachable, timeout_first_chunk — no first chunk in 90s"
        )
        assert policy.half_open_at == 33.0

    @pytest.mark.parametrize(
        "kind", [K.TIMEOUT_CONNECT, K.TIMEOUT_FIRST_CHUNK, K.STALL, K.DEADLINE, K.UNREACHABLE, K.PROTOCOL_ERROR]
    )
    def test_every_not_responding_kind_counts(self, kind):
        """Each of the six kinds, protocol_error included, is a not-responding attempt."""
        policy = BreakerPolicy()
        policy.record_attempt(att(kind), 0.0)
        policy.record_attempt(att(kind), 0.0)
        assert policy.consecutive_failures == 2
        assert policy.record_attempt(att(kind), 0.0).state is OPEN

    @pytest.mark.parametrize(
        "answer",
        [OK, att(K.HTTP_STATUS, 500), att(K.HTTP_STATUS, 400), att(K.INVALID_OUTPUT), att(K.TRUNCATED),
         att(K.HTTP_STATUS, None)],
        ids=["valid", "fast-500", "400", "malformed", "truncated", "error-mid-stream"],
    )
    def test_any_answer_resets_the_streak(self, answer):
        """Two stalls, any answer from the server (even a 500 or malformed JSON), two stalls: still closed."""
        policy = BreakerPolicy()
        policy.record_attempt(att(K.STALL), 1.0)
        policy.record_attempt(att(K.STALL), 2.0)
        assert policy.record_attempt(answer, 3.0) is None
        assert policy.consecutive_failures == 0
        policy.record_attempt(att(K.STALL), 4.0)
        assert policy.record_attempt(att(K.STALL), 5.0) is None
        assert policy.name is CLOSED

    def test_cancelled_neither_counts_nor_resets(self):
        """A cancelled attempt says nothing about the server: the streak goes on across it."""
        policy = BreakerPolicy()
        policy.record_attempt(att(K.STALL), 1.0)
        policy.record_attempt(att(K.CANCELLED), 2.0)
        policy.record_attempt(att(K.STALL), 3.0)
        assert policy.consecutive_failures == 2
        assert policy.record_attempt(att(K.DEADLINE), 4.0).state is OPEN


class TestAnsweredErrors:
    def test_http_400s_never_open_it(self):
        """A hundred 400/404/422s: our request was wrong; no streak, no window, closed."""
        policy = BreakerPolicy(BreakerSettings(min_calls=1))
        for i in range(100):
            assert policy.record_attempt(att(K.HTTP_STATUS, (400, 413, 422)[i % 3]), float(i) / 10) is None
        assert policy.name is CLOSED
        assert policy.window_counts(10.0) == (0, 0)

    def test_fast_500s_alone_below_min_calls_do_not_open(self):
        """Nine 500s in a row are under min_calls (10): closed; the tenth opens it (100 % > 50 %)."""
        policy = rate_policy()
        for i in range(9):
            assert policy.record_attempt(att(K.HTTP_STATUS, 500), float(i)) is None
        assert policy.window_counts(9.0) == (9, 9)
        event = policy.record_attempt(att(K.HTTP_STATUS, 503), 9.0)
        assert event is not None and event.state is OPEN
        assert event.reason == (
            "answered errors in 10 of the last 10 answered attempts (100%, over 50% in 30 s), latest http_status 503"
        )

    def test_rate_must_exceed_the_limit_and_successes_count(self):
        """E S alternating: 5 of 10 is exactly 50 % (no), the 11th attempt an error: 6 of 11 (yes)."""
        policy = rate_policy()
        for i in range(5):
            assert policy.record_attempt(att(K.HTTP_STATUS, 529), 2.0 * i) is None
            assert policy.record_attempt(OK, 2.0 * i + 1) is None
        assert policy.window_counts(10.0) == (10, 5)
        event = policy.record_attempt(att(K.HTTP_STATUS, 429), 10.0)
        assert event is not None and event.state is OPEN
        assert "6 of the last 11" in event.reason

    def test_unusable_replies_and_timeouts_are_not_in_the_window(self):
        """Malformed JSON, truncation and not-responding attempts add nothing to the window."""
        policy = rate_policy()
        for kind in (K.INVALID_OUTPUT, K.TRUNCATED, K.STALL, K.CANCELLED):
            policy.record_attempt(att(kind), 0.0)
        assert policy.window_counts(0.0) == (0, 0)

    def test_window_is_time_based(self):
        """Attempts older than the window fall out: 9 errors at t=0..8 are gone by t=40."""
        policy = rate_policy()
        for i in range(9):
            policy.record_attempt(att(K.HTTP_STATUS, 500), float(i))
        assert policy.window_counts(30.5) == (8, 8)  # t=0 left at t=30
        assert policy.window_counts(40.0) == (0, 0)
        assert policy.record_attempt(att(K.HTTP_STATUS, 500), 40.0) is None  # 1 of 1: under min_calls
        assert policy.name is CLOSED

    def test_408_429_5xx_are_answered_errors(self):
        """408, 429, 500, 502, 503, 529 and an error without a status all go into the window as errors."""
        policy = BreakerPolicy(BreakerSettings(failure_rate=1.0))  # the rule off: only counting
        for status in (408, 429, 500, 502, 503, 529, None):
            policy.record_attempt(att(K.HTTP_STATUS, status), 0.0)
        assert policy.window_counts(0.0) == (7, 7)


class TestFatal:
    @pytest.mark.parametrize("kind", [K.MODEL_MISSING, K.UNAUTHORIZED])
    def test_fatal_opens_at_once(self, kind):
        """A single model_missing or unauthorized attempt opens it."""
        policy = BreakerPolicy()
        event = policy.record_attempt(att(kind, detail="not pulled"), 1.0)
        assert event is not None and event.state is OPEN
        assert event.reason == f"{kind.value} — not pulled (no call can succeed)"


class TestHealth:
    @pytest.mark.parametrize(
        "status", [HealthStatus.UNREACHABLE, HealthStatus.TIMEOUT, HealthStatus.MODEL_MISSING, HealthStatus.UNAUTHORIZED]
    )
    def test_unhealthy_report_opens_at_once(self, status):
        """An unhealthy report opens the closed breaker with the report in the reason."""
        policy = BreakerPolicy()
        event = policy.record_health(health(status, "connection refused"), 5.0)
        assert event is not None and (event.state, event.changed_at) == (OPEN, 5.0)
        assert event.reason == f"health: {status.value} — connection refused"

    def test_error_and_healthy_reports_keep_it_closed(self):
        """ERROR (the server answered oddly) and HEALTHY do not open it."""
        policy = BreakerPolicy()
        assert policy.record_health(health(HealthStatus.ERROR, "HTTP 500"), 1.0) is None
        assert policy.record_health(health(HealthStatus.HEALTHY), 2.0) is None
        assert policy.name is CLOSED


class TestOpen:
    def test_refuses_calls(self):
        """An open breaker says no."""
        assert opened().allow(1.0) is False

    def test_half_opens_after_exactly_the_cooldown(self):
        """tick() before 30 s does nothing; at 30 s it half-opens."""
        policy = opened(0.0)
        assert policy.tick(29.999) is None
        event = policy.tick(30.0)
        assert event is not None and (event.state, event.reason, event.changed_at) == (
            HALF_OPEN,
            "cool-down elapsed",
            30.0,
        )

    def test_attempts_while_open_are_ignored(self):
        """Late attempts change nothing while open: no close, no new cool-down."""
        policy = opened(0.0)
        assert policy.record_attempt(OK, 1.0) is None
        assert policy.record_attempt(att(K.STALL), 2.0) is None
        assert policy.record_attempt(att(K.MODEL_MISSING), 2.0) is None
        assert policy.record_health(health(HealthStatus.TIMEOUT), 3.0) is None
        assert policy.half_open_at == 30.0

    def test_healthy_report_half_opens_within_the_cooldown(self):
        """HEALTHY within the cool-down half-opens at once (one probe call decides), saying so."""
        policy = opened(0.0)
        event = policy.record_health(health(HealthStatus.HEALTHY, "model loaded"), 10.0)
        assert event is not None and event.state is HALF_OPEN
        assert event.reason == "health: healthy — model loaded (within the cool-down: one probe call decides)"
        assert policy.allow(10.0) is True and policy.allow(10.0) is False

    def test_healthy_report_after_cooldown_says_cooldown_elapsed(self):
        """HEALTHY after the cool-down half-opens with the cool-down named."""
        policy = opened(0.0)
        event = policy.record_health(health(HealthStatus.HEALTHY, "model loaded"), 31.0)
        assert event is not None and event.state is HALF_OPEN
        assert event.reason == "cool-down elapsed; health: healthy — model loaded"

    def test_failed_probe_after_healthy_report_reopens_with_a_fresh_cooldown(self):
        """A flapping server: the probe call let through by a HEALTHY report fails → OPEN, cool-down anew."""
        policy = opened(0.0)
        policy.record_health(health(HealthStatus.HEALTHY), 10.0)
        assert policy.allow(10.0)
        event = policy.record_attempt(att(K.TIMEOUT_FIRST_CHUNK), 12.0)
        assert event is not None and event.state is BreakerStateName.OPEN
        assert policy.half_open_at == 42.0


class TestHalfOpen:
    def test_allows_one_probe(self):
        """allow() says yes once, then no while the probe runs."""
        policy = half_open()
        assert policy.allow(30.0) is True
        assert policy.allow(30.0) is False
        assert policy.allow(31.0) is False

    def test_probe_answer_closes_and_clears_the_counters(self):
        """The probe's valid reply closes the breaker and clears the streak and the window."""
        policy = half_open()
        policy.allow(30.0)
        event = policy.record_attempt(OK, 31.0)
        assert event is not None and (event.state, event.reason) == (CLOSED, "probe call answered")
        assert policy.window_counts(31.0) == (0, 0) and policy.consecutive_failures == 0
        assert policy.allow(32.0) and policy.allow(32.0)

    @pytest.mark.parametrize(
        ("attempt", "label"),
        [(att(K.TIMEOUT_CONNECT), "timeout_connect"), (att(K.HTTP_STATUS, 503), "http_status 503"),
         (att(K.PROTOCOL_ERROR), "protocol_error"), (att(K.MODEL_MISSING), "model_missing")],
    )
    def test_probe_failure_reopens_with_fresh_cooldown(self, attempt, label):
        """A not-responding, answered-error or fatal probe attempt reopens it; the cool-down restarts."""
        policy = half_open()
        policy.allow(30.0)
        event = policy.record_attempt(attempt, 35.0)
        assert event is not None and (event.state, event.reason) == (OPEN, f"probe call failed: {label}")
        assert policy.half_open_at == 65.0
        assert policy.tick(64.0) is None
        assert policy.tick(65.0) is not None

    def test_unusable_probe_reply_decides_nothing(self):
        """Malformed JSON or a 400 from the probe leave it half-open; release_probe frees the slot."""
        policy = half_open()
        policy.allow(30.0)
        assert policy.record_attempt(att(K.INVALID_OUTPUT), 31.0) is None
        assert policy.record_attempt(att(K.HTTP_STATUS, 400), 31.0) is None
        assert policy.name is HALF_OPEN and policy.allow(31.0) is False
        policy.release_probe()
        assert policy.allow(31.0) is True

    def test_unhealthy_report_reopens(self):
        """An unhealthy report while half-open reopens it."""
        policy = half_open()
        event = policy.record_health(health(HealthStatus.TIMEOUT, "no answer within 3 s"), 40.0)
        assert event is not None and event.state is OPEN
        assert policy.half_open_at == 70.0
