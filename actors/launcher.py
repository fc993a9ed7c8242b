"""``bin/scan``'s process entry point: SIGINT and SIGTERM are handled first thing, then the CLI runs.

Python's defaults turn a SIGTERM in the first moments of a process into exit 143 and a SIGINT
into a ``KeyboardInterrupt`` traceback from whatever module was being imported. Before
anything else is imported, this module installs a handler that ends the process with exit 130
and one line on stderr. Until the scan starts nothing is open, so there is nothing to clean
up; once it starts, the scan's own signal receiver (``actors.scan_app``) takes over, marks the
run INTERRUPTED and returns 130 the orderly way, and gives this handler back when it ends.

``bin/scan`` runs ``python -S -m actors.launcher``: site's start-up (the virtualenv's path
files) runs after the handler is installed, which leaves only the interpreter's own
initialisation (a few milliseconds) uncovered; the launcher's shell part traps both signals.
"""

import os
import signal
import sys

EXIT_INTERRUPTED = 130


def _exit_interrupted(signum: int, _frame: object) -> None:
    os.write(2, f"interrupted ({signal.Signals(signum).name})\n".encode())
    os._exit(EXIT_INTERRUPTED)


def install_early_signal_handlers() -> None:
    """SIGINT and SIGTERM end the process with exit 130 until the scan installs its own handling."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _exit_interrupted)


if __name__ == "__main__":
    install_early_signal_handlers()
    if sys.flags.no_site:  # bin/scan starts Python with -S so that this runs before site's start-up work
        import site

        site.main()
    from actors.cli import main

    sys.exit(main())
