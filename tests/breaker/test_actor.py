"""The breaker actor under virtual time: guards, cancellation of in-flight calls, the cool-down timer."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from actors.breaker import BreakerOpen, CircuitBreaker, open_breaker
from actors.errors import ConfigError
from actors.llm.outcome import FailureKind, attempt_outcome
from messages.health import BreakerState, BreakerStateName, HealthStatus, LLMHealth

CLOSED, OPEN, HALF_OPEN = BreakerStateName.CLOSED, BreakerStateName.OPEN, BreakerStateName.HALF_OPEN


class Published(list):
    """A publish callable that records what it was given."""

    def __call__(self, message: object) -> None:
        self.append(message)

    @property
    def states(self) -> list[BreakerStateName]:
        return [m.state for m in self if isinstance(m, BreakerState)]


def fail(breaker: CircuitBreaker, kind: str, status: int | None = None) -> None:
    """One attempt failed with ``kind``, as the client's observer reports it."""
    breaker.receive(attempt_outcome(FailureKind(kind), http_status=status))


def succeed(breaker: CircuitBreaker) -> None:
    """One attempt got a valid reply, as the client's observer reports it."""
    breaker.receive(attempt_outcome(None))


def unhealthy(detail: str = "connection refused") -> LLMHealth:
    return LLMHealth("ollama", HealthStatus.UNREACHABLE, 0.0, detail, trio.current_time())


async def test_opens_after_consecutive_timeouts(autojump_clock):
    """Three not-responding attempts open it and publish one OPEN with a specific reason."""
    published = Published()
    async with open_breaker(publish=published) as breaker:
        fail(breaker, "stall")
        fail(breaker, "stall")
        assert published == []
        fail(breaker, "timeout_first_chunk")
        assert breaker.state.state is OPEN
        assert published == [
            BreakerState(
                OPEN, "3 attempts in a row not responding: stall, stall, timeout_first_chunk", trio.current_time()
            )
        ]


async def test_parse_error_does_not_trip_breaker(autojump_clock):
    """Ten invalid outputs in a row leave it closed and publish nothing."""
    published = Published()
    async with open_breaker(publish=published) as breaker:
        for _ in range(10):
            fail(breaker, "invalid_output")
        assert breaker.state.state is CLOSED
        assert published == []
        assert breaker.statistics().consecutive_failures == 0


async def test_success_resets_the_consecutive_count(autojump_clock):
    """stall, deadline, valid reply, stall, unreachable stays closed."""
    published = Published()
    async with open_breaker(publish=published) as breaker:
        fail(breaker, "stall")
        fail(breaker, "deadline")
        succeed(breaker)
        fail(breaker, "stall")
        fail(breaker, "unreachable")
        assert breaker.state.state is CLOSED
        assert breaker.statistics().consecutive_failures == 2


async def test_failure_rate_window_opens(autojump_clock):
    """Answered errors and valid replies alternating: the window opens it once errors exceed 50 %."""
    published = Published()
    async with open_breaker(publish=published, min_calls=6) as breaker:
        for _ in range(3):
            fail(breaker, "http_status", 503)
            await trio.sleep(1)
            succeed(breaker)
        assert breaker.state.state is CLOSED
        assert (breaker.statistics().window_calls, breaker.statistics().window_failures) == (6, 3)
        fail(breaker, "http_status", 502)
        assert published.states == [OPEN]
        assert published[0].reason == (
            "answered errors in 4 of the last 7 answered attempts (57%, over 50% in 30 s), latest http_status 502"
        )


async def test_unhealthy_report_opens_at_once(autojump_clock):
    """An UNREACHABLE report opens it with the report's detail in the reason."""
    published = Published()
    async with open_breaker(publish=published) as breaker:
        event = breaker.receive(unhealthy())
        assert event == BreakerState(OPEN, "health: unreachable — connection refused", trio.current_time())
        assert published == [event]


async def test_protocol_error_counts_as_not_responding(autojump_clock):
    """protocol_error attempts are counted (the old string copy of the kinds lacked it and raised)."""
    published = Published()
    async with open_breaker(publish=published, failures=2) as breaker:
        fail(breaker, "protocol_error")
        assert breaker.statistics().consecutive_failures == 1
        fail(breaker, "protocol_error")
        assert published.states == [OPEN]
        assert breaker.statistics().attempts == 2


async def test_half_opens_after_exactly_the_cooldown(autojump_clock):
    """The timer moves OPEN → HALF_OPEN at exactly 30 s of virtual time."""
    published = Published()
    async with open_breaker(publish=published) as breaker:
        await trio.sleep(5)
        opened_at = trio.current_time()
        breaker.receive(unhealthy())
        await trio.sleep_until(opened_at + 29.999)
        assert breaker.state.state is OPEN
        await trio.sleep_until(opened_at + 30)
        assert breaker.state == BreakerState(HALF_OPEN, "cool-down elapsed", opened_at + 30)
        assert published.states == [OPEN, HALF_OPEN]


