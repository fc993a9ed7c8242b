"""Spawning, addresses, graceful stop and stop deadlines, under virtual time."""

from __future__ import annotations

import attrs
import pytest
import trio
import trio.testing

from actors.runtime import ActorDied, request, spawn, stop


@attrs.frozen
class Work:
    n: int
    seconds: float = 0.0


async def worker(inbox, log, *, task_status=trio.TASK_STATUS_IGNORED):
    """Handles Work messages (sleeping `seconds`), recording start and end of each."""
    task_status.started()
    async for message in inbox:
        log.append(("start", message.n))
        await trio.sleep(message.seconds)
        log.append(("done", message.n))
    log.append(("exit", None))


async def test_spawn_returns_address_only_after_actor_is_ready(autojump_clock):
    """spawn() waits for task_status.started(), however long the actor takes to get ready."""
    events = []

    async def slow_starter(inbox, *, task_status=trio.TASK_STATUS_IGNORED):
        await trio.sleep(3)
        events.append(("ready", trio.current_time()))
        task_status.started()
        async for _ in inbox:
            pass

    async with trio.open_nursery() as nursery:
        address = await spawn(nursery, slow_starter, name="slow")
        events.append(("spawned", trio.current_time()))
        assert address.name == "slow"
        address.close()
    assert events == [("ready", 3.0), ("spawned", 3.0)]


async def test_spawn_raises_what_the_actor_raised_before_ready():
    """An actor failing before started() makes spawn() raise its error, with no address."""

    async def broken(inbox, *, task_status=trio.TASK_STATUS_IGNORED):
        raise OSError("no database")

    async with trio.open_nursery() as nursery:
        with pytest.raises(OSError, match="no database"):
            await spawn(nursery, broken, name="broken")


async def test_send_nowait_raises_would_block_when_inbox_is_full():
    """The inbox is bounded: capacity messages fit, the next raises WouldBlock; depth is reported."""

    async def idle(inbox, *, task_status=trio.TASK_STATUS_IGNORED):
        task_status.started()
        await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        address = await spawn(nursery, idle, name="idle", capacity=2)
        address.send_nowait(Work(1))
        address.send_nowait(Work(2))
        with pytest.raises(trio.WouldBlock):
            address.send_nowait(Work(3))
        stats = address.statistics()
        assert (stats.inbox_depth, stats.inbox_capacity, stats.running) == (2, 2, True)
        nursery.cancel_scope.cancel()


async def test_send_to_closed_address_raises_actor_died_naming_it():
    """After close(), send and send_nowait raise ActorDied naming the actor."""
    log = []
    async with trio.open_nursery() as nursery:
        address = await spawn(nursery, worker, log, name="persister")
        address.close()
        with pytest.raises(ActorDied, match="'persister'"):
            await address.send(Work(1))
        with pytest.raises(ActorDied, match="'persister'"):
            address.send_nowait(Work(1))


async def test_graceful_stop_finishes_message_in_hand_and_queued_ones(autojump_clock):
    """stop() closes the inbox; the actor finishes the message in hand and the queued one, then exits."""
    log = []
    async with trio.open_nursery() as nursery:
        address = await spawn(nursery, worker, log, name="worker")
        await address.send(Work(1, seconds=2))
        await address.send(Work(2, seconds=1))
        await trio.testing.wait_all_tasks_blocked()
        assert log == [("start", 1)]
        stopped_by_itself = await stop(address, deadline=10)
        assert stopped_by_itself is True
        assert trio.current_time() == 3.0
    assert log == [("start", 1), ("done", 1), ("start", 2), ("done", 2), ("exit", None)]
    assert address.statistics().cancel_reason is None


async def test_stop_deadline_cancels_a_stuck_actor_and_records_why(autojump_clock):
    """An actor still busy at the deadline is cancelled; the reason is recorded and seen by the actor."""
    seen = []

    async def stuck(inbox, *, task_status=trio.TASK_STATUS_IGNORED):
        task_status.started()
        async for _ in inbox:
            try:
                await trio.sleep_forever()
            except trio.Cancelled as exc:
                seen.append(getattr(exc, "reason", None))
                raise

    async with trio.open_nursery() as nursery:
        address = await spawn(nursery, stuck, name="stuck")
        await address.send(Work(1))
        start = trio.current_time()
        assert await stop(address, deadline=2.5) is False
        assert trio.current_time() - start == 2.5
    reason = address.statistics().cancel_reason
    assert reason == "did not stop within 2.5s of its inbox closing"
    if hasattr(trio.Cancelled, "reason"):  # trio >= 0.31 carries the reason on the exception
        assert seen == [reason]


async def test_no_task_is_left_running_after_stop(autojump_clock):
    """After stop() the nursery has no child tasks and exits at once."""
    log = []
    async with trio.open_nursery() as nursery:
        address = await spawn(nursery, worker, log, name="a")
        other = await spawn(nursery, worker, log, name="b")
        assert len(nursery.child_tasks) == 2
        await stop(address, deadline=1)
        await stop(other, deadline=1)
        assert nursery.child_tasks == frozenset()
        exit_started = trio.current_time()
    assert trio.current_time() == exit_started
    assert not address.statistics().running


async def test_queued_request_is_released_with_actor_died_when_actor_exits(autojump_clock):
    """A Request still queued when the actor exits gets ActorDied at once, not a timeout."""

    async def one_shot(inbox, *, task_status=trio.TASK_STATUS_IGNORED):
        task_status.started()
        await inbox.receive()
        await trio.sleep(1)  # exits after one message, leaving the rest queued

    async with trio.open_nursery() as nursery:
        address = await spawn(nursery, one_shot, name="one-shot")
        await address.send(Work(0))
        with pytest.raises(ActorDied, match="'one-shot' closed the reply to str without answering"):
            await request(address, "hello", timeout=60)
        assert trio.current_time() == 1.0
        assert address.closed
        with pytest.raises(ActorDied):
            await address.send(Work(1))


async def test_spawn_rejects_bad_name_and_capacity():
    """Bad spawn arguments give a ValueError naming the problem."""

    async def nothing(inbox, *, task_status=trio.TASK_STATUS_IGNORED):
        task_status.started()

    async with trio.open_nursery() as nursery:
        with pytest.raises(ValueError, match="capacity of 'x'.*>= 0, got -1"):
            await spawn(nursery, nothing, name="x", capacity=-1)
        with pytest.raises(ValueError, match="actor name must be a non-empty string"):
            await spawn(nursery, nothing, name="")


async def test_stop_rejects_infinite_deadline():
    """stop() needs a finite deadline: an unbounded stop could hang."""
    log = []
    async with trio.open_nursery() as nursery:
        address = await spawn(nursery, worker, log, name="w")
        with pytest.raises(ValueError, match="finite number of seconds >= 0, got inf"):
            await stop(address, deadline=float("inf"))
        address.close()
