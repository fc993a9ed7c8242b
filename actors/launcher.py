"""``bin/scan``'s process entry point: SIGINT and SIGTERM are handled first thing, then the CLI runs.

Python's defaults turn a SIGTERM in the first moments of a process into exit 143 and a SIGINT
into a ``KeyboardInterrupt`` traceback from whatever module was being imported. Before
anything else is imported, this module installs a handler that ends the process with exit 130
and one line on stderr. Until the scan starts nothing is open, so there is nothing to clean
up; once it starts, the scan's own signal receiver (``actors.scan_app``) takes over, marks the
run INTERRUPTED and returns 130 the orderly way, and gives this handler back when it ends.

``bin/scan`` covers the whole start-up: its shell part traps both signals while it sets up
the virtualenv, then starts ``python -S -m actors.launcher`` with SIGINT and SIGTERM blocked
(GNU ``env --block-signal``), so a signal during the interpreter's initialisation stays pending
until the handler is installed here and unblocks it; ``-S`` defers site's start-up work until
after that. What is left uncovered is bash's own first milliseconds before its ``trap`` line.
"""

import os
import signal
import sys

EXIT_INTERRUPTED = 130


def _exit_interrupted(signum: int, _frame: object) -> None:
    os.write(2, f"interrupted ({signal.Signals(signum).name})\n".encode())
    os._exit(EXIT_INTERRUPTED)


def install_early_signal_handlers() -> None:
    """SIGINT and SIGTERM end the process with exit 130 until the scan installs its own handling.

    ``bin/scan`` starts Python with both signals blocked; a signal that arrived meanwhile is
    pending and is delivered to this handler as soon as they are unblocked here.
    """
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _exit_interrupted)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


if __name__ == "__main__":
    install_early_signal_handlers()
    if sys.flags.no_site:  # bin/scan starts Python with -S so that this runs before site's start-up work
        import site

        site.main()
    from actors.cli import main

    sys.exit(main())
