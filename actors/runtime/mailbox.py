"""Spawning actors: each gets a bounded inbox, reached through its ``Address``.

An actor is an async function that receives its inbox (a ``trio.MemoryReceiveChannel``), calls
``task_status.started()`` once it is ready, then loops over the inbox::

    async def echo(inbox, *, task_status=trio.TASK_STATUS_IGNORED):
        task_status.started()
        async for message in inbox:
            if isinstance(message, Request):
                answer(message, message.payload)

    address = await spawn(nursery, echo, name="echo")   # returns once echo is ready
    await address.send(...)

The inbox is bounded (``capacity``): ``send`` waits when it is full (backpressure) and
``send_nowait`` raises ``trio.WouldBlock``. There is one ``Address`` per actor; pass the same
object around. The inbox outlives any one run of the actor function: a supervisor restarts a
crashed actor on the same inbox, so an address handed out once stays valid.

Stopping: ``address.close()`` closes the inbox to new messages; the actor still receives what
was queued, then its ``async for`` ends and it returns. ``await stop(address, deadline=...)``
does that and cancels the actor if it is still running at the deadline, recording why.
When the actor's life ends the runtime closes the inbox for good: later sends raise
``ActorDied``, and each ``Request`` still queued has its reply channel closed, so its requester
gets ``ActorDied`` at once instead of waiting for a timeout.

Heartbeats: ``address.beat()`` puts a heartbeat in the inbox (at most one at a time); the
inbox the actor iterates takes it out of the stream itself, so the actor never sees it, and
``address.heartbeat_age()`` says how long the last one has waited unreceived (0 when none
waits). An actor that keeps taking messages answers every heartbeat; one wedged in a handler
lets it age, which is what a watchdog needs to know, without any actor code.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import trio

from .cancel import ReasonedCancelScope
from .envelope import Request
from .errors import ActorDied

logger = logging.getLogger(__name__)

#: ``async def actor(inbox, *args, task_status)``; it must call ``task_status.started()``.
ActorFunction = Callable[..., Awaitable[None]]


@attrs.frozen
class ActorStatistics:
    """A snapshot of one actor's mailbox and life."""

    name: str
    inbox_depth: int  #: messages queued, not yet received (trio's ``current_buffer_used``)
    inbox_capacity: int
    inbox_closed: bool
    running: bool  #: an incarnation of the actor function is running now
    incarnations: int  #: how many times the actor function was started (1 + restarts)
    cancel_reason: str | None  #: why the runtime cancelled it, if it did


@attrs.define(eq=False)
class _Cell:
    """The runtime's mutable record of one actor; reached only through its Address."""

    name: str
    capacity: int
    send: trio.MemorySendChannel[Any]
    receive: trio.MemoryReceiveChannel[Any]
    exited: trio.Event = attrs.Factory(trio.Event)
    closed: bool = False
    running: bool = False
    incarnations: int = 0
    scope: ReasonedCancelScope | None = None
    cancel_reason: str | None = None
    beat_sent_at: float | None = None  #: trio time of the heartbeat waiting in the inbox, if any

    def cancel(self, reason: str) -> None:
        """Cancel the running incarnation (and any later one) with ``reason``."""
        if self.cancel_reason is None:
            self.cancel_reason = reason
        if self.scope is not None:
            self.scope.cancel(reason)


@attrs.frozen(eq=False)
class Address:
    """Where to send messages for one actor: its name and its inbox's send side.

    Messages should be frozen attrs instances (nothing mutable crosses a channel), or a
    ``Request`` envelope for request/reply (see ``request()``).
    """

    name: str
    _cell: _Cell = attrs.field(repr=False)

    async def send(self, message: Any) -> None:
        """Put ``message`` in the inbox, waiting while it is full.

        Raises:
            ActorDied: the inbox is closed (the actor stopped or is stopping).
        """
        try:
            await self._cell.send.send(message)
        except (trio.ClosedResourceError, trio.BrokenResourceError) as exc:
            raise ActorDied(self.name, "has closed its inbox") from exc

    def send_nowait(self, message: Any) -> None:
        """Put ``message`` in the inbox now or raise.

        Raises:
            trio.WouldBlock: the inbox is full.
            ActorDied: the inbox is closed.
        """
        try:
            self._cell.send.send_nowait(message)
        except (trio.ClosedResourceError, trio.BrokenResourceError) as exc:
            raise ActorDied(self.name, "has closed its inbox") from exc

    def close(self) -> None:
        """Close the inbox to new messages for everyone; the actor drains what is queued and returns.

        Idempotent; never blocks. Use ``stop()`` to also wait for the actor with a deadline.
        """
        self._cell.closed = True
        self._cell.send.close()

    @property
    def closed(self) -> bool:
        """True once the inbox no longer accepts messages."""
        return self._cell.closed

    def beat(self) -> None:
        """Queue a heartbeat unless one is waiting already; never blocks.

        A full inbox counts as a heartbeat sent now (the actor is not taking messages either);
        a closed one is ignored (a stopping actor is not wedged).
        """
        cell = self._cell
        if cell.beat_sent_at is not None or cell.closed:
            return
        cell.beat_sent_at = trio.current_time()
        try:
            cell.send.send_nowait(_HEARTBEAT)
        except trio.WouldBlock:
            pass
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            cell.beat_sent_at = None

    def heartbeat_age(self) -> float:
        """Seconds the waiting heartbeat has gone unreceived; 0.0 when none waits."""
        sent = self._cell.beat_sent_at
        return 0.0 if sent is None else trio.current_time() - sent

    def statistics(self) -> ActorStatistics:
        """A snapshot of the inbox depth and the actor's life."""
        cell = self._cell
        return ActorStatistics(
            name=cell.name,
            inbox_depth=cell.receive.statistics().current_buffer_used,
            inbox_capacity=cell.capacity,
            inbox_closed=cell.closed,
            running=cell.running,
            incarnations=cell.incarnations,
            cancel_reason=cell.cancel_reason,
        )