async def test_guard_while_open_fails_fast(autojump_clock):
    """Entering the guard while open raises BreakerOpen with no time passing."""
    async with open_breaker(publish=Published()) as breaker:
        breaker.receive(unhealthy())
        before = trio.current_time()
        with pytest.raises(BreakerOpen, match="circuit breaker open: health: unreachable — connection refused") as info:
            async with breaker.guard():
                pytest.fail("the body must not run")  # pragma: no cover
        assert trio.current_time() == before
        assert info.value.in_flight is False
        assert breaker.statistics().rejected == 1


async def test_half_open_allows_one_probe(autojump_clock):
    """In HALF_OPEN the first guard entry is admitted, a second one is refused."""
    async with open_breaker(publish=Published(), cooldown=10) as breaker:
        breaker.receive(unhealthy())
        await trio.sleep(10)
        with breaker.guard() as probe:
            assert probe.probe is True
            with pytest.raises(BreakerOpen, match="half-open, its one probe call is running"):
                with breaker.guard():
                    pass  # pragma: no cover
            succeed(breaker)  # the probe call's attempt answered
        assert breaker.state.state is CLOSED


async def test_probe_success_closes_and_failure_reopens_with_fresh_cooldown(autojump_clock):
    """A failed probe reopens for a full new cool-down; the next probe's success closes it."""
    published = Published()
    async with open_breaker(publish=published) as breaker:
        breaker.receive(unhealthy())
        await trio.sleep(30)
        await trio.sleep(4)  # the probe takes a while before failing
        reopened_at = trio.current_time()
        fail(breaker, "stall")
        assert breaker.state == BreakerState(OPEN, "probe call failed: stall", reopened_at)
        await trio.sleep_until(reopened_at + 29.5)
        assert breaker.state.state is OPEN
        await trio.sleep_until(reopened_at + 30)
        assert breaker.state == BreakerState(HALF_OPEN, "cool-down elapsed", reopened_at + 30)
        succeed(breaker)
        assert breaker.state.reason == "probe call answered"
        assert published.states == [OPEN, HALF_OPEN, OPEN, HALF_OPEN, CLOSED]


async def test_opening_cancels_in_flight_calls_at_once(autojump_clock):
    """Calls sleeping forever inside the guard end with BreakerOpen the moment it opens."""
    ended: list[tuple[float, BreakerOpen]] = []
    permits = []

    async def hung_call(breaker: CircuitBreaker) -> None:
        try:
            with breaker.guard() as permit:
                permits.append(permit)
                await trio.sleep(10_000)  # "forever": a bug fails the test instead of hanging it
        except BreakerOpen as exc:
            ended.append((trio.current_time(), exc))

    async with open_breaker(publish=Published()) as breaker:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(hung_call, breaker)
            nursery.start_soon(hung_call, breaker)
            await trio.testing.wait_all_tasks_blocked()
            await trio.sleep(7)
            assert breaker.in_flight_count == 2
            fail(breaker, "stall")
            fail(breaker, "stall")
            opened_at = trio.current_time()
            fail(breaker, "stall")
        assert [t for t, _ in ended] == [opened_at, opened_at]
        reason = "circuit breaker opened: 3 attempts in a row not responding: stall, stall, stall"
        assert [p.cancel_reason for p in permits] == [reason, reason]
        assert all(exc.in_flight for _, exc in ended)
        assert str(ended[0][1]) == "LLM call cut off: " + reason
        stats = breaker.statistics()
        assert (stats.cut_off, stats.in_flight) == (2, 0)


async def test_the_call_whose_attempt_opens_it_is_cut_off_too(autojump_clock):
    """The guarded call whose own attempt opens the breaker retries no more: it ends with BreakerOpen."""
    async with open_breaker(publish=Published(), failures=1) as breaker:
        with pytest.raises(BreakerOpen) as info:
            with breaker.guard() as permit:
                fail(breaker, "stall")  # the observer, inside the call
                assert breaker.state.state is OPEN
                await trio.sleep(2)  # the retry loop's backoff: cancelled at once
                pytest.fail("the retry must not run")  # pragma: no cover
        assert info.value.in_flight and permit.cancel_reason is not None
        assert breaker.statistics().cut_off == 1


async def test_attempts_while_open_are_counted_late_and_ignored(autojump_clock):
    """A valid reply reported after the opening neither closes it nor shortens the cool-down."""
    async with open_breaker(publish=Published(), cooldown=10) as breaker:
        with breaker.guard() as old:
            breaker.receive(unhealthy())
            succeed(breaker)  # reported after the opening, from a call admitted before it
        assert old.cancel_reason is not None  # marked, but it finished before a checkpoint
        assert breaker.state.state is OPEN
        await trio.sleep(9.9)
        assert breaker.state.state is OPEN
        await trio.sleep(0.1)
        assert breaker.state.state is HALF_OPEN
        assert (breaker.statistics().attempts, breaker.statistics().late_attempts) == (1, 1)


