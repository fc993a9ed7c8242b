"""How many LLM calls may run at once: a limit that follows what the server serves in parallel.

Ollama serves ``OLLAMA_NUM_PARALLEL`` requests at once and queues the rest; a request queued
behind ours waits before its first byte, and waits long enough it burns its first-chunk
timeout. The time to the first chunk is therefore the signal: its floor (the smallest recent
value) is the server's own latency, anything above it is queueing. In the manner of Netflix's
concurrency-limits (AIMD with a latency signal, slow start as in TCP):

- *Slow start*: from ``initial`` (3, the old fixed default, so the first round is never more
  crowded than before; a one-at-a-time server makes two calls wait one and two replies), an
  unqueued first chunk of a call made while the whole limit was in use proves the server
  serves ``x`` of ours at once (``x``: ours streaming now, or at the server when it was sent
  less one that may just have ended): the limit becomes ``2x``, until the first queued one. At
  most ``x`` calls beyond what is proven are out, and a server that serves ``x`` at once starts
  them within one reply.
- *Queued* (first chunk more than ``max(queue_floor, queue_fraction × reply time)`` above the
  floor, judged once a reply's time is known): the server could not start a request while
  ``x`` of ours were at it, so the limit drops to at most ``x - 1``, and halves when the wait
  exceeded 1.5 reply times (a queue of several rounds: the server shrank or another client
  arrived) — but not below what unqueued calls proved since the last decrease (requests sent
  together reach the server in any order). The limit never waits for queueing to become a
  timeout.
- *First-chunk timeout*: the limit halves (and is at most ``x - 1``).
- One decrease per round: a signal from a call sent before the latest decrease only updates the
  floor (its queueing was caused by the old limit), as TCP reduces once per window.
- *Probing*: after slow start, each unqueued first chunk of a call made with the whole limit
  in use adds ``1 / (4 × limit)`` (one slot per four rounds of calls), so a server that can
  serve more gets more; a probe costs a request at most about one reply of queueing. Probing
  stops while a reply takes more than half the first-chunk timeout (a probe must never cost a
  timeout).
- The limit stays within ``[minimum, maximum]`` (``ai_concurrency_min``,
  ``ai_debate_concurrency``); ``minimum == maximum`` pins it.

:class:`AdaptiveLimit` is the pure policy (no trio). :class:`ConcurrencyLimiter` hands out
:class:`Slot` s under the current limit; while a slot is held, :meth:`Slot.measuring` installs
it as the :data:`~actors.llm.budget.FIRST_CHUNK_LISTENER` of the calling task, so every attempt's
:class:`~actors.llm.budget.ChunkTimer` reports its first chunk (or timeout) to the policy.
"""

from __future__ import annotations

import collections
import contextvars
import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager

import attrs
import trio
from attrs import frozen

from actors.llm.budget import FIRST_CHUNK_LISTENER

__all__ = ["AdaptiveLimit", "ConcurrencyLimiter", "LimiterStatistics", "Slot"]

logger = logging.getLogger(__name__)


def _positive_int(_inst: object, attribute: attrs.Attribute, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"AdaptiveLimit.{attribute.name} must be an integer >= 1, got {value!r}")


