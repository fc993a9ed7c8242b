"""The breaker's pure state machine: plain synchronous tests, time passed in."""

from __future__ import annotations

import pytest

from actors.breaker.policy import BreakerPolicy, BreakerSettings, classify_failure
from actors.errors import ConfigError
from messages.health import BreakerStateName, HealthStatus, LLMHealth

CLOSED, OPEN, HALF_OPEN = BreakerStateName.CLOSED, BreakerStateName.OPEN, BreakerStateName.HALF_OPEN


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


class TestClassifyFailure:
    def test_transport_failures_and_timeouts_count(self):
        """Every transport failure and timeout kind counts against the breaker."""
        for kind in ("timeout_connect", "timeout_first_chunk", "stall", "deadline", "unreachable"):
            assert classify_failure(kind) == "counted"

    def test_http_status_counts_only_for_server_side_codes(self):
        """http_status counts for 5xx, 429 and 408 (and unknown), not for other 4xx."""
        assert [classify_failure("http_status", s) for s in (500, 503, 429, 408, None)] == ["counted"] * 5
        assert [classify_failure("http_status", s) for s in (400, 404, 422)] == ["neutral"] * 3

    def test_invalid_output_and_cancelled_are_neutral(self):
        """Parse errors and our own cancellations never count."""
        assert classify_failure("invalid_output") == "neutral"
        assert classify_failure("cancelled") == "neutral"

    def test_model_missing_and_unauthorized_are_fatal(self):
        """No call can succeed without the model or the key."""
        assert classify_failure("model_missing") == "fatal"
        assert classify_failure("unauthorized") == "fatal"

    def test_unknown_kind_is_a_clear_error(self):
        """An unknown kind names itself and the allowed values."""
        with pytest.raises(ValueError, match=r"failure kind must be one of .*stall.*; got 'boom'"):
            classify_failure("boom")


class TestBreakerSettings:
    def test_defaults(self):
        """The defaults are 3 failures, 50% over 10 calls with 6 at least, 30 s cool-down."""
        s = BreakerSettings()
        assert (s.failures, s.failure_rate, s.window, s.min_calls, s.cooldown) == (3, 0.5, 10, 6, 30.0)

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"failures": 0}, "breaker failures must be an integer >= 1, got 0"),
            ({"failures": True}, "breaker failures must be an integer >= 1, got True"),
            ({"window": 2.5}, "breaker window must be an integer >= 1, got 2.5"),
            ({"failure_rate": 0}, r"breaker failure_rate must be a number in \(0, 1\], got 0"),
            ({"failure_rate": 1.5}, r"breaker failure_rate must be a number in \(0, 1\], got 1.5"),
            ({"cooldown": -1}, "breaker cooldown must be a finite number of seconds > 0, got -1"),
            ({"cooldown": float("inf")}, "breaker cooldown must be a finite number of seconds > 0, got inf"),
            ({"min_calls": 11}, r"breaker min_calls must be <= window \(10\), got 11"),
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


