"""``bin/daemon``'s process entry point: signals first, then :func:`actors.app.daemon.main`.

Until the daemon's own signal handling is in place (the first thing :func:`serve` opens),
SIGTERM and SIGINT end the process with exit 0 and one line: nothing is open yet, so there is
nothing to save, and systemd must not count a stop during start-up as a failure. SIGHUP is
ignored until then (a reload before the configuration was even read has nothing to reload).
``bin/daemon`` starts Python with these signals blocked, as ``bin/scan`` does.
"""

import os
import signal
import sys


def _exit_stopped(signum: int, _frame: object) -> None:
    os.write(2, f"stopped by {signal.Signals(signum).name} during start-up\n".encode())
    os._exit(0)


if __name__ == "__main__":
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _exit_stopped)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
    if sys.flags.no_site:
        import site

        site.main()
    from actors.app.daemon import main

    sys.exit(main())