@attrs.define(kw_only=True)
class AdaptiveLimit:
    """The limit policy (see the module docstring). Feed it samples; read :attr:`current`.

    Tuning (keyword-only, defaults from the module docstring): ``initial`` (3), ``queue_floor``
    (0.01 s) and ``queue_fraction`` (0.25) of a reply's time that count as queueing, ``window``
    (50 first chunks for the floor), ``probe_rounds`` (4), ``first_chunk_timeout`` (None: no
    probing guard).

    Raises:
        ValueError: a bound is not an integer >= 1, or ``minimum > maximum`` (names the field).
    """

    minimum: int = attrs.field(default=1, validator=_positive_int)
    maximum: int = attrs.field(validator=_positive_int)
    initial: int = attrs.field(default=3, validator=_positive_int)
    first_chunk_timeout: float | None = None
    queue_floor: float = 0.01
    queue_fraction: float = 0.25
    window: int = 50
    probe_rounds: int = 4
    limit: float = attrs.field(init=False)
    _decreased_at: float = attrs.field(init=False, default=-math.inf)
    _proven: int = attrs.field(init=False, default=0)  # most of ours served at once since the last decrease
    slow_start: bool = attrs.field(init=False, default=True)
    service: float | None = attrs.field(init=False, default=None)
    _recent: collections.deque[float] = attrs.field(init=False)
    counts: collections.Counter[str] = attrs.field(init=False, factory=collections.Counter)

    def __attrs_post_init__(self) -> None:
        if self.minimum > self.maximum:
            raise ValueError(
                f"AdaptiveLimit.minimum ({self.minimum}) must be <= maximum ({self.maximum})"
            )
        self.limit = float(min(self.maximum, max(self.minimum, self.initial)))
        self._recent = collections.deque(maxlen=self.window)

    @property
    def pinned(self) -> bool:
        return self.minimum == self.maximum

    @property
    def current(self) -> int:
        """The number of calls that may be in flight now."""
        return int(self.limit + 1e-9)

    @property
    def floor(self) -> float | None:
        """The smallest recent time to first chunk: the server's latency without queueing."""
        return min(self._recent) if self._recent else None

    def queued(self, waited: float) -> bool:
        """True when a first chunk after ``waited`` seconds shows queueing at the server.

        Judged only once a reply's duration is known: on a server serving only our calls, a
        queued request's first chunk comes after another request ended, so that is no loss.
        """
        floor = self.floor
        if floor is None or self.service is None:
            return False
        return waited - floor > max(self.queue_floor, self.queue_fraction * self.service)

    def on_first_chunk(self, waited: float, *, in_flight: int, sent_at: float = math.inf,
                       streaming: int = 0) -> None:
        """An attempt sent at ``sent_at`` got its first chunk ``waited`` s later, with ``in_flight`` of ours out.

        ``in_flight`` counts our attempts at the server when this one was sent, itself included;
        ``streaming`` those that have their first chunk now, itself included. Unqueued with the
        whole limit in use, it proves the server serves ``max(streaming, in_flight - 1)`` at once
        (one of the others may have ended just as this one was sent): in slow start the limit
        becomes twice that; afterwards it grows by ``1 / (probe_rounds × limit)``. An attempt sent before the latest decrease only updates
        the floor: it was sent under the old limit, whose queueing is already answered (one
        decrease per round of calls, as TCP does per window).
        """
        self._recent.append(waited)
        queued = self.queued(waited)
        self.counts["queued" if queued else "unqueued"] += 1
        if sent_at < self._decreased_at:
            return
        if queued:
            self.slow_start = False
            target = min(self.limit, in_flight - 1)
            floor = self.floor or 0.0
            if self.service is not None and waited - floor > 1.5 * self.service:  # a queue of several rounds
                target = min(target, self.limit / 2)
            # Never below what this round proved: requests opened together reach the server in any order.
            self._decrease(max(target, self._proven), sent_at + waited, "queued first chunk")
            return
        proven = max(streaming, in_flight - 1)
        self._proven = max(self._proven, proven)
        if in_flight < self.current or not self._may_probe():
            return
        if self.slow_start:
            self._set(max(self.limit, 2.0 * proven), None)
        else:
            self._set(self.limit + 1.0 / (self.probe_rounds * self.current), None)

    def on_first_chunk_timeout(self, waited: float, *, in_flight: int, sent_at: float = math.inf) -> None:
        """An attempt sent at ``sent_at`` saw no first chunk within its budget (``waited`` s)."""
        self.counts["timeouts"] += 1
        if sent_at < self._decreased_at:
            return
        self.slow_start = False
        self._decrease(min(self.limit / 2, in_flight - 1), sent_at + waited, "first-chunk timeout")

    def _decrease(self, target: float, now: float, why: str) -> None:
        if target < self.limit:
            self._decreased_at = now
            self._proven = 0
            self._set(target, why)

    def on_service(self, seconds: float) -> None:
        """How long an unqueued attempt held the server after its first chunk (plus the floor)."""
        if seconds < 0 or not math.isfinite(seconds):
            return
        self.service = seconds if self.service is None else 0.8 * self.service + 0.2 * seconds

    def _may_probe(self) -> bool:
        if self.first_chunk_timeout is None or self.service is None:
            return True
        return self.service <= self.first_chunk_timeout / 2

    def _set(self, value: float, why: str | None) -> None:
        if self.pinned:
            return
        before = self.current
        self.limit = min(float(self.maximum), max(float(self.minimum), value))
        if self.current != before:
            level = logging.INFO if why else logging.DEBUG
            logger.log(level, "LLM concurrency %d -> %d%s", before, self.current, f" ({why})" if why else "")


@frozen
class LimiterStatistics:
    """A snapshot: the limit, calls holding a slot, calls waiting for one, and sample counts."""

    limit: int
    minimum: int
    maximum: int
    in_flight: int
    waiting: int
    queued: int
    unqueued: int
    timeouts: int
    max_in_flight: int


