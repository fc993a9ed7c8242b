"""Wires one ``bin/scan`` run: persister, bus, fetcher, coordinator, debate pool, display.

The CLI calls :func:`run_scan_command` with loaded settings; it returns the exit code.
Ctrl-C and SIGTERM cancel the scan; the coordinator marks the run INTERRUPTED and we exit 130.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import itertools
import logging
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import trio

from actors.cli_boundary import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL
from actors.config import Settings, settings_snapshot
from actors.coordinator import ScanOutcome, new_run_id, run_scan, snapshot_json
from actors.debate.wiring import client_settings, open_debate_runner
from actors.display import ProgressDisplay, render_report
from actors.fetcher import Fetcher
from actors.providers.base import make_provider
from actors.report import iter_json, scan_report
from actors.runtime import EventBus, spawn, stop
from actors.store.client import StoreClient
from actors.store.persister import run_persister, store_options
from actors.store.reader import open_reader
from actors.errors import ConfigError, StoreError
from messages.scan import RunStatus, ScanRequested

logger = logging.getLogger(__name__)


def run_scan_command(settings: Settings, args: argparse.Namespace) -> int:
    from actors.db_path import db_path_for

    db = db_path_for(settings)
    check_db_path(db)
    if _disabled_reason(settings, args) is None:
        client_settings(settings, None)  # a missing or malformed API key is a ConfigError before anything opens
    interactive = sys.stderr.isatty() and not args.json
    outcome = trio.run(_scan, settings, args, db, interactive)
    if outcome is None:
        print(f"interrupted: run marked INTERRUPTED in {db}; what was checkpointed is kept", file=sys.stderr)
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
        if args.json:
            if args.top:
                report["results"] = itertools.islice(report["results"], args.top)
            sys.stdout.writelines(iter_json(report))
            sys.stdout.write("\n")
        else:
            report["results"] = list(report["results"])
            render_report(report, sys.stdout, top=args.top or 25, color=sys.stdout.isatty())
    if failed:
        return EXIT_FAILED
    if outcome.status is RunStatus.PARTIAL and args.fail_on_partial:
        return EXIT_PARTIAL
    return EXIT_OK


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


async def _scan(settings: Settings, args: argparse.Namespace, db: Path, interactive: bool) -> ScanOutcome | None:
    options = {"size": settings.universe_size, "seed": settings.seed} if settings.source == "sim" else {}
    provider = make_provider(settings.source, **options)
    universe = settings.universe or provider.default_universe()
    request = ScanRequested(
        universe=tuple(universe),
        source=settings.source,
        requested_at=dt.datetime.now(dt.timezone.utc),
        reason="demo" if args.demo else "manual",
    )
    fetcher = Fetcher(
        provider,
        concurrency=settings.fetch_concurrency,
        retry_delays=settings.fetch_retry_delays,
        timeout=settings.fetch_timeout,
        earnings_horizon_days=settings.dte_max,
    )
    bus = EventBus(name="scan")
    run_id = new_run_id()
    disabled = _disabled_reason(settings, args)
    outcome: ScanOutcome | None = None
    scan_scope = trio.CancelScope()
    # Opened before anything else: a signal from here on cancels the scan the orderly way (the
    # run is marked INTERRUPTED); one that arrives before run_scan starts cancels it at once.
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_cancel_on_signal, signals, scan_scope)
                persister = await spawn(nursery, functools.partial(run_persister, **store_options(settings, db)),
                                        name="persister", capacity=64)
                store = StoreClient(persister)
                with ProgressDisplay(sys.stderr, enabled=interactive) as display:
                    nursery.start_soon(_show_progress, bus, display)
                    async with open_debate_runner(settings, store=store, publish=bus.publish, disabled=disabled) as (
                        debate,
                        debate_disabled,
                    ):
                        with scan_scope:
                            outcome = await run_scan(
                                request,
                                run_id=run_id,
                                settings=settings,
                                fetcher=fetcher,
                                store=store,
                                publish=bus.publish,
                                debate=debate,
                                debate_disabled_reason=debate_disabled,
                                settings_json=snapshot_json(settings_snapshot(settings)),
                            )
                    bus.close()
                await stop(persister, deadline=10)
                nursery.cancel_scope.cancel()
        finally:
            await provider.aclose()
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
