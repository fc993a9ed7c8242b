"""``bin/daemon``: the actor system of ``bin/scan``, plus the scheduler, signals, systemd notify and watchdog.

::

    open_system(settings, db=..., news=True)  the same supervised tree as bin/scan, and the news scorer
    └── + scheduler (actors.app.scheduler)    scans on schedule, resumes unfinished runs
    signals        SIGTERM/SIGINT: stop scheduling, ShutDown(shutdown_grace), exit 0
                   SIGHUP: reload the configuration (same loader); a bad file → one ERROR line
    sd_notify      READY=1 once the store is open, recovery done and the actors up; STATUS=;
                   WATCHDOG=1 while every actor's heartbeat is fresh; STOPPING=1

Exit codes: 0 after a signal; 2 for a configuration error at start; 1 when an actor crashed past
its restart limit (the line names it; systemd's ``Restart=on-failure`` restarts the service)
or the database cannot be opened.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import functools
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import trio

from actors.app.calendar import TradingCalendar
from actors.app.dashboard import start_dashboard
from actors.app.notify import Notifier, watchdog_interval
from actors.app.resume import resume_run
from actors.app.schedule import ScheduleSpec, catch_up_due, next_due
from actors.app.scheduler import CANCEL_WAIT, SchedulerDeps, SchedulerHome, scheduler_actor
from actors.app.watchdog import run_watchdog
from actors.cli_boundary import EXIT_OK, NOISY_LOGGERS, exit_for
from actors.cli_types import set_overrides
from actors.config import FIELDS, Settings, load_settings, settings_snapshot
from actors.coordinator import new_run_id
from actors.db_path import db_path_for
from actors.debate.wiring import client_settings
from actors.errors import ConfigError, UsageError
from actors.runtime import ChildSpec, Supervisor, request, stop
from actors.secrets import ScrubbingFilter, Secret, known_secrets, scrub_all
from actors.store.reader import list_runs
from actors.system import System, open_system
from actors.web.serve import check_listen
from messages.daemon import Reschedule, ShutDown
from messages.resume import ListResumable
from messages.scan import ScanRequested

__all__ = ["DaemonOptions", "main", "serve"]

logger = logging.getLogger(__name__)

#: STATUS= is sent when the scheduler's state changes, and checked at least this often (the next scan time).
STATUS_EVERY = 60.0
#: Settings the scheduler applies on SIGHUP; the others take effect at the next start.
LIVE_SETTINGS = ("scan_at", "scan_timezone", "scan_every", "resume_window")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        raise UsageError(f"{self.prog}: {message}")


def _parser() -> _Parser:
    p = _Parser(prog="bin/daemon", description="Scan on a schedule and finish debates when the LLM comes back "
                "(README: Running as a service).")
    p.add_argument("--config", type=Path, help="TOML config file (reloaded on SIGHUP)")
    p.add_argument("--db", type=Path, help="SQLite database path (default: $STATE_DIRECTORY or ~/.local/state)")
    p.add_argument("--source", help="market data: snapshot or sim")
    p.add_argument("--universe", help="comma-separated tickers")
    p.add_argument("--ai-backend", help="ollama, claude or none")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="any setting")
    p.add_argument("--print-config", action="store_true", help="show the effective settings and exit")
    p.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG")
    p.add_argument("--debug", action="store_true", help="on an error, print the traceback too")
    return p


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    flags: dict[str, Any] = {name: getattr(args, name) for name in ("source", "universe", "ai_backend")
                             if getattr(args, name) is not None}
    if args.db is not None:
        flags["db_path"] = str(args.db)
    return flags


@attrs.frozen(kw_only=True)
class DaemonOptions:
    """What :func:`serve` needs besides settings; tests replace the parts that touch the machine."""

    db: Path | str
    reload: Callable[[], Settings]  #: SIGHUP: load the configuration again (raises ConfigError)
    notifier: Notifier = attrs.field(factory=lambda: Notifier(None))
    watchdog: float | None = None  #: seconds between WATCHDOG=1 pings, or None
    wall_clock: Callable[[], dt.datetime] = functools.partial(dt.datetime.now, dt.timezone.utc)
    calendar: TradingCalendar = attrs.field(factory=TradingCalendar)
    signals: Callable[[], Any] | None = None  #: () → async context yielding signal numbers (default: the OS's)
    system_options: Mapping[str, Any] = attrs.field(factory=dict)  #: extra open_system() arguments
    dashboard: bool = False  #: serve the dashboard on ``dashboard_listen`` (bin/daemon: unless it is empty)


def debates_disabled(settings: Settings) -> str | None:
    if settings.ai_backend == "none":
        return "ai_backend = none"
    if settings.top_n_ai_debate == 0:
        return "top_n_ai_debate = 0"
    return None


async def serve(settings: Settings, options: DaemonOptions) -> int:
    """Run the daemon until SIGTERM/SIGINT (returns 0); a crash loop raises SupervisorEscalation."""
    notifier = options.notifier
    signals = options.signals or functools.partial(trio.open_signal_receiver, signal.SIGTERM, signal.SIGINT,
                                                   signal.SIGHUP)
    try:
        with signals() as received:
            disabled = debates_disabled(settings)
            news = {"news": disabled is None, "news_interval": settings.news_interval,  # the queue drains itself
                    "news_clock": options.wall_clock}
            async with open_system(settings, db=options.db, disabled=disabled,
                                   **{**news, **options.system_options}) as system:
                home = await _scheduler_home(settings, system, options)
                scheduler = await system.supervisor.start(ChildSpec(
                    "scheduler", scheduler_actor, args=(home,), max_restarts=3, within=60.0))
                async with trio.open_nursery() as tasks:
                    if options.dashboard:
                        await start_dashboard(tasks, settings, db=options.db, system=system, home=home,
                                              scheduler=scheduler)
                    logger.info("daemon ready: database %s; %s", options.db, home.status_line())
                    notifier.notify("READY=1", f"STATUS={home.status_line()}")
                    if options.watchdog:
                        await tasks.start(functools.partial(
                            run_watchdog, system.supervisor, lambda: notifier.notify("WATCHDOG=1"),
                            interval=options.watchdog))
                    tasks.start_soon(_status_loop, home, notifier, system.supervisor)
                    settings = await _until_stopped(received, settings, options, scheduler)
                    notifier.notify("STOPPING=1", "STATUS=stopping: letting debates in flight finish")
                    grace = settings.shutdown_grace
                    stats = await request(scheduler, ShutDown(grace=grace), timeout=grace + CANCEL_WAIT + 60.0)
                    tasks.cancel_scope.cancel()
                await stop(scheduler)
                logger.info("daemon stopped: %d scans run, %d skipped, %d resumes (%d finished a run)",
                            stats.started, stats.skipped, stats.resumes, stats.resumes_finished)
    finally:
        notifier.notify("STOPPING=1")
        notifier.close()
    return EXIT_OK


async def _scheduler_home(settings: Settings, system: System, options: DaemonOptions) -> SchedulerHome:
    wall = options.wall_clock
    universe = tuple(settings.universe or system.provider.default_universe())

    async def scan(run_id: str, reason: str) -> Any:
        return await system.scan(ScanRequested(universe, settings.source, wall(), reason=reason, run_id=run_id))

    async def resume(run_id: str) -> Any:
        if system.debate is None:
            raise ConfigError(f"debates are off ({system.debate_disabled_reason}); run {run_id} cannot be resumed")
        return await resume_run(run_id, store=system.store, runner=system.debate, publish=system.bus.publish,
                                wall_clock=wall)

    async def list_resumable(since: dt.datetime) -> tuple[str, ...]:
        if system.debate is None:
            return ()
        return await system.store.send(ListResumable(since=since))

    spec = ScheduleSpec.from_settings(settings)
    # (a stat, then the query in a thread: no thread at all without a database file, so that
    # virtual-time tests on the in-memory persister never wait on one)
    last = await trio.to_thread.run_sync(newest_run_started, options.db) if Path(options.db).is_file() else None
    return SchedulerHome(
        deps=SchedulerDeps(
            scan=scan, cancel_scan=system.cancel_scan, list_resumable=list_resumable, resume=resume,
            new_run_id=new_run_id, events=system.bus, wall_clock=wall, calendar=options.calendar,
            retry_after=settings.health_interval,
        ),
        spec=spec,
        resume_window=settings.resume_window,
        catch_up=catch_up_due(wall(), spec, options.calendar, window=settings.catch_up_window, last_scan=last),
        scan_on_start=settings.scan_on_start,
        next_due=next_due(wall(), spec, options.calendar),
    )


def newest_run_started(db: Path | str) -> dt.datetime | None:
    """When the newest run in the database started (None: no database file or no run yet)."""
    if not Path(db).is_file():
        return None
    runs = list_runs(db, limit=1)
    return runs[0].started_at if runs else None


async def _until_stopped(received: AsyncIterator[int], settings: Settings, options: DaemonOptions,
                         scheduler: Any) -> Settings:
    """Handle SIGHUP (reload) until SIGTERM or SIGINT; returns the settings in force."""
    async for signum in received:
        if signum == signal.SIGHUP:
            settings = await _reload(settings, options, scheduler)
            continue
        logger.info("received %s: stopping", signal.Signals(signum).name)
        return settings
    return settings


async def _reload(settings: Settings, options: DaemonOptions, scheduler: Any) -> Settings:
    try:
        new = options.reload()
    except ConfigError as exc:
        logger.error("reload refused, the running settings stay: %s", exc)
        return settings
    changed = [name for name in FIELDS if getattr(new, name) != getattr(settings, name)]
    later = [name for name in changed if name not in LIVE_SETTINGS and name != "shutdown_grace"]
    await scheduler.send(Reschedule(scan_at=new.scan_at, scan_timezone=new.scan_timezone,
                                    scan_every=new.scan_every, resume_window=new.resume_window))
    logger.info("configuration reloaded: %s changed%s", ", ".join(changed) or "nothing",
                f"; {', '.join(later)} apply at the next restart" if later else "")
    return attrs.evolve(settings, **{name: getattr(new, name) for name in (*LIVE_SETTINGS, "shutdown_grace")})


async def _status_loop(home: SchedulerHome, notifier: Notifier, supervisor: Supervisor) -> None:
    """STATUS= whenever the line changes (the scheduler pokes ``status_changed``), checked at least every minute."""
    last = None
    while True:
        changed = home.status_changed
        line = f"{home.status_line()}; {queue_lengths(supervisor)}"
        if line != last:
            notifier.notify(f"STATUS={line}")
            last = line
        with trio.move_on_after(STATUS_EVERY):
            await changed.wait()


def queue_lengths(supervisor: Supervisor) -> str:
    """``queues: persister 3, coordinator 1`` (actors with messages waiting), or ``queues empty``."""
    waiting = [f"{c.name} {c.inbox_depth}" for c in supervisor.statistics().children if c.inbox_depth]
    return "queues: " + ", ".join(waiting) if waiting else "queues empty"


class _JournalPriority(logging.Filter):
    """Adds ``priority`` (syslog level) so journald files each line under its level (``<3>``...)."""

    LEVELS = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}

    def filter(self, record: logging.LogRecord) -> bool:
        record.priority = self.LEVELS.get(record.levelno, 6)
        return True


def configure_logging(settings: Settings, *, verbose: bool, env: Mapping[str, str],
                      secrets: tuple[Secret | None, ...]) -> None:
    """One line per event on stderr: level, logger (the actor's module) and message (run ids are in it);
    no timestamp and a ``<N>`` syslog priority under journald (``$JOURNAL_STREAM``), which adds its own."""
    handler = logging.StreamHandler(sys.stderr)
    if env.get("JOURNAL_STREAM"):
        handler.addFilter(_JournalPriority())
        handler.setFormatter(logging.Formatter("<%(priority)d>%(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(ScrubbingFilter(secrets))
    level = logging.DEBUG if verbose else getattr(logging, settings.log_level)
    logging.basicConfig(level=level, handlers=[handler])
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def main(argv: Sequence[str] | None = None) -> int:
    """``bin/daemon``: returns the exit code; the one error boundary (one line, no traceback)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    settings: Settings | None = None
    try:
        args = _parser().parse_args(argv)
        flags = _flags(args)
        overrides = set_overrides(args.set)
        settings = load_settings(config_file=args.config, flags=flags, overrides=overrides)
        if args.print_config:
            print(json.dumps(settings_snapshot(settings), indent=2, sort_keys=True))
            return EXIT_OK
        configure_logging(settings, verbose=args.verbose, env=os.environ, secrets=known_secrets(settings))
        if debates_disabled(settings) is None:
            client_settings(settings, None)  # a missing API key is a ConfigError before anything opens
        options = DaemonOptions(
            db=db_path_for(settings),
            reload=functools.partial(load_settings, config_file=args.config, flags=flags, overrides=overrides),
            notifier=Notifier.from_environment(),
            watchdog=watchdog_interval(),
            dashboard=settings.dashboard_listen.strip().lower() != "off",
        )
        if options.dashboard:  # a bad address or a missing token is a ConfigError before anything opens
            check_listen(settings.dashboard_listen, settings.dashboard_token)
        return trio.run(serve, settings, options)
    except SystemExit:
        raise
    except BaseException as exc:
        secrets = known_secrets(settings)
        return exit_for(exc, stderr=sys.stderr, debug="--debug" in argv, scrub=lambda text: scrub_all(text, secrets))

