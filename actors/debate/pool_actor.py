"""The debate pool as a long-lived, supervised actor: one per process, runs from any number of scans.

*Receives:* ``Request(RunDebates(run_id, candidates))``: each starts the run at once in its own
task (two scans' runs proceed side by side) and is answered with the run's
:class:`~actors.coordinator.DebateSummary` when its debates have ended and their rows are
written; :class:`~messages.debate.CancelRun`: the requester of that run was cancelled (Ctrl-C,
SIGTERM): that run alone is interrupted, its started debates recorded CUT_OFF and the others
SKIPPED (reason ``interrupted``), and its request closed without an answer.

*Sends:* through the :class:`~actors.debate.pool.DebatePool` it owns: admission requests to the
circuit breaker, LLM calls whose attempts the client reports to the breaker, rows to the
persister, :class:`~messages.debate.DebateFinished` events on the bus.

*Owns:* the :class:`~actors.debate.pool.DebatePool`, whose LLM slot budget (the
:class:`~actors.llm.limiter.ConcurrencyLimiter`) is the one of the process: runs at once share
``ai_debate_concurrency`` slots. Per-run state lives in each run's ``_Run``, never on the actor.

On failure: a run that raises (a bug) answers its requester with the error and leaves the other
runs alone. On cancellation (stop past its deadline, or a crash of the actor itself): every run
in progress is interrupted as with ``CancelRun``, its rows written (shielded), and its
requester sees ``ActorDied``.
"""

from __future__ import annotations

import logging
from typing import Any

import trio

from actors.debate.activity import DebateActivity
from actors.debate.pool import DebatePool
from actors.runtime import Failure, Request, answer
from messages.debate import CancelRun, RunDebates

__all__ = ["pool_actor"]

logger = logging.getLogger(__name__)


async def pool_actor(
    inbox: trio.MemoryReceiveChannel[Any],
    pool: DebatePool,
    activity: DebateActivity | None = None,
    *,
    task_status: trio.TaskStatus[None],
) -> None:
    """The pool actor's loop (see the module docstring); run it under a supervisor.

    ``activity`` (optional) counts the runs in progress: what the news scorer yields to.
    """
    activity = activity if activity is not None else DebateActivity()
    runs: dict[str, trio.CancelScope] = {}
    async with trio.open_nursery() as nursery:
        task_status.started()
        async for message in inbox:
            if isinstance(message, Request) and isinstance(message.payload, RunDebates):
                scope = trio.CancelScope()
                runs[message.payload.run_id] = scope
                activity.started()
                nursery.start_soon(_serve_run, pool, message, scope, runs, activity,
                                   name=f"debates:{message.payload.run_id}")
            elif isinstance(message, CancelRun):
                scope = runs.get(message.run_id)
                if scope is not None:
                    logger.info("debates of run %s interrupted: its requester was cancelled", message.run_id)
                    scope.cancel()
            elif isinstance(message, Request):
                answer(message, Failure(TypeError(f"the debate pool answers RunDebates, got {message.payload!r}")))
            else:
                logger.error("debate pool: unexpected message %r ignored", message)
        # inbox closed (stop): the runs in progress finish, within the supervisor's stop deadline


async def _serve_run(
    pool: DebatePool,
    envelope: Request[RunDebates],
    scope: trio.CancelScope,
    runs: dict[str, trio.CancelScope],
    activity: DebateActivity,
) -> None:
    request = envelope.payload
    try:
        with scope:
            summary = await pool.run(request.run_id, request.candidates, saved=request.saved)
        if not scope.cancelled_caught:
            answer(envelope, summary)
    except Exception as exc:  # a bug in this run: its requester gets the error, the other runs go on
        logger.exception("debates of run %s failed", request.run_id)
        answer(envelope, Failure(exc))
    finally:
        if runs.get(request.run_id) is scope:
            del runs[request.run_id]
        activity.ended()
        envelope.reply_to.close()