class _Heartbeat:
    """The runtime's heartbeat message; taken out of the inbox before the actor sees it."""

    def __repr__(self) -> str:
        return "<heartbeat>"


_HEARTBEAT = _Heartbeat()


class _Inbox(trio.abc.ReceiveChannel[Any]):
    """An actor's view of its inbox: the channel, minus heartbeats (which mark the cell alive)."""

    def __init__(self, cell: _Cell, channel: trio.MemoryReceiveChannel[Any]) -> None:
        self._cell = cell
        self._channel = channel

    def _take(self, message: Any) -> bool:
        if message is _HEARTBEAT:
            self._cell.beat_sent_at = None
            return False
        return True

    def receive_nowait(self) -> Any:
        while True:
            message = self._channel.receive_nowait()
            if self._take(message):
                return message

    async def receive(self) -> Any:
        while True:
            message = await self._channel.receive()
            if self._take(message):
                return message

    def statistics(self) -> Any:
        return self._channel.statistics()

    def clone(self) -> _Inbox:
        return _Inbox(self._cell, self._channel.clone())

    def close(self) -> None:
        self._channel.close()

    async def aclose(self) -> None:
        self._channel.close()
        await trio.lowlevel.checkpoint()

    def __enter__(self) -> _Inbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _new_address(name: str, capacity: int) -> Address:
    if not isinstance(name, str) or not name:
        raise ValueError(f"actor name must be a non-empty string, got {name!r}")
    if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 0:
        raise ValueError(f"capacity of {name!r}'s inbox must be an int >= 0, got {capacity!r}")
    send, receive = trio.open_memory_channel[Any](capacity)
    return Address(name, _Cell(name=name, capacity=capacity, send=send, receive=receive))


async def _run_once(address: Address, actor: ActorFunction, args: tuple[Any, ...], task_status: Any) -> None:
    """Run one incarnation of ``actor`` on a clone of the inbox; its exceptions propagate."""
    cell = address._cell
    scope = ReasonedCancelScope()
    cell.scope = scope
    cell.incarnations += 1
    cell.running = True
    if cell.cancel_reason is not None:
        scope.cancel(cell.cancel_reason)
    try:
        with scope, _Inbox(cell, cell.receive.clone()) as inbox:
            await actor(inbox, *args, task_status=task_status)
    finally:
        cell.running = False
    if scope.cancelled_caught:
        logger.info("actor %r cancelled: %s", cell.name, scope.reason)


def _retire(address: Address) -> None:
    """End the actor's life: close the inbox and release the requesters of queued Requests."""
    cell = address._cell
    address.close()
    orphaned = 0
    while True:
        try:
            message = cell.receive.receive_nowait()
        except (trio.WouldBlock, trio.EndOfChannel):
            break
        if message is _HEARTBEAT:
            continue
        orphaned += 1
        if isinstance(message, Request):
            message.reply_to.close()
    cell.receive.close()
    cell.exited.set()
    if orphaned:
        logger.warning("actor %r exited with %d unprocessed message(s)", cell.name, orphaned)
    else:
        logger.debug("actor %r exited", cell.name)


async def _live(
    address: Address, actor: ActorFunction, args: tuple[Any, ...], *, task_status: Any = trio.TASK_STATUS_IGNORED
) -> None:
    try:
        await _run_once(address, actor, args, task_status)
    finally:
        _retire(address)


async def spawn(
    nursery: trio.Nursery, actor: ActorFunction, *args: Any, name: str, capacity: int = 16
) -> Address:
    """Start ``actor(inbox, *args, task_status=...)`` in ``nursery`` and return its Address once it is ready.

    ``capacity`` bounds the inbox (0 makes every send wait for the actor to receive). Returns
    only after the actor calls ``task_status.started()``; if it raises first, ``spawn`` raises
    that. An exception the actor raises later propagates into ``nursery`` as usual. For
    restarts, run it under a supervisor instead.
    """
    address = _new_address(name, capacity)
    await nursery.start(_live, address, actor, args, name=f"actor:{name}")
    return address


async def stop(address: Address, *, deadline: float = 5.0) -> bool:
    """Close the actor's inbox and wait until it exits; cancel it if it is still running after ``deadline`` s.

    Returns True if the actor exited by itself, False if it had to be cancelled; the reason
    is then in ``address.statistics().cancel_reason`` (and on trio >= 0.31 in the
    ``trio.Cancelled`` the actor sees). Works on spawned and supervised actors alike; a
    supervised actor whose inbox is closed is not restarted.
    """
    if not isinstance(deadline, int | float) or not (deadline >= 0 and math.isfinite(deadline)):
        raise ValueError(f"stop deadline must be a finite number of seconds >= 0, got {deadline!r}")
    cell = address._cell
    address.close()
    with trio.move_on_after(deadline):
        await cell.exited.wait()
        return True
    reason = f"did not stop within {deadline:g}s of its inbox closing"
    logger.warning("cancelling actor %r: it %s", cell.name, reason)
    cell.cancel(reason)
    await cell.exited.wait()
    return False