class Slot:
    """One call's permission to run; report its attempts with :meth:`measuring`, then release."""

    def __init__(self, limiter: ConcurrencyLimiter) -> None:
        self._limiter = limiter
        self._attempt_started: float | None = None
        self._attempt_in_flight = 0
        self._first_chunk: tuple[float, float] | None = None  # (at, waited) of the current attempt
        self._released = False

    @contextmanager
    def measuring(self) -> Iterator[Slot]:
        """Make this slot the first-chunk listener of the calling task while the block runs."""
        token = FIRST_CHUNK_LISTENER.set(self)
        try:
            yield self
        finally:
            FIRST_CHUNK_LISTENER.reset(token)

    # the first-chunk listener protocol (called by ChunkTimer)
    def attempt_started(self) -> None:
        self._close_attempt(trio.current_time())
        self._attempt_started = trio.current_time()
        self._limiter.at_server += 1
        self._attempt_in_flight = self._limiter.at_server  # ours at the server, this one last in line
        self._first_chunk = None

    def first_chunk(self, waited: float) -> None:
        self._first_chunk = (trio.current_time(), waited)
        self._limiter.streaming += 1
        self._limiter.policy.on_first_chunk(waited, in_flight=self._attempt_in_flight,
                                            sent_at=trio.current_time() - waited,
                                            streaming=self._limiter.streaming)
        self._limiter._changed()

    def first_chunk_timeout(self, waited: float) -> None:
        self._limiter.policy.on_first_chunk_timeout(waited, in_flight=self._attempt_in_flight,
                                                    sent_at=trio.current_time() - waited)
        self._close_attempt(trio.current_time())
        self._limiter._changed()

    def _close_attempt(self, now: float) -> None:
        """The attempt in progress ended: an unqueued one tells how long a request holds the server."""
        if self._attempt_started is None:
            return
        self._attempt_started = None
        self._limiter.at_server -= 1
        if self._first_chunk is not None:
            self._limiter.streaming -= 1
        policy = self._limiter.policy
        if self._first_chunk is not None and policy.floor is not None:
            at, waited = self._first_chunk
            if not policy.queued(waited):
                policy.on_service(now - at + policy.floor)
        self._first_chunk = None

    def release(self) -> None:
        """Give the slot back (idempotent)."""
        if self._released:
            return
        self._released = True
        self._close_attempt(trio.current_time())
        self._limiter._release()


class ConcurrencyLimiter:
    """Slots for LLM calls under an :class:`AdaptiveLimit` (shared by every caller of one LLM).

    ``async with limiter.slot() as slot:`` waits for a free slot (FIFO), installs it as the
    task's first-chunk listener and releases it at the end of the block, also on cancellation.
    """

    def __init__(self, policy: AdaptiveLimit) -> None:
        self.policy = policy
        self.in_flight = 0  # slots held
        self.at_server = 0  # attempts sent and not ended (a slot in retry backoff has none)
        self.streaming = 0  # attempts past their first chunk and not ended
        self._max_in_flight = 0
        self._lot = trio.lowlevel.ParkingLot()

    @classmethod
    def fixed(cls, limit: int) -> ConcurrencyLimiter:
        """A limiter pinned at ``limit``."""
        return cls(AdaptiveLimit(minimum=limit, maximum=limit, initial=limit))

    @property
    def limit(self) -> int:
        return self.policy.current

    def statistics(self) -> LimiterStatistics:
        counts = self.policy.counts
        return LimiterStatistics(
            limit=self.limit, minimum=self.policy.minimum, maximum=self.policy.maximum,
            in_flight=self.in_flight, waiting=len(self._lot), queued=counts["queued"],
            unqueued=counts["unqueued"], timeouts=counts["timeouts"], max_in_flight=self._max_in_flight,
        )

    async def acquire(self) -> Slot:
        """Wait for a free slot (first come, first served) and take it; release it when done."""
        if self.in_flight < self.limit and not len(self._lot):
            await trio.lowlevel.checkpoint_if_cancelled()
            self._take()
            await trio.lowlevel.cancel_shielded_checkpoint()
        else:
            await self._lot.park()  # whoever woke us took the slot for us (see _changed)
        return Slot(self)

    def slot(self) -> _SlotContext:
        """``async with limiter.slot() as slot:`` (see the class docstring)."""
        return _SlotContext(self)

    def _take(self) -> None:
        self.in_flight += 1
        self._max_in_flight = max(self._max_in_flight, self.in_flight)

    def _release(self) -> None:
        self.in_flight -= 1
        self._changed()

    def _changed(self) -> None:
        """Hand free slots to waiting callers, oldest first."""
        while self.in_flight < self.limit and len(self._lot):
            self._take()
            self._lot.unpark(count=1)


class _SlotContext:
    """``async with limiter.slot()``: acquire, listen to first chunks, release (also on cancellation)."""

    def __init__(self, limiter: ConcurrencyLimiter) -> None:
        self._limiter = limiter
        self._slot: Slot | None = None
        self._token: contextvars.Token | None = None

    async def __aenter__(self) -> Slot:
        self._slot = await self._limiter.acquire()
        self._token = FIRST_CHUNK_LISTENER.set(self._slot)
        return self._slot

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._slot is not None and self._token is not None
        FIRST_CHUNK_LISTENER.reset(self._token)
        self._slot.release()
