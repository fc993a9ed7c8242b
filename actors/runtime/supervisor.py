"""One-for-one supervision of long-lived actors, with a restart limit and ordered shutdown.

::

    async with open_supervisor(name="daemon") as sup:
        store = await sup.start(ChildSpec("persister", persister, args=(path,)))
        fetch = await sup.start(ChildSpec("fetcher", fetcher, args=(store,), restart=Restart.TRANSIENT))
        await trio.sleep_forever()
    # leaving the block stops the children in reverse start order (fetcher, then persister)

A crashed child is restarted alone (one-for-one) on the *same inbox*, so its Address stays
valid and queued messages wait for the next incarnation. Whether it is restarted depends on
its ``Restart`` type. More than ``max_restarts`` restarts within ``within`` seconds (trio's
clock) escalates: the block is cancelled, the other children are stopped in reverse start
order, and ``open_supervisor`` raises one ``SupervisorEscalation`` naming the child and
chained (``from``) to its last exception. A child whose inbox was closed (``address.close()``,
``stop()``) is never restarted: it was asked to stop.
"""

from __future__ import annotations

import enum
import logging
import math
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import attrs
import trio

from .cancel import ReasonedCancelScope
from .errors import SupervisorEscalation
from .mailbox import ActorFunction, Address, _new_address, _retire, _run_once, stop

logger = logging.getLogger(__name__)


class Restart(enum.Enum):
    """When a child is restarted after its actor function ends."""

    PERMANENT = "permanent"  #: always: it returned or raised
    TRANSIENT = "transient"  #: only if it raised
    TEMPORARY = "temporary"  #: never


def _positive_int(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"ChildSpec.{attribute.name} must be an int >= 0, got {value!r}")


def _seconds(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, int | float) or not (value > 0 and math.isfinite(value)):
        raise ValueError(f"ChildSpec.{attribute.name} must be a finite number of seconds > 0, got {value!r}")


def _name(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"ChildSpec.name must be a non-empty string, got {value!r}")


