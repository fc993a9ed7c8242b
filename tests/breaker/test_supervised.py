"""The breaker as a supervised actor: admission by message, cut-off by permit, crash → restart."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from actors.breaker.actor import BreakerOpen, Permit
from actors.breaker.supervised import RESTARTED, AttemptReporter, BreakerClient, BreakerHome, breaker_actor
from actors.config import Settings
from actors.debate.wiring import breaker_settings
from actors.llm.outcome import FailureKind, attempt_outcome
from actors.runtime import ChildSpec, Request, SupervisorEscalation, open_supervisor
from messages.health import BreakerState, BreakerStateName, HealthStatus, LLMCallsInFlight, LLMHealth
from messages.llm import Admit
from tests.debate.fakes import breaker_actor_from

CLOSED, OPEN = BreakerStateName.CLOSED, BreakerStateName.OPEN
STALL = attempt_outcome(FailureKind.STALL)


def states(published: list) -> list[tuple[BreakerStateName, str]]:
    return [(e.state, e.reason) for e in published if isinstance(e, BreakerState)]


async def test_admit_answers_a_permit_and_refuses_while_open(autojump_clock):
    """Admit gets a permit while closed; after the opening attempt it is answered BreakerOpen."""
    published: list = []
    async with breaker_actor_from(Settings(breaker_failures=1), published.append) as breaker:
        permit = await breaker.client.admit()
        breaker.client.end(permit)
        breaker.address.send_nowait(STALL)
        with pytest.raises(BreakerOpen) as info:
            await breaker.client.admit()
        assert not info.value.in_flight and info.value.state.state is OPEN
        assert breaker.statistics().rejected == 1 and breaker.statistics().in_flight == 0


async def test_opening_cuts_off_the_calls_in_flight_and_publishes_calls_in_flight(autojump_clock):
    """Two calls hung in guards end with BreakerOpen(in_flight) the instant the opening attempt is read."""
    published: list = []
    ended: list[tuple[float, BreakerOpen]] = []

    async def hung_call(client) -> None:
        try:
            async with client.guard():
                await trio.sleep(10_000)
        except BreakerOpen as exc:
            ended.append((trio.current_time(), exc))

    async with breaker_actor_from(Settings(breaker_failures=1), published.append) as breaker:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(hung_call, breaker.client)
            nursery.start_soon(hung_call, breaker.client)
            await trio.sleep(5)
            assert breaker.statistics().in_flight == 2
            opened_at = trio.current_time()
            AttemptReporter(breaker.address)(STALL)
        assert [t for t, _ in ended] == [opened_at, opened_at]
        assert all(exc.in_flight and exc.state.state is OPEN for _, exc in ended)
        assert breaker.statistics().cut_off == 2
        calls = [(e.count, e.at) for e in published if isinstance(e, LLMCallsInFlight)]
        assert calls == [(1, 0.0), (0, opened_at)]


async def crash_then_admit(address) -> object:
    """Queue a message the breaker cannot handle, then an Admit behind it; return the answer."""
    address.send_nowait("not a message")
    reply_to, replies = trio.open_memory_channel(1)
    address.send_nowait(Request(Admit(user="test"), reply_to))
    return await replies.receive()


async def test_crash_rebuilds_an_open_breaker_closed_and_answers_the_queued_admit(autojump_clock):
    """Open, then crashed by a bad message: restarted on the same inbox, the Admit queued behind the
    bad message gets a permit, and the CLOSED state it was rebuilt in is published."""
    published: list = []
    home = BreakerHome(breaker_settings(Settings(breaker_failures=1)), published.append)
    async with open_supervisor(name="test") as supervisor:
        address = await supervisor.start(ChildSpec("llm-breaker", breaker_actor, args=(home,), capacity=64))
        address.send_nowait(STALL)
        await trio.testing.wait_all_tasks_blocked()
        assert home.current.state.state is OPEN
        permit = await crash_then_admit(address)
        assert isinstance(permit, Permit)
        assert supervisor.statistics().restarts == {"llm-breaker": 1}
        assert home.incarnations == 2 and home.current.state.state is CLOSED
        assert states(published) == [(OPEN, "1 attempts in a row not responding: stall"), (CLOSED, RESTARTED)]


async def test_calls_admitted_before_a_crash_are_still_cut_off(autojump_clock):
    """The new incarnation adopts the in-flight permits: its first opening cuts off the call admitted
    by the crashed one as well as its own."""
    home = BreakerHome(breaker_settings(Settings(breaker_failures=2)), lambda e: None)
    cut_off: list[BreakerOpen] = []

    async def hung_call(client, task_status=trio.TASK_STATUS_IGNORED) -> None:
        try:
            async with client.guard():
                task_status.started()
                await trio.sleep(10_000)
        except BreakerOpen as exc:
            cut_off.append(exc)

    async with open_supervisor(name="test") as supervisor:
        address = await supervisor.start(ChildSpec("llm-breaker", breaker_actor, args=(home,), capacity=64))
        client = BreakerClient(address)
        async with trio.open_nursery() as nursery:
            await nursery.start(hung_call, client)
            address.send_nowait(STALL)  # one of two: still closed
            permit = await crash_then_admit(address)
            assert home.current.statistics().consecutive_failures == 0  # rebuilt from nothing
            assert home.current.statistics().in_flight == 2
            with permit.scope:
                address.send_nowait(STALL)
                address.send_nowait(STALL)
                await trio.sleep(10_000)
        assert len(cut_off) == 1 and cut_off[0].in_flight
        assert permit.scope.cancelled_caught and permit.cancel_reason.startswith("circuit breaker opened")
        assert home.current.statistics().cut_off == 2 and home.current.statistics().in_flight == 0


async def test_crash_loop_escalates_naming_the_breaker(autojump_clock):
    """Four crashes within the window (3 restarts allowed) stop the supervisor with one error naming it."""
    home = BreakerHome(breaker_settings(Settings()), lambda e: None)
    with pytest.raises(SupervisorEscalation) as info:
        async with open_supervisor(name="test") as supervisor:
            address = await supervisor.start(ChildSpec("llm-breaker", breaker_actor, args=(home,), within=60.0))
            for _ in range(4):
                address.send_nowait("not a message")
                await trio.sleep(1)
            await trio.sleep_forever()
    assert info.value.actor == "llm-breaker" and isinstance(info.value.last_error, TypeError)


async def test_attempts_beyond_a_full_inbox_are_counted_not_waited_for(autojump_clock):
    """The observer never blocks a call: with the breaker's inbox full, an attempt is dropped and counted."""
    async with breaker_actor_from(Settings(), lambda e: None) as breaker:
        capacity = breaker.address.statistics().inbox_capacity
        reporter = AttemptReporter(breaker.address)
        for _ in range(capacity + 5):  # no checkpoint: the breaker cannot read meanwhile
            reporter(attempt_outcome(None))
        # The inbox holds ``capacity``; the breaker, waiting on it, takes one more straight from the send.
        assert reporter.dropped == 4
        await trio.testing.wait_all_tasks_blocked()
        assert breaker.statistics().attempts == capacity + 1


