"""Timeouts validation and the chunk timer (first-chunk and stall windows) in virtual time."""

from __future__ import annotations

import pytest
import trio

from actors.llm.budget import END, ChunkTimer, Timeouts
from actors.llm.outcome import AttemptFailed, FailureKind


class TestTimeouts:
    def test_defaults(self):
        """Defaults: connect 5, first chunk 90, stall 20, total 120."""
        assert Timeouts() == Timeouts(connect=5, first_chunk=90, stall=20, total=120)

    def test_keyword_only(self):
        """Positional arguments are refused (the four numbers are too easy to mix up)."""
        with pytest.raises(TypeError):
            Timeouts(5, 90, 20, 120)  # type: ignore[misc]

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"connect": 0}, "Timeouts.connect must be a finite number of seconds > 0, got 0"),
            ({"stall": -1}, "Timeouts.stall must be a finite number of seconds > 0, got -1"),
            ({"total": float("inf")}, "Timeouts.total must be a finite number of seconds > 0, got inf"),
            ({"first_chunk": "90"}, "Timeouts.first_chunk must be a finite number of seconds > 0, got '90'"),
            ({"stall": 200}, "Timeouts.stall must be <= total, got stall=200, total=120"),
            ({"first_chunk": 150}, "Timeouts.first_chunk must be <= total, got first_chunk=150, total=120"),
            ({"connect": 10, "first_chunk": 5},
             "Timeouts.connect must be <= first_chunk (the first chunk's wait includes the connect), "
             "got connect=10, first_chunk=5"),
        ],
    )
    def test_bad_values_are_named_exactly(self, kwargs, message):
        """Each rule has an exact message naming the field."""
        with pytest.raises(ValueError) as info:
            Timeouts(**kwargs)
        assert str(info.value) == message


async def _chunks(gaps):
    for gap in gaps:
        await trio.sleep(gap)
        yield gap


class TestChunkTimer:
    async def test_first_chunk_window_counts_from_creation(self, autojump_clock):
        """No chunk within first_chunk seconds → timeout_first_chunk at exactly that time."""
        timer = ChunkTimer(first_chunk=10, stall=2)
        with pytest.raises(AttemptFailed) as info:
            await timer.next(_chunks([11]))
        assert info.value.kind is FailureKind.TIMEOUT_FIRST_CHUNK and trio.current_time() == 10

    async def test_stall_window_counts_from_the_last_chunk(self, autojump_clock):
        """After chunks at 8 and 9.5, a 3 s gap fails as stall at 9.5 + 2."""
        timer = ChunkTimer(first_chunk=10, stall=2)
        gen = _chunks([8, 1.5, 3])
        assert await timer.next(gen) == 8
        assert await timer.next(gen) == 1.5
        with pytest.raises(AttemptFailed) as info:
            await timer.next(gen)
        assert info.value.kind is FailureKind.STALL and trio.current_time() == 11.5
        await gen.aclose()

    async def test_end_of_stream(self, autojump_clock):
        """An exhausted stream gives END."""
        timer = ChunkTimer(first_chunk=1, stall=1)
        gen = _chunks([0.5])
        assert await timer.next(gen) == 0.5
        assert await timer.next(gen) is END

    async def test_call_is_bounded_by_the_current_window(self, autojump_clock):
        """call() (sending a request) fails at the first-chunk deadline too."""
        timer = ChunkTimer(first_chunk=3, stall=1)
        with pytest.raises(AttemptFailed) as info:
            await timer.call(trio.sleep, 5)
        assert info.value.kind is FailureKind.TIMEOUT_FIRST_CHUNK and trio.current_time() == 3


async def test_chunk_timer_tells_the_first_chunk_listener(autojump_clock):
    """The task's FIRST_CHUNK_LISTENER hears the attempt start, its first chunk (not later ones) and a timeout."""
    from actors.llm.budget import FIRST_CHUNK_LISTENER

    heard: list[tuple] = []

    class Listener:
        def attempt_started(self):
            heard.append(("started", trio.current_time()))

        def first_chunk(self, waited):
            heard.append(("first", waited))

        def first_chunk_timeout(self, waited):
            heard.append(("timeout", waited))

    class chunks:  # an async iterator that is not a generator: nothing left for the GC
        def __init__(self, delays):
            self.delays = list(delays)

        async def __anext__(self):
            if not self.delays:
                raise StopAsyncIteration
            await trio.sleep(self.delays.pop(0))
            return "x"

    token = FIRST_CHUNK_LISTENER.set(Listener())
    try:
        timer = ChunkTimer(first_chunk=5, stall=5)
        stream = chunks([1.5, 0.5])
        await timer.next(stream)
        await timer.next(stream)
        late = ChunkTimer(first_chunk=1, stall=5)
        with pytest.raises(AttemptFailed):
            await late.next(chunks([3]))
    finally:
        FIRST_CHUNK_LISTENER.reset(token)
    assert heard == [("started", 0.0), ("first", 1.5), ("started", 2.0), ("timeout", 1.0)]


async def test_a_failing_listener_never_breaks_the_call(autojump_clock, caplog):
    """A listener that raises is logged; the chunk still arrives."""
    from actors.llm.budget import FIRST_CHUNK_LISTENER

    class Broken:
        def attempt_started(self):
            raise RuntimeError("bug")

        first_chunk = first_chunk_timeout = attempt_started

    class one:
        async def __anext__(self):
            return "x"

    token = FIRST_CHUNK_LISTENER.set(Broken())
    try:
        timer = ChunkTimer(first_chunk=5, stall=5)
        assert await timer.next(one()) == "x"
    finally:
        FIRST_CHUNK_LISTENER.reset(token)
    assert "first-chunk listener failed" in caplog.text
