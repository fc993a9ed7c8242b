"""One-for-one supervision: restart types, restart limit, escalation, ordered shutdown."""

from __future__ import annotations

import logging

import attrs
import pytest
import trio
import trio.testing

from actors.runtime import (
    ActorDied,
    ChildSpec,
    Restart,
    SupervisorEscalation,
    answer,
    open_supervisor,
    request,
    stop,
)


@attrs.frozen
class Crash:
    why: str


@attrs.frozen
class Quit:
    pass


async def member(inbox, log, name, *, task_status=trio.TASK_STATUS_IGNORED):
    """Crashes on Crash, returns on Quit, answers Requests with (name, incarnation-local count)."""
    log.append(("up", name))
    task_status.started()
    handled = 0
    try:
        async for message in inbox:
            if isinstance(message, Crash):
                raise RuntimeError(message.why)
            if isinstance(message, Quit):
                return
            handled += 1
            answer(message, (name, handled))
    finally:
        log.append(("down", name))


def spec(name, log, **options):
    return ChildSpec(name, member, args=(log, name), **options)


async def test_crashed_child_is_restarted_on_the_same_address(autojump_clock, caplog):
    """A crash restarts the child; its Address keeps working; the restart is logged at WARNING."""
    log = []
    with caplog.at_level(logging.WARNING, logger="actors.runtime.supervisor"):
        async with open_supervisor(name="sup") as sup:
            address = await sup.start(spec("fetcher", log))
            assert await request(address, "ping", timeout=1) == ("fetcher", 1)
            await address.send(Crash("provider blew up"))
            assert await request(address, "ping", timeout=1) == ("fetcher", 1)
            stats = sup.statistics()
            assert stats.restarts == {"fetcher": 1}
            assert stats.children[0].last_error == "RuntimeError('provider blew up')"
            assert stats.children[0].running
    assert log.count(("up", "fetcher")) == 2
    restarts = [r for r in caplog.records if r.levelno == logging.WARNING and "restarting" in r.message]
    assert len(restarts) == 1
    assert "'fetcher'" in restarts[0].message and "provider blew up" in restarts[0].message


async def test_messages_queued_during_a_crash_reach_the_next_incarnation(autojump_clock):
    """The inbox outlives the crashed task: messages behind the fatal one are handled after restart."""
    log = []
    async with open_supervisor() as sup:
        address = await sup.start(spec("persister", log))
        await address.send(Crash("disk hiccup"))
        await address.send(Crash("again"))
        assert await request(address, "write", timeout=1) == ("persister", 1)
        assert sup.statistics().restarts == {"persister": 2}


async def test_restarts_within_the_limit_do_not_escalate(autojump_clock):
    """Exactly max_restarts crashes within the window are tolerated."""
    log = []
    async with open_supervisor() as sup:
        address = await sup.start(spec("a", log, max_restarts=3, within=5))
        for n in range(3):
            await address.send(Crash(f"crash {n}"))
        assert await request(address, "ping", timeout=1) == ("a", 1)
        assert sup.statistics().restarts == {"a": 3}


async def test_crashes_spread_wider_than_the_window_never_escalate(autojump_clock):
    """Crashes further apart than `within` seconds leave the window and do not add up."""
    log = []
    async with open_supervisor() as sup:
        address = await sup.start(spec("a", log, max_restarts=2, within=5))
        for n in range(6):
            await address.send(Crash(f"crash {n}"))
            await trio.sleep(3)
        assert sup.statistics().restarts == {"a": 6}


