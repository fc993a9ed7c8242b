"""The one error boundary of the command line: any exception becomes one line on stderr and an exit code.

Errors raised inside trio nurseries reach the CLI wrapped in (possibly nested)
``ExceptionGroup``s. :func:`exit_for` unwraps them once, here at the edge, and picks the error
that explains the failure best:

::

    KeyboardInterrupt                      "interrupted"                      exit 130
    BrokenPipeError (stdout closed)        "error: the output was closed..."  exit 1
                                           (the CLI stops quietly with exit 0 instead when the
                                            reader of its stdout went away: ``| head``)
    ConfigError, UsageError                "error: <message>"                 exit 2
    StoreError (DiskFull included)         "error: database: <message>"       exit 1
    SupervisorEscalation (the system)      "error: actor 'x' exceeded its      exit 1
                                            restart limit ...; last error: ..."
    other OptionAlphaError                 "error: <message>"                 its exit_code
    anything else (a bug)                  "internal error: <Type>: <message> (run with --debug
                                            for the traceback)"              exit 1

Every line is passed through the scrubber (the API key in any encoding becomes ``***``). With
``debug`` the traceback is printed too (scrubbed as well).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Iterator
from typing import TextIO

from actors.errors import ConfigError, OptionAlphaError, StoreError, UsageError
from actors.runtime import SupervisorEscalation

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_PARTIAL", "EXIT_USAGE", "exit_for", "leaves", "silence_stdout",
           "NOISY_LOGGERS"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

#: Libraries whose DEBUG lines are transport noise (connection pools, SSE framing), not the scan:
#: bin/scan and bin/daemon keep them at WARNING even with -v.
NOISY_LOGGERS = ("httpx", "httpx2", "httpcore", "httpcore2", "h11", "hpack", "anthropic", "ollama", "apsw", "asyncio")


def leaves(exc: BaseException) -> Iterator[BaseException]:
    """Every non-group exception inside ``exc`` (nested groups flattened), in order."""
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from leaves(inner)
    else:
        yield exc


def _rank(exc: BaseException) -> int:
    """Which leaf explains a failure best: an interrupt, then configuration, then ours, then a bug."""
    if isinstance(exc, KeyboardInterrupt):
        return 0
    if isinstance(exc, (ConfigError, UsageError)):
        return 1
    if isinstance(exc, (OptionAlphaError, SupervisorEscalation)):
        return 2
    return 3


def _describe(exc: BaseException) -> tuple[str, int]:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", EXIT_INTERRUPTED
    if isinstance(exc, BrokenPipeError):
        return "error: the output was closed before everything was written (broken pipe)", EXIT_FAILED
    if isinstance(exc, StoreError):
        return f"error: database: {exc}", EXIT_FAILED
    if isinstance(exc, OptionAlphaError):
        return f"error: {exc}", exc.exit_code
    if isinstance(exc, SupervisorEscalation):  # the system stopped: one line naming the actor and its error
        return f"error: {exc}", EXIT_FAILED
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return (f"internal error: {type(exc).__name__}{': ' + text if text else ''} "
            "(run with --debug for the traceback)"), EXIT_FAILED


def exit_for(exc: BaseException, *, stderr: TextIO, debug: bool = False,
             scrub: Callable[[str], str] = lambda text: text) -> int:
    """Print the one line that explains ``exc`` on ``stderr`` and return the exit code.

    ``SystemExit`` is not handled here (argparse's ``--help`` uses it); every other exception,
    groups included, is.
    """
    # trio.Cancelled and other bare BaseExceptions are the consequence, never the cause.
    found = [e for e in leaves(exc) if isinstance(e, (Exception, KeyboardInterrupt))] or [exc]
    best = min(found, key=_rank)
    line, code = _describe(best)
    if debug:
        stderr.write(scrub("".join(traceback.format_exception(exc))))
    others = len(found) - 1
    if others and code != EXIT_INTERRUPTED:
        line += f" (and {others} other error{'s' if others > 1 else ''}{'' if debug else '; --debug shows them'})"
    print(scrub(line), file=stderr)
    return code


def silence_stdout() -> None:
    """Point stdout at /dev/null after the reader of a pipe went away, so the flush at exit
    raises no second ``BrokenPipeError`` (Python's documented recipe)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - a replaced stdout (tests) has no file descriptor
    finally:
        os.close(devnull)
