"""The dashboard's live feed: one hub, many browsers, and no browser can slow another or the publisher.

::

    hub = EventHub()
    hub.publish("progress", {"run_id": r, "phase": "scoring", "done": 40, "total": 200},
                key=f"progress:{r}:scoring")          # plain function, never blocks
    with hub.connect(last_event_id=request_header) as client:
        async for frame in sse_frames(client):        # what /events writes, heartbeats included
            ...

Every event is the newest state of one *slot* (its ``key``: a run's phase, the breaker, the
run list). The hub numbers events with increasing ids and keeps:

- a **replay ring** of the last ``replay`` events: a browser that reconnects with
  ``Last-Event-ID`` gets exactly the events it missed, in order;
- the **latest event per key** (at most ``state_keys`` slots): a new browser, or one whose
  ``Last-Event-ID`` is older than the ring (or newer than this hub: the server restarted), gets
  one ``snapshot`` event first, holding that state, with the id of the newest event;
- per client a **small bounded buffer** (``client_buffer`` events) where a newer event for the
  same key replaces the older one (it moves to the end, so ids stay increasing). When a slow
  client's buffer is full of distinct keys, its buffer is replaced by a fresh snapshot on its
  next read ("resync"): the client skips straight to the present, and the publisher never waits.

``publish`` costs O(clients) dictionary operations and never awaits, so the actor that publishes
(the bus feeder) runs at its own pace whatever the browsers do. :func:`sse_frames` turns a client
into ``text/event-stream`` frames and writes a comment line every ``heartbeat`` seconds (15) while
idle, on trio's clock, so proxies keep the stream open and virtual-time tests can check it.
"""

from __future__ import annotations

import collections
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import trio

__all__ = ["ClientStatistics", "EventHub", "HubClient", "HubEvent", "HubStatistics", "format_frame", "sse_frames"]

logger = logging.getLogger(__name__)

#: Seconds between heartbeat comments on an idle stream.
HEARTBEAT = 15.0
#: What the browser waits before reconnecting (milliseconds), sent once per stream.
RETRY_MS = 1000


@attrs.frozen(kw_only=True)
class HubEvent:
    """One published event: its id, SSE event name, slot key and JSON-ready data."""

    id: int
    kind: str
    key: str
    data: Any


@attrs.frozen
class HubStatistics:
    """A snapshot of the hub."""

    last_id: int
    clients: int
    replayed: int  #: connections served from the ring (Last-Event-ID within it)
    snapshots: int  #: snapshots sent (new clients, resyncs, ids outside the ring)
    resyncs: int  #: slow clients whose full buffer was replaced by a snapshot


@attrs.frozen
class ClientStatistics:
    buffered: int
    capacity: int
    coalesced: int  #: older events replaced by a newer one for the same key
    resyncs: int


