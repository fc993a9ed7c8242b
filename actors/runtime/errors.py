"""The errors the actor kernel raises, each naming the actor concerned.

::

    ActorError                  base; ``.actor`` is the actor's name
     ├── RequestTimeout         the actor did not answer a request in time (NOT a trio.TooSlowError)
     ├── ActorDied              the actor's inbox is closed, or it closed the reply without answering
     └── SupervisorEscalation   a child crashed past its restart limit; ``__cause__`` is its last error

They do not derive from ``actors.errors.OptionAlphaError``: the kernel imports nothing from the
rest of the project.
"""

from __future__ import annotations


class ActorError(Exception):
    """Base of the kernel's errors; ``actor`` names the actor concerned."""

    def __init__(self, actor: str, message: str) -> None:
        self.actor = actor
        super().__init__(f"actor {actor!r} {message}")


class RequestTimeout(ActorError):
    """An actor did not answer a request within the caller's timeout.

    Deliberately not a ``trio.TooSlowError`` (nor a ``TimeoutError``), like tractor's
    ``ActorTooSlowError``: a generic ``except trio.TooSlowError`` written around some unrelated
    I/O in the caller must not swallow it. A slow *actor* is a different failure from a slow
    socket: it says the actor is stuck or overloaded, and whoever catches it should know that.
    """

    def __init__(self, actor: str, timeout: float, what: str) -> None:
        self.timeout = timeout
        super().__init__(actor, f"did not answer {what} within {timeout:g}s")


class ActorDied(ActorError):
    """The actor cannot answer: its inbox is closed, or it closed the reply channel without answering."""


class SupervisorEscalation(ActorError):
    """A supervised child failed more often than its restart limit allows.

    Raised once, out of ``open_supervisor``, after the supervisor's other children have been
    stopped in reverse start order. ``actor`` names the child, ``last_error`` is its last
    exception (also ``__cause__``), or None if it last exited without raising.
    """

    def __init__(self, actor: str, message: str, last_error: BaseException | None) -> None:
        self.last_error = last_error
        super().__init__(actor, message)
