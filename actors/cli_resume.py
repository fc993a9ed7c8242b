"""``bin/scan resume RUN_ID``: finish a run's debates in the foreground, with the progress display.

The same resume as the daemon's (:mod:`actors.app.resume`): the run is reopened under this
process's ownership lease (a run another live process has open is refused), the debates that
did not finish continue at their next agent, and the same ``scan_runs`` row is finalized. Then
the run is printed as ``bin/scan show`` prints it.

Exit codes: 0 the resume ran and its result is saved (COMPLETED, or PARTIAL when the LLM failed
again; ``--fail-on-partial`` makes that 3); 1 the run cannot be resumed (the line says why) or
a store error; 2 usage or configuration; 130 interrupted (the run is INTERRUPTED, resumable).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import attrs
import trio

from actors.app.resume import ResumeOutcome, resume_run
from actors.cli_boundary import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL
from actors.cli_types import positive_int, set_overrides
from actors.config import SOURCES, load_settings
from actors.db_path import db_path_for
from actors.debate.wiring import client_settings
from actors.display import ProgressDisplay, render_report
from actors.errors import ConfigError, StoreError, UsageError
from actors.report import detail_to_dict
from actors.store.reader import load_run, open_reader
from actors.system import open_system
from messages.debate import DebateFinished
from messages.progress import PhaseProgress, PhaseStarted
from messages.scan import Phase, RunStatus

logger = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        raise UsageError(f"{self.prog}: {message}")


def main_resume(argv: Sequence[str]) -> int:
    parser = _Parser(prog="bin/scan resume", description="Finish the debates of a PARTIAL or INTERRUPTED run.")
    parser.add_argument("run_id", help="run id (a unique prefix is enough)")
    parser.add_argument("--db", type=Path, help="SQLite database path (default: the state directory)")
    parser.add_argument("--config", type=Path, help="TOML config file")
    parser.add_argument("--ai-backend", help="ollama or claude")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="any setting")
    parser.add_argument("--top", type=positive_int, metavar="N", help="rows to show (default 25)")
    parser.add_argument("--fail-on-partial", action="store_true", help="exit 3 when the run is still PARTIAL")
    parser.add_argument("--debug", action="store_true", help="on an error, print the traceback too")
    args = parser.parse_args(argv)
    flags = {"ai_backend": args.ai_backend} if args.ai_backend else {}
    if args.db is not None:
        flags["db_path"] = str(args.db)
    settings = load_settings(config_file=args.config, flags=flags, overrides=set_overrides(args.set))
    if settings.ai_backend == "none":
        raise ConfigError("ai_backend = none: resuming a run needs an LLM (ollama or claude)")
    client_settings(settings, None)  # a missing API key is a ConfigError before anything opens
    db = db_path_for(settings)
    if not db.is_file():
        raise ConfigError(f"db_path: no database at {db}")
    with open_reader(db) as reader:
        run_id = reader.resolve_run_id(args.run_id)
        source = reader.load_run(run_id, results=False).run.source
    if source in SOURCES and "source" not in flags:  # the provider is not used; open the run's own kind
        settings = attrs.evolve(settings, source=source)
    outcome = trio.run(_resume, settings, db, run_id, sys.stderr.isatty())
    if outcome is None:
        print(f"interrupted: run {run_id} is INTERRUPTED; resume it again later", file=sys.stderr)
        return EXIT_INTERRUPTED
    render_report(detail_to_dict(load_run(db, run_id), db=str(db)), sys.stdout, top=args.top or 25)
    print(f"run {run_id}: {outcome.status.value}, {outcome.completed} of {outcome.requested} debates complete "
          f"({outcome.resumed} resumed)", file=sys.stderr)
    if not outcome.saved:
        return EXIT_FAILED
    if outcome.status is RunStatus.PARTIAL and args.fail_on_partial:
        return EXIT_PARTIAL
    return EXIT_OK


async def _resume(settings, db: Path, run_id: str, interactive: bool) -> ResumeOutcome | None:
    """Open the system, resume ``run_id``, stop; None when interrupted (the run is marked INTERRUPTED)."""
    outcome: ResumeOutcome | None = None
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with open_system(settings, db=db) as system, trio.open_nursery() as nursery:
            if system.debate is None:
                raise ConfigError(f"debates are off ({system.debate_disabled_reason})")
            scope = trio.CancelScope()
            nursery.start_soon(_cancel_on_signal, signals, scope)
            with ProgressDisplay(sys.stderr, enabled=interactive) as display:
                nursery.start_soon(_show, system.bus, display, run_id)
                with scope:
                    try:
                        outcome = await resume_run(
                            run_id, store=system.store, runner=system.debate, publish=system.bus.publish,
                            wall_clock=lambda: dt.datetime.now(dt.timezone.utc))
                    except StoreError as exc:
                        raise StoreError(f"run {run_id} cannot be resumed: {exc}") from None
            nursery.cancel_scope.cancel()
    return outcome


async def _cancel_on_signal(signals, scope: trio.CancelScope) -> None:
    async for signum in signals:
        logger.warning("received %s: stopping the resume", signal.Signals(signum).name)
        scope.cancel()
        return


async def _show(bus, display: ProgressDisplay, run_id: str) -> None:
    done, total = 0, None
    async with bus.subscribe(capacity=256) as events:
        async for event in events:
            if isinstance(event, PhaseStarted) and event.run_id == run_id:
                total = event.total
            if isinstance(event, DebateFinished) and event.run_id == run_id:
                done += 1
                display.handle(PhaseProgress(run_id, Phase.AI_DEBATE, done, total))
            display.handle(event)