def _check_positive(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")


class HubClient:
    """One connected browser's buffer; made by :meth:`EventHub.connect`."""

    def __init__(self, hub: EventHub, capacity: int) -> None:
        self._hub = hub
        self._capacity = capacity
        self._buffer: collections.OrderedDict[str, HubEvent] = collections.OrderedDict()
        self._snapshot_due = False  #: the next read is a snapshot, taken at read time
        self._wakeup = trio.Event()
        self._closed = False
        self._coalesced = 0
        self._resyncs = 0

    def _offer(self, event: HubEvent) -> None:
        """Buffer ``event``: replace the same key's older event, or resync when full. Never blocks."""
        if self._snapshot_due:  # the snapshot, taken when read, will carry this state
            pass
        elif event.key in self._buffer:
            del self._buffer[event.key]
            self._buffer[event.key] = event
            self._coalesced += 1
        elif len(self._buffer) >= self._capacity:
            self._buffer.clear()
            self._snapshot_due = True
            self._resyncs += 1
            self._hub._resyncs += 1
        else:
            self._buffer[event.key] = event
        self._wakeup.set()

    def _start_with_snapshot(self) -> None:
        self._snapshot_due = True

    def close(self) -> None:
        """End this client's stream: :meth:`receive` returns None from now on."""
        self._closed = True
        self._wakeup.set()

    def receive_nowait(self) -> HubEvent | None:
        """The next event (a pending snapshot first), or None when nothing is buffered."""
        if self._snapshot_due:
            self._snapshot_due = False
            self._hub._snapshots += 1
            return self._hub.snapshot()
        if self._buffer:
            return self._buffer.popitem(last=False)[1]
        return None

    async def receive(self) -> HubEvent | None:
        """The next event, waiting for one; None once the client or the hub is closed."""
        while True:
            if self._closed:
                return None
            event = self.receive_nowait()
            if event is not None:
                return event
            self._wakeup = trio.Event()
            await self._wakeup.wait()

    def statistics(self) -> ClientStatistics:
        return ClientStatistics(
            buffered=len(self._buffer) + self._snapshot_due,
            capacity=self._capacity, coalesced=self._coalesced, resyncs=self._resyncs,
        )


class EventHub:
    """Numbers events, keeps the replay ring and the latest state per key, and fans out to clients."""

    def __init__(self, *, replay: int = 1024, client_buffer: int = 64, state_keys: int = 512) -> None:
        _check_positive("replay", replay)
        _check_positive("client_buffer", client_buffer)
        _check_positive("state_keys", state_keys)
        self._ring: collections.deque[HubEvent] = collections.deque(maxlen=replay)
        self._state: collections.OrderedDict[str, HubEvent] = collections.OrderedDict()
        self._state_keys = state_keys
        self._client_buffer = client_buffer
        self._clients: set[HubClient] = set()
        self._last_id = 0
        self._replayed = 0
        self._snapshots = 0
        self._resyncs = 0

    @property
    def last_id(self) -> int:
        return self._last_id

    def publish(self, kind: str, data: Any, *, key: str) -> HubEvent:
        """Number ``data`` as the newest state of slot ``key`` and offer it to every client. Never blocks.

        ``data`` must be JSON-serialisable (it is encoded once per client frame).
        """
        if not kind or not isinstance(kind, str) or "\n" in kind:
            raise ValueError(f"event kind must be a one-line non-empty string, got {kind!r}")
        self._last_id += 1
        event = HubEvent(id=self._last_id, kind=kind, key=key, data=data)
        self._ring.append(event)
        self._state.pop(key, None)
        self._state[key] = event
        while len(self._state) > self._state_keys:
            self._state.popitem(last=False)
        for client in self._clients:
            client._offer(event)
        return event

    def snapshot(self) -> HubEvent:
        """One ``snapshot`` event: the latest event of every key, oldest first, with the newest id."""
        state = [{"id": e.id, "kind": e.kind, "key": e.key, "data": e.data} for e in self._state.values()]
        return HubEvent(id=self._last_id, kind="snapshot", key="snapshot", data={"events": state})

    def state(self, key: str) -> HubEvent | None:
        """The latest event published for ``key`` (None if none, or pushed out of the state)."""
        return self._state.get(key)

    @contextmanager
    def connect(self, last_event_id: str | int | None = None) -> Iterator[HubClient]:
        """A client for one stream, removed on exit.

        With a ``last_event_id`` inside the replay ring the client starts with exactly the
        events after it; otherwise (none, unparsable, too old, or newer than this hub) it
        starts with a snapshot.
        """
        client = HubClient(self, self._client_buffer)
        after = _parse_id(last_event_id)
        missed = self._missed_since(after) if after is not None else None
        if missed is None:
            client._start_with_snapshot()
        else:
            self._replayed += 1
            for event in missed:
                client._offer(event)
        self._clients.add(client)
        try:
            yield client
        finally:
            self._clients.discard(client)
            client.close()

    def _missed_since(self, after: int) -> list[HubEvent] | None:
        """The events with ids above ``after``, or None when the ring cannot say (too old / unknown)."""
        if after > self._last_id:
            return None
        if after == self._last_id:
            return []
        if not self._ring or self._ring[0].id > after + 1:
            return None
        return [e for e in self._ring if e.id > after]

    def close_clients(self) -> None:
        """End every connected stream (browsers reconnect with Last-Event-ID). Used at shutdown."""
        for client in list(self._clients):
            client.close()

    def statistics(self) -> HubStatistics:
        return HubStatistics(
            last_id=self._last_id, clients=len(self._clients), replayed=self._replayed,
            snapshots=self._snapshots, resyncs=self._resyncs,
        )


def _parse_id(value: str | int | None) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    text = value.strip()
    return int(text) if text.isdigit() and len(text) < 19 else None


def format_frame(event: HubEvent) -> str:
    """The ``text/event-stream`` frame of ``event`` (the data is one line of JSON)."""
    data = json.dumps(event.data, separators=(",", ":"), default=str)
    return f"id: {event.id}\nevent: {event.kind}\ndata: {data}\n\n"


async def sse_frames(client: HubClient, *, heartbeat: float = HEARTBEAT) -> AsyncIterator[str]:
    """The frames of one stream: ``retry``, then events as they come, a comment every ``heartbeat`` s idle.

    Ends when the client is closed (the hub closed it, or the connection ended).
    """
    yield f"retry: {RETRY_MS}\n\n"
    while True:
        idle = True
        with trio.move_on_after(heartbeat):  # never yield inside the scope: the caller's code would run in it
            event = await client.receive()
            idle = False
        if idle:
            yield ": heartbeat\n\n"
        elif event is None:
            return
        else:
            yield format_frame(event)

