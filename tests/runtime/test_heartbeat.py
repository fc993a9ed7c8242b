"""Heartbeats through the inbox: answered by any actor that takes messages, invisible to it, aged by a wedged one."""

from __future__ import annotations

import trio

from actors.runtime import ChildSpec, Request, answer, open_supervisor, request, spawn


async def recorder(inbox, seen: list, *, task_status=trio.TASK_STATUS_IGNORED):
    task_status.started()
    async for message in inbox:
        seen.append(message)
        if isinstance(message, Request):
            if message.payload == "wedge":
                await trio.sleep_forever()
            answer(message, "ok")


async def test_a_heartbeat_is_taken_by_the_runtime_and_never_reaches_the_actor(autojump_clock):
    """beat() then a message: the actor sees only the message; the heartbeat age is back to 0."""
    seen: list = []
    async with trio.open_nursery() as nursery:
        address = await spawn(nursery, recorder, seen, name="r")
        address.beat()
        address.beat()  # one at a time: the second is not sent
        assert await request(address, "ping", timeout=5) == "ok"
        assert seen == [seen[0]] and seen[0].payload == "ping"
        assert address.heartbeat_age() == 0.0
        address.close()


async def test_an_idle_actor_answers_at_once_and_a_wedged_one_lets_it_age(autojump_clock):
    """Idle: the heartbeat is taken at once. Wedged in a handler: its age grows with the clock."""
    seen: list = []
    async with open_supervisor(name="s") as sup:
        address = await sup.start(ChildSpec("r", recorder, args=(seen,)))
        address.beat()
        await trio.sleep(1)
        assert sup.stale(0.5) == ()
        await address.send(Request("wedge", trio.open_memory_channel(1)[0]))
        await trio.sleep(1)
        sup.beat()
        await trio.sleep(30)
        assert address.heartbeat_age() == 30.0
        assert sup.stale(10) == ("r",) and sup.stale(60) == ()
        await sup.stop()  # the wedged actor is cancelled past its stop deadline
