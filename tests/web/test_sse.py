"""The event hub: ids, replay by Last-Event-ID, snapshot first, coalescing buffers, heartbeats, slow clients."""

from __future__ import annotations

import json

import pytest
import trio
import trio.testing

from actors.web.sse import HEARTBEAT, EventHub, format_frame, sse_frames


def _progress(hub: EventHub, done: int, *, run: str = "r1", phase: str = "scoring"):
    return hub.publish("progress", {"run_id": run, "phase": phase, "done": done}, key=f"progress:{run}:{phase}")


def _drain(client) -> list:
    out = []
    while (event := client.receive_nowait()) is not None:
        out.append(event)
    return out


class TestEventHub:
    def test_ids_increase_by_one_per_publish(self):
        """Every published event gets the next id."""
        hub = EventHub()
        ids = [_progress(hub, i, phase=f"p{i % 3}").id for i in range(10)]
        assert ids == list(range(1, 11))
        assert hub.statistics().last_id == 10

    def test_new_client_gets_a_snapshot_first(self):
        """A client without Last-Event-ID first receives one snapshot holding the latest event of each key."""
        hub = EventHub()
        for done in range(5):
            _progress(hub, done)
        hub.publish("breaker", {"state": "open"}, key="breaker")
        with hub.connect() as client:
            first = client.receive_nowait()
            assert first.kind == "snapshot" and first.id == hub.last_id == 6
            state = {e["key"]: e["data"] for e in first.data["events"]}
            assert state == {"progress:r1:scoring": {"run_id": "r1", "phase": "scoring", "done": 4},
                             "breaker": {"state": "open"}}
            _progress(hub, 5)
            assert [e.data["done"] for e in _drain(client)] == [5]

    def test_reconnect_with_last_event_id_replays_exactly_what_was_missed(self):
        """A client reconnecting with Last-Event-ID N gets the events after N, in order, and no snapshot."""
        hub = EventHub(client_buffer=64)
        for i in range(20):
            _progress(hub, i, phase=f"p{i}")
        with hub.connect(last_event_id="12") as client:
            replay = _drain(client)
        assert [e.id for e in replay] == list(range(13, 21))
        assert all(e.kind == "progress" for e in replay)
        assert hub.statistics().replayed == 1 and hub.statistics().snapshots == 0

    def test_reconnect_at_the_newest_id_gets_nothing_until_the_next_event(self):
        hub = EventHub()
        _progress(hub, 1)
        with hub.connect(last_event_id=1) as client:
            assert client.receive_nowait() is None
            _progress(hub, 2)
            assert [e.id for e in _drain(client)] == [2]

    @pytest.mark.parametrize("last_id", ["3", "999", "abc", "-1", ""])
    def test_last_event_id_outside_the_ring_gets_a_snapshot(self, last_id):
        """Too old for the ring, newer than this hub (a restarted server), or unparsable: a snapshot first."""
        hub = EventHub(replay=5)
        for i in range(20):
            _progress(hub, i, phase=f"p{i}")
        with hub.connect(last_event_id=last_id) as client:
            events = _drain(client)
        assert [e.kind for e in events] == ["snapshot"]
        assert events[0].id == 20

    def test_newer_event_for_the_same_key_replaces_the_older_in_a_client_buffer(self):
        """A client that has not read yet holds only the newest progress per key, ids still increasing."""
        hub = EventHub(client_buffer=4)
        with hub.connect(last_event_id=0) as client:
            for done in range(100):
                _progress(hub, done, phase="scoring")
                _progress(hub, done, phase="data_fetch")
            events = _drain(client)
            assert [(e.key, e.data["done"]) for e in events] == [
                ("progress:r1:scoring", 99), ("progress:r1:data_fetch", 99)]
            assert [e.id for e in events] == sorted(e.id for e in events)
            assert client.statistics().coalesced == 198  # 200 published, 2 kept

    def test_a_full_buffer_of_distinct_keys_resyncs_with_a_snapshot(self):
        """When distinct keys overflow a slow client's buffer, it skips to a fresh snapshot of the present."""
        hub = EventHub(client_buffer=3)
        with hub.connect(last_event_id=0) as client:
            for i in range(10):
                _progress(hub, i, phase=f"p{i}")
            assert client.statistics().buffered <= 3
            events = _drain(client)
        assert events[0].kind == "snapshot" and events[0].id == 10
        assert len(events[0].data["events"]) == 10
        assert hub.statistics().resyncs == 1

    def test_state_keeps_at_most_state_keys_slots(self):
        hub = EventHub(state_keys=3)
        for i in range(10):
            _progress(hub, i, phase=f"p{i}")
        assert [e["key"] for e in hub.snapshot().data["events"]] == [f"progress:r1:p{i}" for i in (7, 8, 9)]

    def test_bad_sizes_are_refused_naming_the_parameter(self):
        with pytest.raises(ValueError, match="client_buffer"):
            EventHub(client_buffer=0)
        with pytest.raises(ValueError, match="kind"):
            EventHub().publish("two\nlines", {}, key="k")


async def test_a_slow_client_never_delays_the_publisher_or_a_fast_client():
    """One client never reads; the publisher never waits and the fast client receives every event in order."""
    hub = EventHub(client_buffer=8)
    received: list[int] = []
    total = 5000
    with hub.connect(last_event_id=0) as slow, hub.connect(last_event_id=0) as fast:

        async def read_fast():
            while len(received) < total:
                event = await fast.receive()
                received.append(event.data["done"])

        async with trio.open_nursery() as nursery:
            nursery.start_soon(read_fast)
            for done in range(total):
                _progress(hub, done, phase=f"p{done % 4}")
                if done % 4 == 3:
                    await trio.testing.wait_all_tasks_blocked()  # the fast reader keeps up; publish never awaits
        assert received == list(range(total))
        assert slow.statistics().buffered <= 8
        assert hub.statistics().clients == 2
    assert hub.statistics().clients == 0


async def test_sse_frames_send_a_heartbeat_every_15_seconds_when_idle(autojump_clock):
    """An idle stream gets a comment line every HEARTBEAT seconds of (virtual) time, and events as they come."""
    hub = EventHub()
    frames: list[tuple[float, str]] = []
    with hub.connect(last_event_id=0) as client:

        async def read():
            async for frame in sse_frames(client):
                frames.append((trio.current_time(), frame))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(read)
            await trio.sleep(40)
            _progress(hub, 1)
            await trio.sleep(1)
            client.close()
    start = frames[0][0]
    assert frames[0][1].startswith("retry: ")
    heartbeats = [t - start for t, f in frames if f == ": heartbeat\n\n"]
    assert heartbeats == [HEARTBEAT, 2 * HEARTBEAT]
    data_frames = [(t - start, f) for t, f in frames if f.startswith("id: ")]
    assert len(data_frames) == 1 and data_frames[0][0] == 40


def test_format_frame_is_one_sse_event_with_json_data():
    hub = EventHub()
    event = hub.publish("progress", {"title": "a\nb <script>"}, key="k")
    frame = format_frame(event)
    assert frame.endswith("\n\n") and frame.count("\n") == 4
    lines = frame.splitlines()
    assert lines[0] == "id: 1" and lines[1] == "event: progress"
    assert json.loads(lines[2].removeprefix("data: ")) == {"title": "a\nb <script>"}
