"""The circuit breaker as a long-lived, supervised actor: one per process, for every LLM user.

*Receives* (its inbox; bounded, :data:`BREAKER_INBOX`):

- :class:`~messages.llm.AttemptOutcome`: one per attempt of every LLM call, success included,
  sent by the LLM client's observer (:class:`AttemptReporter`, ``send_nowait``: a call never
  waits for the breaker).
- :class:`~messages.health.LLMHealth`: the health monitor's probe reports.
- ``Request(Admit)``: may an LLM call start? Answered with a :class:`~actors.breaker.actor.Permit`
  (whose cancel scope the breaker cancels when it opens) or ``Failure(BreakerOpen)``. While
  HALF_OPEN with its one probe call running, requests are held until the probe decides: a
  close admits them, a reopening refuses them (a long-lived breaker must not turn the calls
  queued behind a probe into skipped debates).
- :class:`~messages.llm.PermitEnded`: an admitted call ended.

*Sends* (on ``publish``, the bus): every :class:`~messages.health.BreakerState` transition, in
order, and :class:`~messages.health.LLMCallsInFlight` when admitted calls go from none to some or
from some to none (the health monitor's cue for its fast cadence). It sends to no other actor.

*Owns:* the :class:`~actors.breaker.actor.CircuitBreaker` (the pure policy plus the registry of
in-flight permits) and its cool-down timer.

On failure: a message it cannot handle (a bug) raises and the supervisor restarts it on the same
inbox, so queued messages are handled by the next incarnation. The new incarnation starts CLOSED
(a state rebuilt from nothing is the safe one: a dead LLM reopens it within one probe or three
attempts) and adopts the in-flight permits, so an opening still cuts those calls off; a
CLOSED state is published when the crash left it open or half-open. On cancellation (stop): the
timer stops; calls in flight keep running under their own budgets.

Callers use :class:`BreakerClient`::

    async with breaker.guard():            # Admit → Permit, or BreakerOpen
        outcome = await client.complete(...)   # cut off with BreakerOpen(in_flight=True) on opening
"""

from __future__ import annotations

import collections
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import attrs
import trio

from actors.breaker.actor import BreakerOpen, CircuitBreaker, Permit
from actors.breaker.policy import BreakerSettings
from actors.runtime import ActorDied, Address, Failure, Request, open_background, request
from messages.health import BreakerState, BreakerStateName, LLMCallsInFlight, LLMHealth
from messages.llm import Admit, AttemptOutcome, PermitEnded

__all__ = ["BREAKER_INBOX", "RESTARTED", "AttemptReporter", "BreakerClient", "BreakerHome", "breaker_actor"]

logger = logging.getLogger(__name__)

#: The breaker's inbox: room for every attempt of a full pool's retries many times over, so an
#: attempt is dropped (and counted by :class:`AttemptReporter`) only if the breaker is stuck.
BREAKER_INBOX = 1024

#: The reason published when a restart after a crash rebuilt an open or half-open breaker CLOSED.
RESTARTED = "breaker restarted after a crash; state rebuilt"


@attrs.define(eq=False)
class BreakerHome:
    """What outlives one incarnation of the breaker actor: its settings, where it publishes, and
    the last incarnation's :class:`CircuitBreaker` (whose in-flight permits the next one adopts)."""

    settings: BreakerSettings
    publish: Callable[[object], None]
    current: CircuitBreaker | None = None
    incarnations: int = 0
    held: collections.deque[Request[Any]] = attrs.Factory(collections.deque)  # Admits waiting on the probe


async def breaker_actor(
    inbox: trio.MemoryReceiveChannel[Any], home: BreakerHome, *, task_status: trio.TaskStatus[None]
) -> None:
    """The breaker actor's loop (see the module docstring); run it under a supervisor."""
    previous = home.current
    breaker = CircuitBreaker(publish=home.publish, settings=home.settings, inherit=previous)
    home.current = breaker
    home.incarnations += 1
    if previous is not None:
        was = previous.state
        logger.warning("circuit breaker restarted (was %s: %s); starting CLOSED", was.state.value, was.reason)
        if was.state is not BreakerStateName.CLOSED:
            _publish(home, BreakerState(BreakerStateName.CLOSED, RESTARTED, trio.current_time()))
    busy = breaker.in_flight_count > 0
    async with open_background(breaker.run, reason="breaker stopped"):  # the cool-down timer
        task_status.started()
        _answer_held(breaker, home.held)  # a new incarnation starts CLOSED: what was held is admitted
        async for message in inbox:
            if isinstance(message, Request) and isinstance(message.payload, Admit) and breaker.probe_out():
                home.held.append(message)
            else:
                _handle(breaker, message)
            _answer_held(breaker, home.held)
            count = breaker.in_flight_count
            if (count > 0) != busy:
                busy = count > 0
                _publish(home, LLMCallsInFlight(count=count, at=trio.current_time()))


