"""EventBus: drop-oldest per subscriber, publishers never block, filters, closing."""

from __future__ import annotations

import attrs
import pytest
import trio
import trio.testing

from actors.runtime import EventBus


@attrs.frozen
class Progress:
    n: int


@attrs.frozen
class Health:
    ok: bool


async def test_slow_subscriber_drops_oldest_and_publisher_never_blocks(autojump_clock):
    """A full buffer loses its oldest events, counted as dropped; publishing takes no time."""
    bus = EventBus()
    received = []
    async with bus.subscribe(capacity=3) as slow:
        start = trio.current_time()
        for n in range(10):
            bus.publish(Progress(n))  # sync: cannot block
        assert trio.current_time() == start
        stats = slow.statistics()
        assert (stats.buffered, stats.delivered, stats.dropped) == (3, 10, 7)
        bus.close()
        async for event in slow:
            received.append(event)
    assert received == [Progress(7), Progress(8), Progress(9)]
    assert bus.statistics().dropped == 7
    assert bus.statistics().published == 10


async def test_publisher_task_keeps_its_pace_while_a_subscriber_sleeps(autojump_clock):
    """A publisher on a 1 s interval stays on schedule while the subscriber takes 10 s per event."""
    bus = EventBus()
    published_at = []
    seen = []

    async def publisher():
        for n in range(20):
            bus.publish(Progress(n))
            published_at.append(trio.current_time())
            await trio.sleep(1)
        bus.close()

    async with bus.subscribe(capacity=2) as events:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(publisher)
            async for event in events:
                seen.append(event.n)
                await trio.sleep(10)
        dropped = events.statistics().dropped
    assert published_at == [float(n) for n in range(20)]
    assert seen[0] == 0 and seen[-1] == 19
    assert len(seen) + dropped == 20 and dropped > 0


async def test_each_subscriber_has_its_own_buffer():
    """A slow subscriber's drops do not affect a fast one."""
    bus = EventBus()
    async with bus.subscribe(capacity=1) as slow, bus.subscribe(capacity=10) as fast:
        for n in range(5):
            bus.publish(Progress(n))
        assert slow.statistics().dropped == 4
        assert fast.statistics().dropped == 0
        assert [await fast.receive() for _ in range(5)] == [Progress(n) for n in range(5)]
        assert await slow.receive() == Progress(4)


async def test_filter_by_event_type_skips_other_events_without_counting_them():
    """A subscription to Health sees only Health; other events neither fill nor drop."""
    bus = EventBus()
    async with bus.subscribe(Health, capacity=1) as health:
        bus.publish(Progress(1))
        bus.publish(Health(True))
        bus.publish(Progress(2))
        stats = health.statistics()
        assert (stats.buffered, stats.delivered, stats.dropped) == (1, 1, 0)
        assert await health.receive() == Health(True)


async def test_closing_the_bus_ends_waiting_subscribers(autojump_clock):
    """A subscriber blocked waiting for events finishes its loop when the bus closes."""
    bus = EventBus()
    finished = []

    async def listen():
        async with bus.subscribe() as events:
            async for _ in events:
                pass
        finished.append(trio.current_time())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(listen)
        await trio.sleep(5)
        assert bus.statistics().subscribers == 1
        bus.close()
    assert finished == [5.0]
    assert bus.statistics().subscribers == 0
    bus.publish(Progress(1))  # ignored after close, does not raise
    assert bus.statistics().published == 0


async def test_subscribe_after_close_raises():
    """Subscribing to a closed bus raises ClosedResourceError naming the bus."""
    bus = EventBus(name="progress")
    bus.close()
    with pytest.raises(trio.ClosedResourceError, match="bus 'progress' is closed"):
        async with bus.subscribe():
            pass


async def test_leaving_a_subscription_stops_delivery_to_it():
    """After its block exits a subscription no longer receives events."""
    bus = EventBus()
    async with bus.subscribe() as events:
        bus.publish(Progress(1))
    bus.publish(Progress(2))
    assert events.statistics().delivered == 1
    assert bus.statistics().subscribers == 0


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    ((), {"capacity": 0}, "subscription capacity must be an int >= 1, got 0"),
    (("Health",), {}, "subscribe\\(\\) takes event classes, got 'Health'"),
])
async def test_subscribe_rejects_bad_arguments(args, kwargs, message):
    """A zero capacity or a non-class filter is refused with a clear message."""
    bus = EventBus()
    with pytest.raises(ValueError, match=message):
        async with bus.subscribe(*args, **kwargs):
            pass
