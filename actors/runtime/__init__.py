"""The actor kernel on trio alone: spawning with bounded inboxes, request/reply, supervision, an event bus, graceful stop.

It imports nothing from the rest of option-alpha (``tests/runtime/test_kernel_imports.py``
checks it); the actors are built on this public surface.
"""

from .background import open_background
from .bus import BusStatistics, EventBus, Subscription, SubscriptionStatistics
from .cancel import ReasonedCancelScope
from .envelope import Failure, Request, answer, answering
from .errors import ActorDied, ActorError, RequestTimeout, SupervisorEscalation
from .mailbox import ActorFunction, ActorStatistics, Address, spawn, stop
from .request import request
from .supervisor import (
    ChildSpec,
    ChildStatistics,
    Restart,
    Supervisor,
    SupervisorStatistics,
    open_supervisor,
)

__all__ = [
    "ActorDied",
    "ActorError",
    "ActorFunction",
    "ActorStatistics",
    "Address",
    "BusStatistics",
    "ChildSpec",
    "ChildStatistics",
    "EventBus",
    "Failure",
    "ReasonedCancelScope",
    "Request",
    "RequestTimeout",
    "Restart",
    "Subscription",
    "SubscriptionStatistics",
    "Supervisor",
    "SupervisorEscalation",
    "SupervisorStatistics",
    "answer",
    "answering",
    "open_background",
    "open_supervisor",
    "request",
    "spawn",
    "stop",
]