def _handle(breaker: CircuitBreaker, message: object) -> None:
    if isinstance(message, (AttemptOutcome, LLMHealth)):
        breaker.receive(message)
    elif isinstance(message, PermitEnded):
        breaker.end(message.permit_id)
    elif isinstance(message, Request) and isinstance(message.payload, Admit):
        _answer_admit(breaker, message)
    elif isinstance(message, Request):
        message.reply_to.send_nowait(Failure(TypeError(f"the breaker answers Admit, got {message.payload!r}")))
        message.reply_to.close()
    else:
        breaker.receive(message)  # raises TypeError: a bug; the supervisor restarts the breaker


def _answer_held(breaker: CircuitBreaker, held: collections.deque[Request[Any]]) -> None:
    """Answer the held Admits once the probe has decided (closed: permits; reopened: refusals)."""
    while held and not breaker.probe_out():
        _answer_admit(breaker, held.popleft())


def _answer_admit(breaker: CircuitBreaker, envelope: Request[Any]) -> None:
    try:
        answer: object = breaker.admit()
    except BreakerOpen as exc:
        answer = Failure(exc)
    try:
        envelope.reply_to.send_nowait(answer)
    except (trio.BrokenResourceError, trio.ClosedResourceError, trio.WouldBlock):
        if isinstance(answer, Permit):  # the caller gave up waiting: the call never runs
            breaker.end(answer.id)
    finally:
        envelope.reply_to.close()


def _publish(home: BreakerHome, event: object) -> None:
    try:
        home.publish(event)
    except Exception:
        logger.exception("publishing %s failed", type(event).__name__)


@attrs.define(eq=False)
class AttemptReporter:
    """The LLM client's observer: sends each attempt to the breaker without ever blocking the call.

    An attempt the breaker's inbox has no room for (the breaker is stuck) or that comes after
    the breaker stopped is dropped and counted in ``dropped``.
    """

    breaker: Address
    dropped: int = 0
    #: Also publish each attempt here (the bus: the progress display counts the failed ones).
    publish: Callable[[object], None] | None = None

    def __call__(self, attempt: AttemptOutcome) -> None:
        if self.publish is not None:
            self.publish(attempt)
        try:
            self.breaker.send_nowait(attempt)
        except (trio.WouldBlock, ActorDied):
            self.dropped += 1
            logger.warning("circuit breaker inbox full or closed: attempt %s not counted", attempt.label)


@attrs.define(eq=False)
class BreakerClient:
    """How an LLM user (the debate pool, the news scorer) asks the breaker actor for admission.

    ``user`` names the caller in its ``Admit`` requests; ``timeout`` bounds waiting for the
    answer: at once, except while a half-open probe call runs, so it must exceed the longest
    call (the wiring uses ``ai_request_timeout`` + 30 s).
    """

    address: Address
    user: str = "debate"
    timeout: float = 150.0

    async def admit(self) -> Permit:
        """Ask the breaker; return the call's permit.

        Raises:
            BreakerOpen: refused (open, or half-open with its probe out).
            RequestTimeout, ActorDied: the breaker did not answer (a bug or a shutdown).
        """
        return await request(self.address, Admit(user=self.user), timeout=self.timeout)

    def end(self, permit: Permit) -> None:
        """Tell the breaker the call ended (never blocks: a lost message is covered by ``ended``)."""
        permit.ended = True
        try:
            self.address.send_nowait(PermitEnded(permit_id=permit.id))
        except (trio.WouldBlock, ActorDied):
            pass  # the breaker prunes ended permits on its next message

    @asynccontextmanager
    async def guard(self) -> AsyncIterator[Permit]:
        """Run the block as one admitted call; the breaker cancels it if it opens meanwhile.

        Raises:
            BreakerOpen: refused at entry, or (``in_flight=True``) cut off by an opening.
        """
        permit = await self.admit()
        try:
            with permit.scope:
                yield permit
        finally:
            self.end(permit)
        if permit.scope.cancelled_caught and permit.cancel_reason is not None:
            state = permit.cut_by or BreakerState(BreakerStateName.OPEN, permit.cancel_reason, trio.current_time())
            raise BreakerOpen(state, in_flight=True)
