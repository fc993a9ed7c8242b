"""actors.serving under the real supervisor: a handler's crash answers what is in hand, the rest waits.

One request makes the handler raise; the ones sent right behind it are either in hand at the
crash (answered with HandlerCrashed naming the error) or still queued in the inbox (answered
by the restarted incarnation). None is lost or left to time out.
"""

from __future__ import annotations

import functools

import pytest
import trio

from actors.runtime import ChildSpec, RequestTimeout, answer, open_supervisor, request
from actors.serving import HandlerCrashed, serve


async def _echo_or_boom(message) -> None:
    if message.payload == "boom":
        raise RuntimeError("boom")
    await trio.sleep(0.5)  # work that takes time: a crash elsewhere cancels it
    answer(message, message.payload.upper())


async def test_a_handler_crash_answers_what_is_in_hand_and_the_next_incarnation_serves_the_queue(autojump_clock):
    answers: dict[str, object] = {}

    async def ask(address, text):
        try:
            answers[text] = await request(address, text, timeout=30)
        except HandlerCrashed as exc:
            answers[text] = exc

    async with open_supervisor(name="test") as sup:
        address = await sup.start(ChildSpec("echo", functools.partial(serve, actor="echo"), args=(_echo_or_boom,),
                                            capacity=64))
        texts = ["before", "boom", *(f"m{i}" for i in range(20))]
        async with trio.open_nursery() as nursery:
            nursery.start_soon(ask, address, "before")
            await trio.testing.wait_all_tasks_blocked()  # "before" is in hand (its handler sleeps)
            for text in texts[1:]:  # "boom" and 20 more at once: some in hand, some queued at the crash
                nursery.start_soon(ask, address, text)
        stats = sup.statistics()
    assert set(answers) == set(texts)  # every request answered, none timed out
    assert isinstance(answers["boom"], HandlerCrashed)
    assert "crashed while handling str: RuntimeError: boom" in str(answers["boom"])
    crashed = [t for t in texts if isinstance(answers[t], HandlerCrashed) and t != "boom"]
    served = [t for t in texts if answers[t] == t.upper()]
    assert "before" in crashed and served and len(crashed) + len(served) == len(texts) - 1
    for text in crashed:  # in hand when the actor crashed: told so, naming the error
        assert "crashed (RuntimeError: boom)" in str(answers[text])
    assert stats.restarts == {"echo": 1}
    assert address.statistics().incarnations == 2


async def test_a_request_to_a_hung_handler_is_not_answered_by_a_crash_elsewhere(autojump_clock):
    """Control: without a crash nothing is answered early; the slow handler's caller times out."""

    async def hang(message):
        await trio.sleep_forever()

    async with open_supervisor(name="test") as sup:
        address = await sup.start(ChildSpec("hang", functools.partial(serve, actor="hang"), args=(hang,)))
        with pytest.raises(RequestTimeout):
            await request(address, "x", timeout=1)
        assert sup.statistics().restarts == {"hang": 0}
