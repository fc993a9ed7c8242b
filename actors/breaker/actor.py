"""The circuit breaker's state: the policy and the registry of admitted calls' cancel scopes.

:class:`CircuitBreaker` is what the breaker *actor* (:mod:`actors.breaker.supervised`) owns: the
actor's loop hands it every message and it decides synchronously, so that when an attempt opens
the breaker every admitted call's cancel scope is cancelled before the next message is read.
It is also usable in one task without the actor (``open_breaker`` + :meth:`CircuitBreaker.guard`),
which the state-machine tests do; the product always goes through the actor.

*Receives:* one :class:`~messages.llm.AttemptOutcome` per attempt of every LLM call, success
included, from the LLM client's observer as each attempt ends, and
:class:`~messages.health.LLMHealth` reports, through :meth:`CircuitBreaker.receive` (or
:meth:`CircuitBreaker.consume` from a channel). What each attempt means is decided by the LLM
layer (``FailureKind.breaker_meaning``); the policy (:mod:`actors.breaker.policy`) reads that.

*Sends:* a :class:`~messages.health.BreakerState` to ``publish`` on every transition, in order.

*Owns:* the :class:`~actors.breaker.policy.BreakerPolicy` and the registry of in-flight calls'
cancel scopes (one :class:`Permit` per admitted call).

Usage by a worker (the client's observer reports the attempts; the guard only admits the call
and lets the breaker cut it off)::

    try:
        with breaker.guard():                    # or: async with breaker.guard()
            outcome = await client.complete(...)
    except BreakerOpen as exc:                   # refused at entry, or cut off mid-call
        ...

On failure: a ``publish`` that raises is logged and counted; the state change stands and
in-flight calls are still cancelled. On cancellation: the cool-down timer task simply stops;
guarded calls cancelled from outside propagate ``trio.Cancelled`` as usual. Attempts reported
while OPEN (late reports from calls the opening cut off) change nothing (``late_attempts``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any

import attrs
import trio
from attrs import frozen

from actors.breaker.policy import BreakerPolicy, BreakerSettings
from actors.errors import ConfigError, OptionAlphaError
from actors.runtime.background import open_background
from messages.health import BreakerState, BreakerStateName, LLMHealth
from messages.llm import AttemptOutcome, BreakerMeaning

__all__ = [
    "BreakerOpen",
    "BreakerStatistics",
    "CircuitBreaker",
    "Permit",
    "open_breaker",
]

logger = logging.getLogger(__name__)


class BreakerOpen(OptionAlphaError):
    """An LLM call may not run: the breaker is open (or half-open with its one probe taken).

    Not an ``OSError`` nor a ``trio.TooSlowError``: a transport or timeout handler must not
    swallow it and retry. ``in_flight`` is True when the call had started and was cut off.
    """

    def __init__(self, state: BreakerState, *, in_flight: bool = False) -> None:
        self.state = state
        self.in_flight = in_flight
        if in_flight:
            text = f"LLM call cut off: circuit breaker opened: {state.reason}"
        elif state.state is BreakerStateName.HALF_OPEN:
            text = f"circuit breaker half-open, its one probe call is running ({state.reason})"
        else:
            text = f"circuit breaker {state.state.value}: {state.reason}"
        super().__init__(text)


@frozen
class BreakerStatistics:
    state: BreakerStateName
    reason: str
    changed_at: float
    consecutive_failures: int  # the current streak of not-responding attempts
    window_calls: int  # answered attempts in the failure-rate window
    window_failures: int  # answered errors among them
    in_flight: int  # guarded calls running now
    admitted: int  # guarded calls let through
    rejected: int  # guard entries refused with BreakerOpen
    cut_off: int  # in-flight calls cancelled by an opening
    attempts: int  # attempt outcomes received
    late_attempts: int  # attempt outcomes received while OPEN (ignored)
    transitions: int
    publish_errors: int


class Permit:
    """One admitted LLM call: its cancel scope, and whether it is the half-open probe.

    The call's attempts reach the breaker through the client's observer, not through the
    permit: the permit only lets the breaker cut the call off (``cancel_reason`` says why).
    """

    def __init__(self, generation: int, probe: bool, permit_id: int = 0) -> None:
        self.id = permit_id  # names the permit in a PermitEnded message
        self.generation = generation
        self.probe = probe  # the half-open probe call
        self.scope = trio.CancelScope()
        self.cancel_reason: str | None = None  # set when the breaker cut this call off
        self.cut_by: BreakerState | None = None  # the opening that cut this call off
        self.ended = False  # set by the caller as the call ends (the breaker prunes ended permits)


class _Guard:
    """Admits a call (or raises BreakerOpen) and runs it in a cancel scope the breaker owns."""

    def __init__(self, breaker: CircuitBreaker) -> None:
        self._breaker = breaker
        self._permit: Permit | None = None

    def __enter__(self) -> Permit:
        self._permit = self._breaker._admit()
        self._permit.scope.__enter__()
        return self._permit

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        assert self._permit is not None
        permit = self._permit
        swallowed = permit.scope.__exit__(exc_type, exc, tb)
        self._breaker._leave(permit)
        if permit.scope.cancelled_caught and permit.cancel_reason is not None:
            raise BreakerOpen(self._breaker.state, in_flight=True) from None
        return bool(swallowed)

    async def __aenter__(self) -> Permit:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        return self.__exit__(exc_type, exc, tb)


class CircuitBreaker:
    """See the module docstring. Build it with :func:`open_breaker` (which runs the timer)."""

    def __init__(
        self,
        *,
        publish: Callable[[object], None],
        settings: BreakerSettings | None = None,
        inherit: CircuitBreaker | None = None,
    ) -> None:
        self._publish = publish
        self._policy = BreakerPolicy(settings, now=trio.current_time())
        self._in_flight: dict[int, Permit] = {}
        self._next_id = 1
        self._generation = 0
        self._changed = trio.Event()  # replaced (after being set) on every change
        self._counts = dict.fromkeys(
            ("admitted", "rejected", "cut_off", "attempts", "late_attempts", "transitions", "publish_errors"), 0
        )
        if inherit is not None:
            self._adopt(inherit)

    def _adopt(self, previous: CircuitBreaker) -> None:
        """Take over a crashed predecessor's in-flight calls and counters; the policy starts CLOSED.

        The calls stay under this breaker's control (an opening cuts them off); none of them is
        the half-open probe any more (there is no half-open state to decide).
        """
        previous._prune()
        for permit in previous._in_flight.values():
            permit.probe = False
            self._in_flight[permit.id] = permit
        self._next_id = previous._next_id
        self._counts.update(previous._counts)

    # -- reading ------------------------------------------------------------------------------

    @property
    def state(self) -> BreakerState:
        """The current state: the latest transition (CLOSED / "started" before the first one).

        Reading it applies a cool-down that has just elapsed, even if the timer task has not
        run yet at this instant, so the answer never lags trio's clock.
        """
        self._tick()
        return self._policy.state

    @property
    def settings(self) -> BreakerSettings:
        return self._policy.settings

    @property
    def in_flight_count(self) -> int:
        """Admitted calls running now (the health monitor's fast cadence is on while > 0)."""
        self._prune()
        return len(self._in_flight)

    def statistics(self) -> BreakerStatistics:
        state = self.state
        calls, failed = self._policy.window_counts(trio.current_time())
        return BreakerStatistics(
            state=state.state,
            reason=state.reason,
            changed_at=state.changed_at,
            consecutive_failures=self._policy.consecutive_failures,
            window_calls=calls,
            window_failures=failed,
            in_flight=self.in_flight_count,
            **self._counts,
        )

    # -- receiving ----------------------------------------------------------------------------

    def receive(self, message: object) -> BreakerState | None:
        """Handle an AttemptOutcome or an LLMHealth; returns the transition, if any.

        Raises:
            TypeError: any other message type.
        """
        self._tick()
        self._prune()
        now = trio.current_time()
        if isinstance(message, AttemptOutcome):
            self._counts["attempts"] += 1
            if self._policy.name is BreakerStateName.OPEN and message.meaning is not BreakerMeaning.NEUTRAL:
                self._counts["late_attempts"] += 1
            event = self._policy.record_attempt(message, now)
        elif isinstance(message, LLMHealth):
            event = self._policy.record_health(message, now)
        else:
            raise TypeError(f"circuit breaker receives AttemptOutcome or LLMHealth, got {type(message).__name__}")
        self._apply(event)
        return event

    async def consume(self, channel: trio.abc.ReceiveChannel[Any]) -> None:
        """Feed every message from ``channel`` to :meth:`receive` until it closes."""
        async with channel:
            async for message in channel:
                self.receive(message)

    # -- guarding calls -----------------------------------------------------------------------

    def guard(self) -> _Guard:
        """``with breaker.guard() as permit:`` (or ``async with``) around one LLM call.

        Entering never blocks: it returns a :class:`Permit` or raises :class:`BreakerOpen` at
        once. When the breaker opens, the body is cancelled and the ``with`` raises
        ``BreakerOpen(in_flight=True)``; ``permit.cancel_reason`` records why.
        """
        return _Guard(self)

    async def wait_closed(self) -> None:
        """Return once the breaker is CLOSED (at once, after a checkpoint, if it is)."""
        await self._wait_for(lambda: self._policy.name is BreakerStateName.CLOSED)

    async def wait_allowed(self) -> None:
        """Return once a call would be admitted: CLOSED, or HALF_OPEN with the probe slot free.

        Several waiters may wake for one half-open probe slot; all but the first are refused.
        """
        await self._wait_for(lambda: self._policy.would_allow(trio.current_time()))

    # -- the timer ----------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The cool-down timer: moves OPEN → HALF_OPEN on trio's clock. Runs until cancelled."""
        task_status.started()
        while True:
            changed = self._changed
            deadline = self._policy.half_open_at
            with trio.move_on_at(math.inf if deadline is None else deadline):
                await changed.wait()
            self._tick()

    # -- internals ----------------------------------------------------------------------------

    async def _wait_for(self, condition: Callable[[], bool]) -> None:
        await trio.lowlevel.checkpoint()
        while not condition():
            await self._changed.wait()

    def _tick(self) -> None:
        self._apply(self._policy.tick(trio.current_time()))

    def probe_out(self) -> bool:
        """True while HALF_OPEN with its one probe call running: an admission now would be refused
        only until that call decides (the actor holds such requests instead of refusing them)."""
        self._tick()
        self._prune()
        return self._policy.name is BreakerStateName.HALF_OPEN and self._policy.probe_in_flight

    def admit(self) -> Permit:
        """Admit one call now and return its :class:`Permit`; end it with :meth:`end`.

        Raises:
            BreakerOpen: the breaker is open, or half-open with its one probe call out.
        """
        return self._admit()

    def end(self, permit_id: int) -> None:
        """The call admitted with ``permit_id`` has ended (unknown ids are ignored: already pruned)."""
        permit = self._in_flight.get(permit_id)
        if permit is not None:
            self._leave(permit)

    def _prune(self) -> None:
        """Forget permits their callers marked ended (a PermitEnded message may come later, or never)."""
        for permit in [p for p in self._in_flight.values() if p.ended]:
            self._leave(permit)

    def _admit(self) -> Permit:
        self._tick()
        self._prune()
        if not self._policy.allow(trio.current_time()):
            self._counts["rejected"] += 1
            raise BreakerOpen(self._policy.state)
        probe = self._policy.name is BreakerStateName.HALF_OPEN
        permit = Permit(self._generation, probe, self._next_id)
        self._next_id += 1
        self._counts["admitted"] += 1
        self._in_flight[permit.id] = permit
        return permit

    def _leave(self, permit: Permit) -> None:
        permit.ended = True
        if self._in_flight.pop(permit.id, None) is None:
            return
        if permit.probe and permit.generation == self._generation:
            if self._policy.name is BreakerStateName.HALF_OPEN and self._policy.probe_in_flight:
                logger.debug("half-open probe call ended without deciding; freeing the probe slot")
                self._policy.release_probe()
                self._signal()

    def _signal(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def _apply(self, event: BreakerState | None) -> None:
        if event is None:
            return
        self._counts["transitions"] += 1
        if event.state is BreakerStateName.OPEN:
            self._generation += 1
            logger.warning("circuit breaker OPEN: %s", event.reason)
            reason = f"circuit breaker opened: {event.reason}"
            for permit in list(self._in_flight.values()):
                permit.cancel_reason = reason
                permit.cut_by = event
                permit.scope.cancel(reason=reason)
                self._counts["cut_off"] += 1
            self._in_flight.clear()
        else:
            logger.info("circuit breaker %s: %s", event.state.value.upper(), event.reason)
        self._signal()
        try:
            self._publish(event)
        except Exception:
            self._counts["publish_errors"] += 1
            logger.exception("publishing the breaker state failed; the state change stands")


_SETTING_NAMES = tuple(a.name for a in attrs.fields(BreakerSettings))


@asynccontextmanager
async def open_breaker(
    *,
    publish: Callable[[object], None],
    **policy: Any,
) -> AsyncIterator[CircuitBreaker]:
    """Run a :class:`CircuitBreaker` (and its cool-down timer) for the ``async with`` block.

    ``policy`` takes the :class:`BreakerSettings` fields: ``failures``, ``failure_rate``,
    ``window``, ``min_calls``, ``cooldown``. In-task use (the state-machine tests); the product
    runs the breaker as an actor (:mod:`actors.breaker.supervised`).

    An exception from the ``async with`` body is re-raised as itself (not in an ExceptionGroup).

    Raises:
        ConfigError: an unknown or invalid setting.
    """
    unknown = sorted(set(policy) - set(_SETTING_NAMES))
    if unknown:
        raise ConfigError(
            f"unknown breaker setting {unknown[0]!r}; expected one of {', '.join(_SETTING_NAMES)}"
        )
    breaker = CircuitBreaker(
        publish=publish, settings=BreakerSettings(**policy)
    )
    async with open_background(breaker.run, reason="breaker closed"):
        yield breaker
