"""Publish/subscribe for progress, health and breaker events; a slow subscriber never blocks a publisher.

::

    bus = EventBus()
    async with bus.subscribe(LLMHealth, BreakerState, capacity=16) as events:
        async for event in events:      # ends when the bus is closed
            ...
    bus.publish(LLMHealth(...))         # elsewhere: a plain function, never blocks
    bus.close()

Each subscription has its own bounded buffer. When it is full, publishing drops that
subscription's *oldest* event (for progress and health the newest state matters most) and
counts it in ``subscription.statistics().dropped``. ``publish`` is a plain synchronous function
(trio's rule: what never blocks is not async), so there is no ``publish_nowait`` twin.
Events should be frozen attrs instances: every subscriber gets the same object.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import attrs
import trio

logger = logging.getLogger(__name__)


@attrs.frozen
class SubscriptionStatistics:
    """A snapshot of one subscription's buffer."""

    buffered: int  #: events waiting to be read
    capacity: int
    delivered: int  #: events that matched the filter and entered the buffer
    dropped: int  #: oldest events pushed out of a full buffer


@attrs.frozen
class BusStatistics:
    """A snapshot of a bus."""

    name: str
    published: int
    subscribers: int
    dropped: int  #: over all subscriptions, past and present
    closed: bool


class Subscription:
    """An async iterator over the events a subscriber asked for; made by ``EventBus.subscribe``."""

    def __init__(self, types: tuple[type, ...], capacity: int) -> None:
        self._types = types
        self._capacity = capacity
        self._send, self._receive = trio.open_memory_channel[Any](capacity)
        self._delivered = 0
        self._dropped = 0

    def _offer(self, event: Any) -> int:
        """Buffer ``event`` if it matches, dropping the oldest if full; return how many were dropped."""
        if self._types and not isinstance(event, self._types):
            return 0
        dropped = 0
        try:
            self._send.send_nowait(event)
        except trio.WouldBlock:
            self._receive.receive_nowait()
            self._send.send_nowait(event)
            dropped = 1
        self._delivered += 1
        self._dropped += dropped
        return dropped

    def _close(self) -> None:
        self._send.close()

    async def receive(self) -> Any:
        """The next event, waiting for one. Raises ``trio.EndOfChannel`` once the bus is closed and the buffer empty."""
        return await self._receive.receive()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self._receive.receive()
        except trio.EndOfChannel:
            raise StopAsyncIteration from None

    def statistics(self) -> SubscriptionStatistics:
        """A snapshot of buffered, delivered and dropped counts."""
        return SubscriptionStatistics(
            buffered=self._receive.statistics().current_buffer_used,
            capacity=self._capacity,
            delivered=self._delivered,
            dropped=self._dropped,
        )


class EventBus:
    """Fan-out of events to subscriptions, each with a bounded drop-oldest buffer."""

    def __init__(self, *, name: str = "events") -> None:
        self.name = name
        self._subscriptions: set[Subscription] = set()
        self._published = 0
        self._dropped = 0
        self._closed = False

    def publish(self, event: Any) -> None:
        """Offer ``event`` to every matching subscription. Never blocks; ignored (DEBUG log) once closed."""
        if self._closed:
            logger.debug("bus %r closed; dropped %r", self.name, event)
            return
        self._published += 1
        for subscription in self._subscriptions:
            self._dropped += subscription._offer(event)

    @asynccontextmanager
    async def subscribe(self, *event_types: type, capacity: int = 64) -> AsyncIterator[Subscription]:
        """Subscribe to events that are instances of ``event_types`` (all events if none given).

        Yields a ``Subscription`` to ``async for`` over; it ends when the bus is closed (after
        the buffered events). ``capacity`` (>= 1) bounds its buffer.

        Raises:
            trio.ClosedResourceError: the bus is already closed.
        """
        for event_type in event_types:
            if not isinstance(event_type, type):
                raise ValueError(f"subscribe() takes event classes, got {event_type!r}")
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
            raise ValueError(f"subscription capacity must be an int >= 1, got {capacity!r}")
        if self._closed:
            raise trio.ClosedResourceError(f"bus {self.name!r} is closed")
        subscription = Subscription(event_types, capacity)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)
            subscription._close()
            subscription._receive.close()

    def close(self) -> None:
        """End every subscription's iteration (once drained) and ignore later publishes. Idempotent."""
        self._closed = True
        for subscription in self._subscriptions:
            subscription._close()
        self._subscriptions.clear()

    @property
    def closed(self) -> bool:
        return self._closed

    def statistics(self) -> BusStatistics:
        """A snapshot of published and dropped counts."""
        return BusStatistics(
            name=self.name,
            published=self._published,
            subscribers=len(self._subscriptions),
            dropped=self._dropped,
            closed=self._closed,
        )
