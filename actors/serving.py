"""An actor's receive loop that handles each message in its own task, and what a crash means.

::

    async def run_fetcher(inbox, fetcher, *, task_status=trio.TASK_STATUS_IGNORED):
        await serve(inbox, functools.partial(_handle, fetcher), actor="fetcher", task_status=task_status)

Messages are taken in order and each is handled in a task of its own, so two scans' requests
are served at once; the state of one request lives in its handler's task. When a handler
raises, the actor crashes (its shared state may be inconsistent; its supervisor restarts it on
the same inbox): the request being handled is answered with :class:`HandlerCrashed` naming
the error, every other request in hand is answered the same way as its task is cancelled, and
messages still queued wait in the inbox for the next incarnation. Nobody is left waiting for a
timeout, and nothing queued is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from actors.runtime import ActorDied, Failure, Request, answer

logger = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[None]]


class HandlerCrashed(ActorDied):
    """The actor crashed while this request was in hand; it is restarted, the request is not redone.

    A requester whose request is idempotent may send it again (the fetcher's client does).
    """


async def serve(
    inbox: trio.MemoryReceiveChannel[Any],
    handle: Handler,
    *,
    actor: str,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Report started, then run ``handle(message)`` in a task per message until the inbox closes.

    Returns once the inbox is closed and every handler has finished. Raises the first
    handler's exception (not wrapped in an ExceptionGroup) after answering the requests in
    hand; see the module docstring.
    """
    crash: list[BaseException] = []
    try:
        async with trio.open_nursery() as nursery:
            task_status.started()
            async for message in inbox:
                nursery.start_soon(_handle_one, message, handle, actor, crash)
    except BaseExceptionGroup as group:
        cause = single_cause(group)
        if cause is not group:
            raise cause from None
        raise


async def _handle_one(message: Any, handle: Handler, actor: str, crash: list[BaseException]) -> None:
    try:
        await handle(message)
    except BaseException as caught:
        exc = single_cause(caught)
        if isinstance(exc, Exception):
            crash.append(exc)
        if isinstance(message, Request):
            what = type(message.payload).__name__
            if isinstance(exc, Exception):
                why = f"crashed while handling {what}: {type(exc).__name__}: {exc}"
            elif crash:
                why = f"crashed ({type(crash[0]).__name__}: {crash[0]}) while {what} was in hand"
            else:
                why = f"was stopped while {what} was in hand"
            answer(message, Failure(HandlerCrashed(actor, why)))  # a no-op if already answered
        if isinstance(exc, Exception):
            what = type(message.payload if isinstance(message, Request) else message).__name__
            logger.error("%s crashed while handling %s: %r", actor, what, exc)
        raise


def single_cause(exc: BaseException) -> BaseException:
    """The one Exception inside ``exc``'s (nested) groups, if there is exactly one; else ``exc``."""
    errors = [e for e in _leaves(exc) if isinstance(e, Exception)]
    return errors[0] if len(errors) == 1 else exc


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]