class TestClosed:
    def test_opens_after_consecutive_timeouts(self):
        """Three counted failures in a row open it, naming them in the reason."""
        policy = BreakerPolicy()
        assert policy.record_failure("stall", 1.0) is None
        assert policy.record_failure("stall", 2.0) is None
        event = policy.record_failure("timeout_first_chunk", 3.0)
        assert event is not None
        assert (event.state, event.changed_at) == (OPEN, 3.0)
        assert event.reason == "3 consecutive failures: stall, stall, timeout_first_chunk"
        assert policy.half_open_at == 33.0

    def test_http_status_reason_shows_the_code(self):
        """An http_status failure is shown with its status code."""
        policy = BreakerPolicy(BreakerSettings(failures=1))
        event = policy.record_failure("http_status", 1.0, status=503)
        assert event is not None and event.reason == "1 consecutive failures: http_status 503"

    def test_parse_error_does_not_trip_breaker(self):
        """Ten invalid outputs in a row change nothing, not even the window."""
        policy = BreakerPolicy()
        for i in range(10):
            assert policy.record_failure("invalid_output", float(i)) is None
        assert policy.name is CLOSED
        assert policy.consecutive_failures == 0
        assert policy.window_counts == (0, 0)

    def test_neutral_results_do_not_break_a_run_of_failures(self):
        """An invalid output between two timeouts neither counts nor resets the run."""
        policy = BreakerPolicy()
        policy.record_failure("stall", 1.0)
        policy.record_failure("invalid_output", 2.0)
        policy.record_failure("cancelled", 2.5)
        policy.record_failure("stall", 3.0)
        assert policy.record_failure("deadline", 4.0) is not None

    def test_client_side_4xx_does_not_count(self):
        """A 400 is our request's fault, not the server's health."""
        policy = BreakerPolicy()
        for i in range(5):
            assert policy.record_failure("http_status", float(i), status=400) is None
        assert policy.consecutive_failures == 0

    def test_success_resets_the_consecutive_count(self):
        """Two failures, a success, two failures: still closed."""
        policy = BreakerPolicy()
        policy.record_failure("stall", 1.0)
        policy.record_failure("stall", 2.0)
        policy.record_success(3.0)
        assert policy.consecutive_failures == 0
        policy.record_failure("stall", 4.0)
        assert policy.record_failure("stall", 5.0) is None
        assert policy.name is CLOSED

    def test_failure_rate_over_window_opens(self):
        """Alternating failures open it once the rate exceeds 50% over at least 6 calls."""
        policy = BreakerPolicy()
        # F S F S F S: 3 of 6 is exactly 50%, which does not exceed the limit.
        for i in range(3):
            assert policy.record_failure("stall", 2.0 * i) is None
            assert policy.record_success(2.0 * i + 1) is None
        assert policy.window_counts == (6, 3)
        event = policy.record_failure("unreachable", 7.0)
        assert event is not None and event.state is OPEN
        assert event.reason == "failure rate 4/7 calls (57%) exceeds 50%"

    def test_failure_rate_needs_min_calls(self):
        """Below min_calls the rate rule stays quiet even at 67%."""
        policy = BreakerPolicy(BreakerSettings(failures=10))
        for outcome in ("F", "S", "F", "S", "F"):
            event = policy.record_failure("stall", 0.0) if outcome == "F" else policy.record_success(0.0)
            assert event is None
        assert policy.window_counts == (5, 3)

    def test_window_slides(self):
        """Old results fall out of the window: only the last `window` calls count."""
        policy = BreakerPolicy(BreakerSettings(failures=10, window=4, min_calls=4))
        for _ in range(2):
            policy.record_failure("stall", 0.0)
        for _ in range(4):
            policy.record_success(0.0)
        assert policy.window_counts == (4, 0)

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

    def test_model_missing_failure_opens_at_once(self):
        """A single model_missing call result opens it."""
        policy = BreakerPolicy()
        event = policy.record_failure("model_missing", 1.0, detail="model 'llama3' not found")
        assert event is not None and event.state is OPEN
        assert event.reason == "call failed: model_missing — model 'llama3' not found (no call can succeed)"

    def test_allows_calls_while_closed(self):
        """A closed breaker says yes every time."""
        policy = BreakerPolicy()
        assert all(policy.allow(0.0) for _ in range(5))


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

    def test_results_while_open_are_ignored(self):
        """Late results change nothing while open."""
        policy = opened(0.0)
        assert policy.record_success(1.0) is None
        assert policy.record_failure("stall", 2.0) is None
        assert policy.record_health(health(HealthStatus.TIMEOUT), 3.0) is None
        assert policy.half_open_at == 30.0

    def test_healthy_report_half_opens_only_after_cooldown(self):
        """HEALTHY before the cool-down is ignored; after it, it half-opens."""
        policy = opened(0.0)
        assert policy.record_health(health(HealthStatus.HEALTHY), 10.0) is None
        event = policy.record_health(health(HealthStatus.HEALTHY, "model loaded"), 31.0)
        assert event is not None and event.state is HALF_OPEN
        assert event.reason == "cool-down elapsed; health: healthy — model loaded"


class TestHalfOpen:
    def test_allows_one_probe(self):
        """allow() says yes once, then no while the probe runs."""
        policy = half_open()
        assert policy.allow(30.0) is True
        assert policy.allow(30.0) is False
        assert policy.allow(31.0) is False

    def test_probe_success_closes(self):
        """The probe's success closes the breaker and clears the counters."""
        policy = half_open()
        policy.allow(30.0)
        event = policy.record_success(31.0)
        assert event is not None and (event.state, event.reason) == (CLOSED, "probe succeeded")
        assert policy.window_counts == (0, 0)
        assert policy.allow(32.0) and policy.allow(32.0)

    def test_probe_failure_reopens_with_fresh_cooldown(self):
        """The probe's failure reopens it; the new cool-down counts from the failure."""
        policy = half_open()
        policy.allow(30.0)
        event = policy.record_failure("timeout_connect", 35.0)
        assert event is not None and (event.state, event.reason) == (OPEN, "probe failed: timeout_connect")
        assert policy.half_open_at == 65.0
        assert policy.tick(64.0) is None
        assert policy.tick(65.0) is not None

    def test_neutral_probe_result_frees_the_slot(self):
        """An invalid output from the probe decides nothing and lets the next caller probe."""
        policy = half_open()
        policy.allow(30.0)
        assert policy.record_failure("invalid_output", 31.0) is None
        assert policy.name is HALF_OPEN
        assert policy.allow(31.0) is True

    def test_unhealthy_report_reopens(self):
        """An unhealthy report while half-open reopens it."""
        policy = half_open()
        event = policy.record_health(health(HealthStatus.TIMEOUT, "no answer within 3 s"), 40.0)
        assert event is not None and event.state is OPEN
        assert policy.half_open_at == 70.0
