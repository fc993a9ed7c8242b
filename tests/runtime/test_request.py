"""request(): one answer, a timeout, or ActorDied; never a hang."""

from __future__ import annotations

import attrs
import pytest
import trio

from actors.runtime import (
    ActorDied,
    Failure,
    Request,
    RequestTimeout,
    answer,
    answering,
    request,
    spawn,
)


@attrs.frozen
class Ask:
    value: int
    delay: float = 0.0


async def answerer(inbox, *, task_status=trio.TASK_STATUS_IGNORED):
    """Answers Ask(value) with value * 2 after `delay`; negative values get a Failure."""
    task_status.started()
    async for envelope in inbox:
        await trio.sleep(envelope.payload.delay)
        if envelope.payload.value < 0:
            answer(envelope, Failure(ValueError(f"negative: {envelope.payload.value}")))
        else:
            answer(envelope, envelope.payload.value * 2)


async def test_request_returns_the_answer(autojump_clock):
    """The answer value comes back to the caller."""
    async with trio.open_nursery() as nursery:
        address = await spawn(nursery, answerer, name="doubler")
        assert await request(address, Ask(21, delay=1), timeout=5) == 42
        assert trio.current_time() == 1.0
        address.close()


async def test_slow_actor_raises_request_timeout_at_the_timeout(autojump_clock):
    """A slow answer raises RequestTimeout naming the actor, exactly at the timeout."""
    async with trio.open_nursery() as nursery:
        address = await spawn(nursery, answerer, name="doubler")
        with pytest.raises(RequestTimeout, match=r"actor 'doubler' did not answer Ask within 2s") as info:
            await request(address, Ask(1, delay=30), timeout=2)
        assert trio.current_time() == 2.0
        assert info.value.actor == "doubler"
        assert not isinstance(info.value, trio.TooSlowError)
        address.close()


async def test_request_timeout_is_not_swallowed_by_a_generic_too_slow_handler(autojump_clock):
    """`except trio.TooSlowError` around a request does not catch RequestTimeout."""
    async with trio.open_nursery() as nursery:
        address = await spawn(nursery, answerer, name="doubler")
        with pytest.raises(RequestTimeout):
            try:
                await request(address, Ask(1, delay=30), timeout=2)
            except trio.TooSlowError:
                pytest.fail("RequestTimeout was caught as trio.TooSlowError")
        address.close()


async def test_a_full_inbox_counts_against_the_timeout(autojump_clock):
    """Waiting for room in a full inbox is bounded by the same timeout."""

    async def idle(inbox, *, task_status=trio.TASK_STATUS_IGNORED):
        task_status.started()
        await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        address = await spawn(nursery, idle, name="idle", capacity=0)
        with pytest.raises(RequestTimeout):
            await request(address, Ask(1), timeout=3)
        assert trio.current_time() == 3.0
        nursery.cancel_scope.cancel()


async def test_request_to_a_closed_inbox_raises_actor_died_at_once(autojump_clock):
    """A closed inbox gives ActorDied naming the actor without waiting."""
    async with trio.open_nursery() as nursery:
        address = await spawn(nursery, answerer, name="gone")
        address.close()
        with pytest.raises(ActorDied, match="'gone'"):
            await request(address, Ask(1), timeout=10)
        assert trio.current_time() == 0.0


async def test_reply_channel_closed_without_answer_raises_actor_died(autojump_clock):
    """An actor that closes the reply channel without answering gives ActorDied."""

    async def rude(inbox, *, task_status=trio.TASK_STATUS_IGNORED):
        task_status.started()
        async for envelope in inbox:
            envelope.reply_to.close()

    async with trio.open_nursery() as nursery:
        address = await spawn(nursery, rude, name="rude")
        with pytest.raises(ActorDied, match="'rude' closed the reply to Ask without answering"):
            await request(address, Ask(1), timeout=10)
        assert trio.current_time() == 0.0
        address.close()


async def test_failure_answer_reraises_its_error():
    """An answer of Failure(error) raises that very error in the caller."""
    async with trio.open_nursery() as nursery:
        address = await spawn(nursery, answerer, name="doubler")
        with pytest.raises(ValueError, match="negative: -3"):
            await request(address, Ask(-3), timeout=5)
        address.close()


async def test_answering_turns_a_crash_into_a_failure_answer(autojump_clock):
    """With answering(), an actor that crashes on a request makes the caller see the error at once."""

    async def crasher(inbox, *, task_status=trio.TASK_STATUS_IGNORED):
        task_status.started()
        envelope = await inbox.receive()
        with answering(envelope):
            raise KeyError("ticker")

    with pytest.raises(ExceptionGroup) as group:
        async with trio.open_nursery() as nursery:
            address = await spawn(nursery, crasher, name="crasher")
            with pytest.raises(KeyError, match="ticker"):
                await request(address, Ask(1), timeout=10)
            assert trio.current_time() == 0.0
    assert group.group_contains(KeyError)


async def test_answer_after_the_caller_timed_out_does_not_raise(autojump_clock):
    """answer() to a caller that has gone away is silently ignored."""
    outcome = []

    async def late(inbox, *, task_status=trio.TASK_STATUS_IGNORED):
        task_status.started()
        envelope = await inbox.receive()
        await trio.sleep(5)
        answer(envelope, 1)
        outcome.append("answered without error")

    async with trio.open_nursery() as nursery:
        address = await spawn(nursery, late, name="late")
        with pytest.raises(RequestTimeout):
            await request(address, Ask(1), timeout=1)
    assert outcome == ["answered without error"]


@pytest.mark.parametrize("timeout", [0, -1, float("inf"), float("nan"), "5"])
async def test_request_rejects_a_timeout_that_could_hang_or_is_not_a_number(timeout):
    """The timeout must be a finite positive number of seconds."""
    async with trio.open_nursery() as nursery:
        address = await spawn(nursery, answerer, name="doubler")
        with pytest.raises(ValueError, match="request timeout must be a finite number of seconds > 0"):
            await request(address, Ask(1), timeout=timeout)
        address.close()


def test_request_envelope_keeps_payload_and_hides_reply_channel():
    """Request is frozen, compares by payload and does not print its channel."""
    send, receive = trio.open_memory_channel(1)
    with send, receive:
        envelope = Request(Ask(1), send)
        assert repr(envelope) == "Request(payload=Ask(value=1, delay=0.0))"
        assert envelope == Request(Ask(1), trio.open_memory_channel(1)[0])
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            envelope.payload = Ask(2)
