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


def _echo_or_boom(go: trio.Event):
    async def handle(message) -> None:
        if message.payload == "boom":
            await go.wait()  # in hand until the test has put the others in hand
            raise RuntimeError("boom")
        await trio.sleep(0.5)  # work that takes time: a crash elsewhere cancels it
        answer(message, message.payload.upper())

    return handle


async def test_a_handler_crash_answers_what_is_in_hand_and_the_next_incarnation_serves_the_queue(autojump_clock):
    """Which requests are in hand at the crash is fixed by construction, not by the scheduler.

    "before", "boom" and m0..m4 are taken (their handlers are waiting) before "boom" raises;
    m5..m9 are sent in the same step that lets "boom" raise, so at most the first of them can
    be taken before the crash cancels the receive loop. The rest are still queued then.
    """
    answers: dict[str, object] = {}
    go = trio.Event()

    async def ask(address, text):
        try:
            answers[text] = await request(address, text, timeout=30)
        except HandlerCrashed as exc:
            answers[text] = exc

    in_hand = ["before", *(f"m{i}" for i in range(5))]
    late = [f"m{i}" for i in range(5, 10)]
    async with open_supervisor(name="test") as sup:
        address = await sup.start(ChildSpec("echo", functools.partial(serve, actor="echo"), args=(_echo_or_boom(go),),
                                            capacity=64))
        async with trio.open_nursery() as nursery:
            for text in ["before", "boom", *in_hand[1:]]:
                nursery.start_soon(ask, address, text)
                await trio.testing.wait_all_tasks_blocked()  # taken: its handler waits
            go.set()
            for text in late:
                nursery.start_soon(ask, address, text)
        stats = sup.statistics()
    assert set(answers) == {"boom", *in_hand, *late}  # every request answered, none timed out
    assert isinstance(answers["boom"], HandlerCrashed)
    assert "crashed while handling str: RuntimeError: boom" in str(answers["boom"])
    for text in in_hand:  # in hand when the actor crashed: told so, naming the error
        assert isinstance(answers[text], HandlerCrashed), text
        assert "crashed (RuntimeError: boom)" in str(answers[text])
    served = [t for t in late if answers[t] == t.upper()]
    assert len(served) >= len(late) - 1  # queued at the crash: served by the next incarnation
    assert all(answers[t] == t.upper() or isinstance(answers[t], HandlerCrashed) for t in late)
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