def _callable(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not callable(value):
        raise ValueError(f"ChildSpec.actor must be an async function, got {value!r}")


def _restart(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Restart):
        raise ValueError(f"ChildSpec.restart must be a Restart member, got {value!r}")


@attrs.frozen
class ChildSpec:
    """How to run and restart one child: ``actor(inbox, *args, task_status=...)`` named ``name``.

    ``max_restarts`` restarts are allowed within any ``within`` seconds; one more escalates.
    ``capacity`` bounds the inbox; ``stop_deadline`` is how long a stop waits before cancelling.
    ``restart_before_ready=False``: a child whose first incarnation raises before it is ready
    is not restarted, and ``start()`` raises that error as is (a database that cannot be
    opened will not open on the next try either).
    """

    name: str = attrs.field(validator=_name)
    actor: ActorFunction = attrs.field(validator=_callable)
    args: tuple[Any, ...] = attrs.field(default=(), converter=tuple)
    restart: Restart = attrs.field(default=Restart.PERMANENT, validator=_restart, kw_only=True)
    max_restarts: int = attrs.field(default=3, validator=_positive_int, kw_only=True)
    within: float = attrs.field(default=5.0, validator=_seconds, kw_only=True)
    capacity: int = attrs.field(default=16, validator=_positive_int, kw_only=True)
    stop_deadline: float = attrs.field(default=5.0, validator=_seconds, kw_only=True)
    restart_before_ready: bool = attrs.field(default=True, kw_only=True)


@attrs.frozen
class ChildStatistics:
    """A snapshot of one child."""

    name: str
    restart: Restart
    restarts: int
    running: bool
    inbox_depth: int
    last_error: str | None  #: repr of the last exception it raised, if any


@attrs.frozen
class SupervisorStatistics:
    """A snapshot of a supervisor's children, in start order."""

    name: str
    children: tuple[ChildStatistics, ...]
    escalated: bool

    @property
    def restarts(self) -> Mapping[str, int]:
        """Restarts per child name."""
        return {child.name: child.restarts for child in self.children}


@attrs.define(eq=False)
class _Child:
    spec: ChildSpec
    address: Address
    restarts: int = 0
    last_error: BaseException | None = None
    recent: deque[float] = attrs.Factory(deque)  # trio times of restarts within the window


@attrs.define
class _ReadyOnce:
    """Passes the first ``started()`` through to trio; later incarnations' calls are no-ops."""

    status: Any
    done: bool = False

    def started(self, value: Any = None) -> None:
        if not self.done:
            self.done = True
            self.status.started(value)


class Supervisor:
    """Runs children one-for-one inside ``open_supervisor``; see the module docstring."""

    def __init__(self, nursery: trio.Nursery, body: ReasonedCancelScope, *, name: str) -> None:
        self.name = name
        self._nursery = nursery
        self._body = body
        self._children: list[_Child] = []
        self._stopping = False
        self._escalation: SupervisorEscalation | None = None

    async def start(self, spec: ChildSpec) -> Address:
        """Start a child and return its Address once it is ready (its first ``task_status.started()``).

        Raises ValueError for a duplicate name, RuntimeError once the supervisor is stopping, and
        SupervisorEscalation if the child exhausts its restart limit before ever being ready.
        """
        if not isinstance(spec, ChildSpec):
            raise ValueError(f"Supervisor.start() takes a ChildSpec, got {spec!r}")
        if self._stopping:
            raise RuntimeError(f"supervisor {self.name!r} is stopping; cannot start {spec.name!r}")
        if any(child.spec.name == spec.name for child in self._children):
            raise ValueError(f"supervisor {self.name!r} already has a child named {spec.name!r}")
        child = _Child(spec, _new_address(spec.name, spec.capacity))
        self._children.append(child)
        await self._nursery.start(self._keep, child, name=f"actor:{spec.name}")
        return child.address

    async def stop(self) -> None:
        """Stop every child in reverse start order, each within its ``stop_deadline``. Idempotent."""
        self._stopping = True
        for child in reversed(self._children):
            await stop(child.address, deadline=child.spec.stop_deadline)

    def beat(self) -> None:
        """Send every child a heartbeat (see :meth:`Address.beat`); never blocks."""
        for child in self._children:
            child.address.beat()

    def stale(self, max_age: float) -> tuple[str, ...]:
        """Names of the children whose heartbeat has waited unreceived for more than ``max_age`` s."""
        return tuple(c.spec.name for c in self._children if c.address.heartbeat_age() > max_age)

    def statistics(self) -> SupervisorStatistics:
        """A snapshot of restarts, liveness and inbox depth per child."""
        children = []
        for child in self._children:
            actor = child.address.statistics()
            children.append(
                ChildStatistics(
                    name=child.spec.name,
                    restart=child.spec.restart,
                    restarts=child.restarts,
                    running=actor.running,
                    inbox_depth=actor.inbox_depth,
                    last_error=None if child.last_error is None else repr(child.last_error),
                )
            )
        return SupervisorStatistics(self.name, tuple(children), self._escalation is not None)

    async def _keep(self, child: _Child, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Run the child's incarnations until it should not be restarted, then retire it."""
        spec = child.spec
        ready = _ReadyOnce(task_status)
        try:
            while True:
                error: Exception | None = None
                try:
                    await _run_once(child.address, spec.actor, spec.args, ready)
                except Exception as exc:
                    error = exc
                    child.last_error = exc
                if self._stopping or child.address.closed:
                    return
                if error is not None and not ready.done and not spec.restart_before_ready:
                    raise error
                if spec.restart is Restart.TEMPORARY or (spec.restart is Restart.TRANSIENT and error is None):
                    logger.info("%s: child %r ended (%s), not restarted", self.name, spec.name, spec.restart.value)
                    return
                if not self._may_restart(child):
                    escalation = self._escalate(child, error)
                    if not ready.done:
                        raise escalation from error
                    return
                child.restarts += 1
                logger.warning(
                    "%s: restarting %r (restart %d, %d within %gs allowed) after %s",
                    self.name, spec.name, child.restarts, spec.max_restarts, spec.within,
                    "it returned" if error is None else repr(error),
                )
        finally:
            _retire(child.address)

    def _may_restart(self, child: _Child) -> bool:
        """Record a restart at the current time if the child's window allows one more."""
        now = trio.current_time()
        while child.recent and child.recent[0] <= now - child.spec.within:
            child.recent.popleft()
        if len(child.recent) >= child.spec.max_restarts:
            return False
        child.recent.append(now)
        return True

    def _escalate(self, child: _Child, error: Exception | None) -> SupervisorEscalation:
        spec = child.spec
        last = "it returned" if error is None else f"last error: {error!r}"
        escalation = SupervisorEscalation(
            spec.name,
            f"exceeded its restart limit ({spec.max_restarts} restarts within {spec.within:g}s); {last}",
            error,
        )
        escalation.__cause__ = error
        if self._escalation is None:
            self._escalation = escalation
            logger.error("%s: escalating: %s", self.name, escalation)
            self._body.cancel(f"child {spec.name!r} exceeded its restart limit")
        return escalation


@asynccontextmanager
async def open_supervisor(*, name: str = "supervisor") -> AsyncIterator[Supervisor]:
    """Open a supervisor whose children live as long as the ``async with`` block.

    Leaving the block (normally or by an exception) stops the children in reverse start order;
    an exception from the block is then re-raised as is (not in an ExceptionGroup). If a child
    escalates, the block is cancelled, the other children are stopped in reverse start order,
    and ``SupervisorEscalation`` is raised here, alone.
    """
    body = ReasonedCancelScope()
    body_error: Exception | None = None
    async with trio.open_nursery() as nursery:
        supervisor = Supervisor(nursery, body, name=name)
        try:
            with body:
                yield supervisor
        except Exception as exc:
            # Re-raised below, after the nursery, so it is not wrapped in an ExceptionGroup.
            # A SupervisorEscalation here came through start() from a child never ready.
            body_error = exc
        finally:
            await supervisor.stop()
    if supervisor._escalation is not None:
        raise supervisor._escalation
    if body_error is not None:
        raise body_error