async def test_escalation_past_the_limit_stops_the_others_in_reverse_order(autojump_clock):
    """One crash too many: SupervisorEscalation names the child and chains its last error; others stop in reverse order."""
    log = []
    with pytest.raises(SupervisorEscalation) as info:
        async with open_supervisor() as sup:
            await sup.start(spec("persister", log))
            flaky = await sup.start(spec("fetcher", log, max_restarts=2, within=5))
            await sup.start(spec("scorer", log))
            await sup.start(spec("debate", log))
            for n in range(3):
                await flaky.send(Crash(f"crash {n}"))
            await trio.sleep(60)  # cancelled by the escalation
            pytest.fail("the block was not cancelled by the escalation")
    error = info.value
    assert error.actor == "fetcher"
    assert isinstance(error.__cause__, RuntimeError) and str(error.__cause__) == "crash 2"
    assert error.last_error is error.__cause__
    assert str(error) == (
        "actor 'fetcher' exceeded its restart limit (2 restarts within 5s); last error: RuntimeError('crash 2')"
    )
    downs = [name for event, name in log if event == "down" and name != "fetcher"]
    assert downs == ["debate", "scorer", "persister"]
    assert sup.statistics().escalated


async def test_escalation_before_the_child_is_ever_ready_raises_from_start(autojump_clock):
    """A child that crashes before its first started() escalates through start() and open_supervisor."""
    attempts = []

    async def never_ready(inbox, *, task_status=trio.TASK_STATUS_IGNORED):
        attempts.append(trio.current_time())
        raise OSError("cannot open database")

    with pytest.raises(SupervisorEscalation, match="'store'.*OSError") as info:
        async with open_supervisor() as sup:
            await sup.start(ChildSpec("store", never_ready, max_restarts=1))
            pytest.fail("start() returned for a child that was never ready")
    assert isinstance(info.value.__cause__, OSError)
    assert len(attempts) == 2


async def test_a_child_not_restarted_before_ready_raises_its_own_error_from_start(autojump_clock):
    """restart_before_ready=False: the first failure before started() is raised as is, no restart;
    the children already started are stopped and the error leaves open_supervisor alone."""
    attempts = []
    stopped = []

    async def never_ready(inbox, *, task_status=trio.TASK_STATUS_IGNORED):
        attempts.append(trio.current_time())
        raise OSError("cannot open database")

    async def first(inbox, *, task_status=trio.TASK_STATUS_IGNORED):
        task_status.started()
        try:
            async for _ in inbox:
                pass
        finally:
            stopped.append("first")

    with pytest.raises(OSError, match="cannot open database"):
        async with open_supervisor() as sup:
            await sup.start(ChildSpec("first", first))
            await sup.start(ChildSpec("store", never_ready, max_restarts=3, restart_before_ready=False))
            pytest.fail("start() returned for a child that was never ready")
    assert len(attempts) == 1
    assert stopped == ["first"]


async def test_permanent_child_is_restarted_even_after_returning(autojump_clock):
    """A permanent child that returns normally is restarted."""
    log = []
    async with open_supervisor() as sup:
        address = await sup.start(spec("health", log, restart=Restart.PERMANENT))
        await address.send(Quit())
        assert await request(address, "ping", timeout=1) == ("health", 1)
        assert sup.statistics().restarts == {"health": 1}


async def test_transient_child_is_restarted_after_a_crash_but_not_after_returning(autojump_clock):
    """A transient child restarts when it raises and stays down when it returns."""
    log = []
    async with open_supervisor() as sup:
        address = await sup.start(spec("coordinator", log, restart=Restart.TRANSIENT))
        await address.send(Crash("bad phase"))
        assert await request(address, "ping", timeout=1) == ("coordinator", 1)
        await address.send(Quit())
        await trio.testing.wait_all_tasks_blocked()
        with pytest.raises(ActorDied, match="'coordinator'"):
            await request(address, "ping", timeout=1)
        assert sup.statistics().restarts == {"coordinator": 1}
        assert not sup.statistics().children[0].running


async def test_temporary_child_is_never_restarted(autojump_clock):
    """A temporary child that crashes stays down; its address reports ActorDied; nothing escalates."""
    log = []
    async with open_supervisor() as sup:
        address = await sup.start(spec("one-off", log, restart=Restart.TEMPORARY))
        await address.send(Crash("done for"))
        await trio.testing.wait_all_tasks_blocked()
        with pytest.raises(ActorDied, match="'one-off'"):
            await request(address, "ping", timeout=1)
        assert sup.statistics().restarts == {"one-off": 0}
    assert log == [("up", "one-off"), ("down", "one-off")]


