"""``bin/scan serve [--db PATH] [--listen HOST:PORT]``: the dashboard over a database alone (read-only).

No daemon is attached: the pages show what the database holds, the runs page follows new and
finished runs by polling the database (every 3 s), the system page says so, and no action
buttons are offered. SIGINT / SIGTERM stop the server (exit 0). Errors reach the CLI's one
error boundary: a malformed ``--listen``, or one beyond loopback without ``dashboard_token``,
exits 2; an address that cannot be bound exits 1.
"""

from __future__ import annotations

import argparse
import functools
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import trio

from actors.cli_boundary import NOISY_LOGGERS, leaves
from actors.config import Settings, load_settings
from actors.db_path import db_path_for
from actors.errors import OptionAlphaError, UsageError
from actors.secrets import ScrubbingFilter, known_secrets
from actors.web.serve import check_listen, run_dashboard

__all__ = ["main_serve"]

logger = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        raise UsageError(f"{self.prog}: {message}")


class ListenFailed(OptionAlphaError, OSError):
    """The dashboard's address cannot be bound (in use, or not this machine's)."""


def main_serve(argv: Sequence[str]) -> int:
    parser = _Parser(prog="bin/scan serve", description="Serve the dashboard over a database (read-only).")
    parser.add_argument("--db", type=Path, help="SQLite database path (default: the state directory)")
    parser.add_argument("--listen", metavar="HOST:PORT", help="address to listen on (default: dashboard_listen, 127.0.0.1:8787)")
    parser.add_argument("--config", type=Path, help="TOML config file")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG")
    parser.add_argument("--debug", action="store_true", help="on an error, print the traceback too")
    args = parser.parse_args(argv)
    flags = {"dashboard_listen": args.listen} if args.listen is not None else {}
    if args.db is not None:
        flags["db_path"] = str(args.db)
    settings = load_settings(config_file=args.config, flags=flags)
    check_listen(settings.dashboard_listen, settings.dashboard_token)  # exit 2 before anything opens
    _configure_logging(settings, args.verbose)
    db = db_path_for(settings)
    try:
        trio.run(_serve, settings, db)
    except* OSError as group:  # hypercorn binds inside nurseries: the error comes wrapped
        first = next(e for e in leaves(group) if isinstance(e, OSError))
        raise ListenFailed(f"dashboard_listen: cannot listen on {settings.dashboard_listen}: "
                           f"{first.strerror or first}") from None
    return 0



def _configure_logging(settings: Settings, verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(ScrubbingFilter(known_secrets(settings)))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    for noisy in ("hypercorn.access", *NOISY_LOGGERS):
        logging.getLogger(noisy).setLevel(logging.WARNING)


async def _serve(settings: Settings, db: Path) -> None:
    shutdown = trio.Event()
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            url = await nursery.start(functools.partial(
                run_dashboard, db=db, listen=settings.dashboard_listen, token=settings.dashboard_token,
                shutdown=shutdown))
            print(f"dashboard: {url}/ (database {db}, read-only; Ctrl-C stops)", file=sys.stderr, flush=True)
            async for signum in signals:
                logger.info("received %s: stopping the dashboard", signal.Signals(signum).name)
                shutdown.set()
                break
