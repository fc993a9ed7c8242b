"""Terminal output: live per-phase progress bars on stderr, then the ranked table on stdout.

Uses ``rich``. Progress is shown only when stderr is a terminal; the table is plain text (no
colour codes) when stdout is not a terminal, so it can be piped.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from actors.report import advice, age_cell, catalyst_flags, debate_cell, option_cells
from messages.progress import PhaseFinished, PhaseProgress, PhaseStarted


_STDERR: Console | None = None


def stderr_console() -> Console:
    """The one console on stderr: progress bars and (on a terminal) log lines share it, so
    a warning printed mid-scan does not tear the bars."""
    global _STDERR
    if _STDERR is None:
        _STDERR = Console(stderr=True)
    return _STDERR


class ProgressDisplay:
    """Turns progress events into one bar per phase (counts and elapsed time)."""

    def __init__(self, stream: TextIO, *, enabled: bool) -> None:
        self.enabled = enabled
        self._progress = Progress(
            TextColumn("{task.description}", table_column=Column(width=11, no_wrap=True)),
            BarColumn(bar_width=24),
            MofNCompleteColumn(table_column=Column(no_wrap=True)),
            TimeElapsedColumn(),
            TextColumn("{task.fields[note]}", table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1)),
            console=stderr_console() if stream is sys.stderr else Console(file=stream),
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> "ProgressDisplay":
        if self.enabled:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._progress.stop()

    def handle(self, event: object) -> None:
        if not self.enabled:
            return
        if isinstance(event, PhaseStarted):
            self._tasks[event.phase.value] = self._progress.add_task(
                event.phase.value, total=event.total, note=""
            )
        elif isinstance(event, PhaseProgress):
            task = self._tasks.get(event.phase.value)
            if task is not None:
                self._progress.update(task, completed=event.done, total=event.total)
        elif isinstance(event, PhaseFinished):
            task = self._tasks.get(event.phase.value)
            if task is not None:
                total = self._progress.tasks[task].total
                note = event.status if event.status != "ok" else ""
                if event.detail:
                    note = f"{note} {event.detail}".strip()
                self._progress.update(task, completed=total if total is not None else 1, total=total or 1, note=note)


def render_report(report: Mapping[str, Any], stream: TextIO, *, top: int | None, color: bool) -> None:
    """Print the ranked table and the run summary."""
    console = Console(file=stream, no_color=not color, highlight=False, width=None if color else 200,
                      force_terminal=color)
    results = report["results"][:top] if top else report["results"]
    synthetic = any(r.get("synthetic") for r in report["results"])
    title = f"option-alpha run {report['run_id']}" + ("  [SYNTHETIC market data]" if synthetic else "")
    if any(r.get("saved") is False for r in report["results"]):
        title += "  [NOT SAVED]"
    table = Table(title=title, show_lines=False, padding=(0, 1), box=box.SIMPLE_HEAD)
    narrow = console.width < 110  # delta, mid and OI stay in --json and `show --json`
    for name, justify, min_width in [
        ("#", "right", None), ("ticker", "left", None), ("score", "right", None), ("dir", "left", None),
        ("catalysts", "left", 6), ("contract", "left", 16), ("delta", "right", None),
        ("mid", "right", None), ("OI", "right", None), ("age", "right", None), ("debate", "left", 10),
    ]:
        if narrow and name in ("delta", "mid", "OI"):
            continue
        # Columns without a minimum width never wrap; the others wrap on a narrow terminal.
        table.add_column(name, justify=justify, no_wrap=min_width is None, min_width=min_width)  # type: ignore[arg-type]
    for row in results:
        contract, expiry, dte, delta, mid, oi = option_cells(row["option"], row["no_option_reason"])
        if expiry:
            contract = f"{contract} {expiry} {dte}d"
        cells = [str(row["rank"]), row["ticker"], f"{row['score']:.1f}", row["direction"],
                 catalyst_flags(row["catalysts"]), contract]
        cells += [] if narrow else [delta, mid, oi]
        table.add_row(*cells, age_cell(row), debate_cell(row.get("debate")))
    console.print(table)
    shown = len(results)
    total = len(report["results"])
    if shown < total:
        console.print(f"(top {shown} of {total} ranked tickers; --top N shows more, --json shows all)")
    phases = ", ".join(f"{p['name']} {p['seconds']:.2f}s" + ("" if p["status"] == "ok" else f" ({p['status']})")
                       for p in report["phases"])
    debate = report["debate"]
    console.print(f"phases: {phases}")
    console.print(
        f"debates: {debate['completed']} of {debate['requested']} completed"
        + (f" ({debate['skipped_reason']})" if debate.get("skipped_reason") else "")
    )
    errors = report.get("errors") or []
    if errors:
        console.print(f"data errors: {len(errors)} (first: {errors[0]['ticker']} {errors[0]['piece']}: {errors[0]['message']})")
    console.print(f"run {report['run_id']}: {report['status']}" + (f" - {report['reason']}" if report.get("reason") else ""))
    unsaved = report.get("unsaved") or []
    for what in unsaved:
        console.print(f"NOT SAVED: {what}")
    console.print(f"{'partly saved' if unsaved else 'saved'} in {report['db']}")
    hint = advice(report)
    if hint:
        console.print(hint)