async def test_admits_behind_a_half_open_probe_wait_for_its_verdict(autojump_clock):
    """Half-open: the first Admit is the probe; the next two are held, not refused. The probe's
    answered attempt closes the breaker and both get permits; a failing probe refuses them instead."""
    for verdict, expected in ((attempt_outcome(None), "permits"), (STALL, "refused")):
        async with breaker_actor_from(Settings(breaker_cooldown=30.0), lambda e: None) as breaker:
            breaker.address.send_nowait(
                LLMHealth("ollama", HealthStatus.UNREACHABLE, 0.0, "refused", trio.current_time()))
            await trio.sleep(30)  # the cool-down: half-open
            probe = await breaker.client.admit()
            answers: list[object] = []

            async def admit_held() -> None:
                try:
                    answers.append(await breaker.client.admit())
                except BreakerOpen as exc:
                    answers.append(exc)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(admit_held)
                nursery.start_soon(admit_held)
                await trio.sleep(5)  # the probe call runs
                assert answers == []
                breaker.address.send_nowait(verdict)
            breaker.client.end(probe)
            if expected == "permits":
                assert [type(a) for a in answers] == [Permit, Permit]
                assert breaker.statistics().state is CLOSED
            else:
                assert [type(a) for a in answers] == [BreakerOpen, BreakerOpen]
                assert breaker.statistics().state is OPEN
