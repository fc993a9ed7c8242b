"""One ``bin/scan`` run: open the actor system (:mod:`actors.system`), send one scan, show it, stop.

The CLI calls :func:`run_scan_command` with loaded settings; it returns the exit code.
Ctrl-C and SIGTERM cancel the scan (a ``CancelScan`` to the coordinator, which marks the run
INTERRUPTED) and we exit 130.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import logging
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import trio

from actors.cli_boundary import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, silence_stdout
from actors.config import Settings
from actors.coordinator import ScanOutcome, new_run_id
from actors.debate.wiring import client_settings
from actors.demo_llm import open_demo_llm, wants_demo_llm
from actors.display import ProgressDisplay, render_panel, render_report
from actors.render.table import wrap_text
from actors.render.width import output_width
from actors.report import iter_json, scan_report
from actors.runtime import EventBus
from actors.store.reader import open_reader
from actors.system import open_system
from actors.errors import ConfigError, StoreError
from messages.scan import RunStatus, ScanRequested

logger = logging.getLogger(__name__)

#: How long bin/scan waits, after a signal, for the coordinator to mark the run INTERRUPTED
#: (the mark itself is bounded to 5 s; start-up recovery marks it if we are gone first).
CANCEL_WAIT = 30.0


def run_scan_command(settings: Settings, args: argparse.Namespace) -> int:
    from actors.db_path import db_path_for

    db = db_path_for(settings)
    check_db_path(db)
    if _disabled_reason(settings, args) is None:
        client_settings(settings, None)  # a missing or malformed API key is a ConfigError before anything opens
    interactive = sys.stderr.isatty() and not args.json and not args.quiet
    run_id = new_run_id()
    outcome = trio.run(_scan, settings, args, db, interactive, run_id)
    if outcome is None:
        print(f"interrupted: run {run_id} marked INTERRUPTED in {db}; what was checkpointed is kept "
              f"(`bin/scan show {run_id}`)", file=sys.stderr)
        return EXIT_INTERRUPTED
    with contextlib.ExitStack() as stack:
        try:  # what is shown is what was saved, plus what was not, marked unsaved
            reader = stack.enter_context(open_reader(db))
            detail = reader.load_run(outcome.run_id, results=False)
            # The result rows come from the store one at a time, not validated again (we just
            # wrote them), so --json streams them.
            rows = reader.result_rows(outcome.run_id)
        except StoreError as exc:
            logger.error("could not read run %s back from %s: %s", outcome.run_id, db, exc)
            detail = rows = None
        report = scan_report(outcome, detail, db=str(db), results=rows)
        failed = outcome.status is RunStatus.FAILED or not (outcome.results_saved and outcome.status_saved)
        if detail is not None and outcome.results_saved:
            outcome = attrs.evolve(outcome, results=())  # the in-memory copy is no longer needed
        try:
            _print_report(report, args)
        except BrokenPipeError:  # the reader went away (`| head -1`): the run is saved; say nothing more
            silence_stdout()
    if failed:
        return EXIT_FAILED
    if outcome.status is RunStatus.PARTIAL and args.fail_on_partial:
        return EXIT_PARTIAL
    return EXIT_OK


def _print_report(report: dict, args: argparse.Namespace) -> None:
    """The run on stdout: one JSON document, or the table (then, for ``--demo``, the top ticker's panel)."""
    if args.json:
        if args.top:
            report["results"] = itertools.islice(report["results"], args.top)
        sys.stdout.writelines(iter_json(report))
        sys.stdout.write("\n")
        sys.stdout.flush()
        return
    report["results"] = list(report["results"])
    render_report(report, sys.stdout, top=args.top or 25, quiet=args.quiet)
    if args.demo and not args.quiet and report["results"]:
        debated = [r for r in report["results"] if (r.get("debate") or {}).get("status") == "completed"]
        top = (debated or report["results"])[0]
        intro = (f"The top {'debated ' if debated else ''}ticker in full "
                 f"(`bin/scan show {report['run_id']} TICKER` shows any other):")
        print("\n" + "\n".join(wrap_text(intro, output_width(sys.stdout))) + "\n")
        render_panel(report, top["ticker"], sys.stdout)
    sys.stdout.flush()


def check_db_path(db: Path) -> None:
    """Refuse a database path that cannot be a database file, before anything starts.

    Raises:
        ConfigError: the path is a directory, or its directory does not exist (exit 2).
    """
    if db.is_dir():
        raise ConfigError(f"db_path: {db} is a directory; give the path of a database file (--db FILE)")
    if not db.parent.is_dir():
        raise ConfigError(f"db_path: the directory {db.parent} does not exist; create it or give another --db")


def _disabled_reason(settings: Settings, args: argparse.Namespace) -> str | None:
    if args.no_debate:
        return "--no-debate"
    if settings.ai_backend == "none":
        return "ai_backend = none"
    if settings.top_n_ai_debate == 0:
        return "top_n_ai_debate = 0"
    return None


async def _scan(settings: Settings, args: argparse.Namespace, db: Path, interactive: bool,
                run_id: str) -> ScanOutcome | None:
    """Start the demo LLM when wanted, then scan (:func:`_scan_system`); None when interrupted."""
    outcome: ScanOutcome | None = None
    scan_scope = trio.CancelScope()
    # Opened before anything else: a signal from here on cancels the scan the orderly way (the
    # run is marked INTERRUPTED); one that arrives before the scan starts cancels it at once.
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_cancel_on_signal, signals, scan_scope)
            async with contextlib.AsyncExitStack() as demo_llm:
                if wants_demo_llm(settings, demo=args.demo, backend_flag=args.ai_backend,
                                  debates_off=_disabled_reason(settings, args) is not None):
                    settings = await demo_llm.enter_async_context(open_demo_llm(settings))
                    if not args.quiet and not args.json:
                        print("no LLM configured: the debates run against the built-in demo LLM (SYNTHETIC replies "
                              "written from each ticker's numbers); --ai-backend or ollama_host uses a real one",
                              file=sys.stderr)
                outcome = await _scan_system(settings, args, db, interactive, run_id, scan_scope)
            nursery.cancel_scope.cancel()
    return outcome