async def test_probe_without_result_frees_the_slot(autojump_clock):
    """A probe that ends without reporting lets the next caller probe, and wakes wait_allowed."""
    async with open_breaker(publish=Published(), cooldown=10) as breaker:
        breaker.receive(unhealthy())
        await trio.sleep(10)
        woke: list[float] = []

        async def waiter() -> None:
            await breaker.wait_allowed()
            woke.append(trio.current_time())

        async with trio.open_nursery() as nursery:
            with breaker.guard():
                nursery.start_soon(waiter)
                await trio.sleep(3)
                assert woke == []
            # left without a deciding attempt
        assert woke == [trio.current_time()]
        with breaker.guard():
            succeed(breaker)
        assert breaker.state.state is CLOSED


async def test_wait_closed_returns_when_closed(autojump_clock):
    """wait_closed() blocks through OPEN and HALF_OPEN and returns on the probe's success."""
    async with open_breaker(publish=Published()) as breaker:
        start = trio.current_time()
        breaker.receive(unhealthy())
        closed_at: list[float] = []

        async def waiter() -> None:
            await breaker.wait_closed()
            closed_at.append(trio.current_time())

        async with trio.open_nursery() as nursery:
            nursery.start_soon(waiter)
            await trio.sleep(31)
            assert closed_at == []
            succeed(breaker)
        assert closed_at == [start + 31] and breaker.state.state is CLOSED
        assert breaker.state.changed_at == start + 31


async def test_every_transition_is_published_in_order(autojump_clock):
    """A full cycle publishes CLOSED→OPEN→HALF_OPEN→OPEN→HALF_OPEN→CLOSED transitions in order."""
    published = Published()
    async with open_breaker(publish=published, cooldown=5) as breaker:
        fail(breaker, "model_missing")
        await trio.sleep(5)
        breaker.receive(LLMHealth("ollama", HealthStatus.TIMEOUT, 3.0, "no answer within 3 s", 0.0))
        await trio.sleep(5)
        succeed(breaker)
    assert [(m.state, m.reason) for m in published] == [
        (OPEN, "model_missing (no call can succeed)"),
        (HALF_OPEN, "cool-down elapsed"),
        (OPEN, "health: timeout — no answer within 3 s"),
        (HALF_OPEN, "cool-down elapsed"),
        (CLOSED, "probe call answered"),
    ]
    assert [m.changed_at for m in published] == sorted(m.changed_at for m in published)
    assert breaker.statistics().transitions == 5


async def test_publish_failure_does_not_stop_the_opening(autojump_clock, caplog):
    """A publish that raises is logged and counted; the breaker still opens and cuts calls off."""

    def broken(_message: object) -> None:
        raise RuntimeError("bus down")

    async with open_breaker(publish=broken, failures=1) as breaker:
        cut: list[BreakerOpen] = []

        async def hung() -> None:
            try:
                with breaker.guard():
                    await trio.sleep(10_000)
            except BreakerOpen as exc:
                cut.append(exc)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(hung)
            await trio.testing.wait_all_tasks_blocked()
            fail(breaker, "unreachable")
        assert breaker.state.state is OPEN and len(cut) == 1
        assert breaker.statistics().publish_errors == 1
        assert "publishing the breaker state failed" in caplog.text


async def test_bad_inputs_are_clear_errors(autojump_clock):
    """Unknown settings and message types are named in the error."""
    with pytest.raises(ConfigError, match="unknown breaker setting 'failure'; expected one of failures"):
        async with open_breaker(publish=Published(), failure=3):
            pass  # pragma: no cover
    with pytest.raises(ConfigError, match="breaker cooldown must be"):
        async with open_breaker(publish=Published(), cooldown=0):
            pass  # pragma: no cover
    async with open_breaker(publish=Published()) as breaker:
        with pytest.raises(TypeError, match="receives AttemptOutcome or LLMHealth, got str"):
            breaker.receive("stall")
        assert breaker.statistics().attempts == 0


async def test_consume_feeds_messages_from_a_channel(autojump_clock):
    """consume() applies each message from a channel until it closes."""
    published = Published()
    async with open_breaker(publish=published) as breaker:
        send, receive = trio.open_memory_channel[object](10)
        async with send:
            send.send_nowait(attempt_outcome(FailureKind.STALL))
            send.send_nowait(unhealthy("refused"))
        await breaker.consume(receive)
        assert published.states == [OPEN]
        assert breaker.statistics().consecutive_failures == 1


async def test_timer_publishes_half_open_without_being_asked(autojump_clock):
    """With nobody reading the state, the timer task itself publishes HALF_OPEN at the cool-down's end."""
    published = Published()
    async with open_breaker(publish=published, cooldown=12.5) as breaker:
        opened_at = trio.current_time()
        breaker.receive(unhealthy())
        await trio.sleep(100)
        assert [(m.state, m.changed_at) for m in published] == [(OPEN, opened_at), (HALF_OPEN, opened_at + 12.5)]
