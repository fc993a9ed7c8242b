"""Terminal output: live per-phase progress bars on stderr, then the ranked table (or a ticker's panel) on stdout.

The bars use ``rich`` and are shown only when stderr is a terminal; what they show is
:class:`~actors.render.progress.ProgressState`. The table and the panel are plain text
(:mod:`actors.render`) fitted to :func:`~actors.render.width.output_width`, so they can be piped.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Column

from actors.errors import UsageError
from actors.render.panel import panel_lines
from actors.render.progress import ProgressState
from actors.render.results import result_lines, summary_lines
from actors.render.width import output_width


_STDERR: Console | None = None


def stderr_console() -> Console:
    """The one console on stderr: progress bars and (on a terminal) log lines share it, so
    a warning printed mid-scan does not tear the bars."""
    global _STDERR
    if _STDERR is None:
        _STDERR = Console(stderr=True)
    return _STDERR


#: Width of a progress line without its note: name 11, bar 24, "200/200" 7, clock 7, and the gaps.
_FIXED_COLUMNS = 11 + 24 + 9 + 7 + 4


class ProgressDisplay:
    """Draws :class:`~actors.render.progress.ProgressState` as one bar per phase (counts, elapsed time, note)."""

    def __init__(self, stream: TextIO, *, enabled: bool) -> None:
        self.enabled = enabled
        self.state = ProgressState()
        self._progress = Progress(
            TextColumn("{task.description}", table_column=Column(width=11, no_wrap=True)),
            BarColumn(bar_width=24),
            MofNCompleteColumn(table_column=Column(no_wrap=True, min_width=9)),
            TimeElapsedColumn(table_column=Column(no_wrap=True, min_width=7)),
            TextColumn("{task.fields[note]}", table_column=Column(no_wrap=True, overflow="ellipsis")),
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
        changed = self.state.handle(event)
        line = self.state.phases.get(changed) if changed else None
        if line is None:
            return
        # The note gets what the name, bar, counts and clock leave: on a narrow terminal a long
        # note is shortened (prose; the numbers are in the columns), never the columns squeezed.
        room = max(8, self._progress.console.width - _FIXED_COLUMNS)
        note = line.note if len(line.note) <= room else line.note[: room - 1] + "…"
        task = self._tasks.get(line.phase)
        if task is None:
            self._tasks[line.phase] = self._progress.add_task(line.phase, total=line.total, note=note)
            return
        # A skipped phase keeps its bar where it was (empty), with "skipped: why" beside it.
        self._progress.update(task, completed=line.done, total=line.total, note=note)
        if line.status != "running":
            self._progress.stop_task(task)


def render_report(report: Mapping[str, Any], stream: TextIO, *, top: int | None, width: int | None = None,
                  quiet: bool = False) -> None:
    """Print the ranked table and the run summary, fitted to ``width`` (default: :func:`output_width`).

    ``quiet``: only the status line and where the run is saved.
    """
    width = width or output_width(stream)
    if quiet:
        lines = [line for line in summary_lines(report, width=width)
                 if line.startswith((f"run {report['run_id']}", "saved in", "partly saved", "NOT SAVED"))]
    else:
        lines = [*result_lines(report, width=width, top=top), "", *summary_lines(report, width=width)]
    stream.write("\n".join(lines) + "\n")


def render_panel(report: Mapping[str, Any], ticker: str | None, stream: TextIO, *, width: int | None = None) -> None:
    """Print one ticker's panel (the top-ranked one when ``ticker`` is None).

    Raises:
        UsageError: no such ticker in the run (exit 2), naming the run.
    """
    width = width or output_width(stream)
    results = list(report["results"])
    if not results:
        raise UsageError(f"run {report['run_id']} has no ranked tickers to show")
    if ticker is None:
        row = results[0]
    else:
        row = next((r for r in results if r["ticker"] == ticker.upper()), None)
        if row is None:
            raise UsageError(f"ticker {ticker.upper()} is not in run {report['run_id']} "
                             f"(`bin/scan show {report['run_id']}` lists its tickers)")
    stream.write("\n".join(panel_lines(row, run_id=report["run_id"], width=width, total=len(results))) + "\n")