async def _scan_system(settings: Settings, args: argparse.Namespace, db: Path, interactive: bool, run_id: str,
                       scan_scope: trio.CancelScope) -> ScanOutcome | None:
    """Open the actor system, send it the scan, show its progress, stop it; None when interrupted."""
    outcome: ScanOutcome | None = None
    score_news = bool(getattr(args, "score_news", False))
    async with open_system(settings, db=db, disabled=_disabled_reason(settings, args), news=score_news) as system:
        request = ScanRequested(
            universe=tuple(settings.universe or system.provider.default_universe()),
            source=settings.source,
            requested_at=dt.datetime.now(dt.timezone.utc),
            reason="demo" if args.demo else "manual",
            run_id=run_id,
            score_news=score_news,
        )
        with ProgressDisplay(sys.stderr, enabled=interactive) as display:
            async with trio.open_nursery() as shown:
                shown.start_soon(_show_progress, system.bus, display)
                with scan_scope:
                    outcome = await system.scan(request)
                if scan_scope.cancelled_caught:  # wait (bounded) until the run is marked INTERRUPTED
                    with trio.CancelScope(shield=True, deadline=trio.current_time() + CANCEL_WAIT):
                        await system.cancel_scan(run_id)
                shown.cancel_scope.cancel()
    return outcome


async def _cancel_on_signal(signals: AsyncIterator[int], scope: trio.CancelScope) -> None:
    async for signum in signals:
        logger.warning("received %s: stopping the scan", signal.Signals(signum).name)
        scope.cancel()
        return


async def _show_progress(bus: EventBus, display: ProgressDisplay) -> None:
    async with bus.subscribe(capacity=256) as events:
        async for event in events:
            display.handle(event)