async def test_leaving_the_block_stops_children_in_reverse_start_order(autojump_clock):
    """Ordered shutdown: the last started child stops first, and nothing is left running."""
    log = []
    async with trio.open_nursery() as outer:
        async with open_supervisor() as sup:
            for name in ("persister", "fetcher", "scorer"):
                await sup.start(spec(name, log))
        assert outer.child_tasks == frozenset()
    assert [name for event, name in log if event == "down"] == ["scorer", "fetcher", "persister"]
    assert sup.statistics().restarts == {"persister": 0, "fetcher": 0, "scorer": 0}
    assert not any(child.running for child in sup.statistics().children)


async def test_supervisor_stop_cancels_a_stuck_child_at_its_deadline(autojump_clock):
    """A child that ignores its closed inbox is cancelled at its stop_deadline and not restarted."""
    cancelled_at = []

    async def stubborn(inbox, *, task_status=trio.TASK_STATUS_IGNORED):
        task_status.started()
        try:
            await trio.sleep_forever()
        except trio.Cancelled:
            cancelled_at.append(trio.current_time())
            raise

    async with open_supervisor() as sup:
        address = await sup.start(ChildSpec("stubborn", stubborn, stop_deadline=4))
    assert cancelled_at == [4.0]
    assert address.statistics().cancel_reason == "did not stop within 4s of its inbox closing"
    assert sup.statistics().restarts == {"stubborn": 0}


async def test_start_rejects_duplicate_names_and_start_after_stop():
    """Child names are unique, and a stopping supervisor starts nothing."""
    log = []
    async with open_supervisor(name="sup") as sup:
        await sup.start(spec("a", log))
        with pytest.raises(ValueError, match="supervisor 'sup' already has a child named 'a'"):
            await sup.start(spec("a", log))
        await sup.stop()
        with pytest.raises(RuntimeError, match="supervisor 'sup' is stopping"):
            await sup.start(spec("b", log))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_restarts": -1}, "ChildSpec.max_restarts must be an int >= 0, got -1"),
        ({"within": 0}, "ChildSpec.within must be a finite number of seconds > 0, got 0"),
        ({"stop_deadline": float("inf")}, "ChildSpec.stop_deadline must be a finite number"),
        ({"restart": "permanent"}, "ChildSpec.restart must be a Restart member"),
        ({"capacity": 1.5}, "ChildSpec.capacity must be an int >= 0"),
    ],
)
def test_child_spec_rejects_bad_settings_naming_the_field(options, message):
    """Bad ChildSpec settings raise ValueError naming the field and what is allowed."""
    with pytest.raises(ValueError, match=message):
        ChildSpec("x", member, **options)



async def test_an_error_in_the_block_stops_children_and_propagates_unwrapped(autojump_clock):
    """An exception in the supervised block stops the children in order and comes out as itself."""
    log = []
    with pytest.raises(LookupError, match="no such ticker"):
        async with open_supervisor() as sup:
            await sup.start(spec("a", log))
            await sup.start(spec("b", log))
            raise LookupError("no such ticker")
    assert [name for event, name in log if event == "down"] == ["b", "a"]


async def test_a_supervised_child_stopped_on_its_own_is_not_restarted(autojump_clock):
    """stop() on one permanent child ends it for good; its siblings keep running."""
    log = []
    async with open_supervisor() as sup:
        first = await sup.start(spec("a", log))
        second = await sup.start(spec("b", log))
        assert await stop(first, deadline=1) is True
        await trio.testing.wait_all_tasks_blocked()
        assert sup.statistics().restarts == {"a": 0, "b": 0}
        assert [child.running for child in sup.statistics().children] == [False, True]
        assert await request(second, "ping", timeout=1) == ("b", 1)
