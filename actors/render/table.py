"""A plain-text table laid out from column specs with priorities: it fits the width without cutting a number.

A :class:`Column` says how to get its cell from a row dict, how important it is, whether its
text may wrap (at spaces only: a word or a number is never split) and, optionally, a shorter
form of its cells. :func:`layout` fits the columns to the width in three steps:

1. every column at its natural width (the widest cell);
2. if that is too wide: wrap the wrappable columns down to their minimum (their longest word,
   or their ``min_width`` if wider), then use the short forms, least important column first,
   then drop columns, least important first (priority 0 is never dropped);
3. what is left over widens the wrapped columns again, most important first; a wrapped column
   whose short form fits its width on one line takes the short form.

If even the priority-0 columns at their minimum do not fit, the lines are longer than the
width rather than a number being cut.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

__all__ = ["Column", "layout", "wrap_text"]

Row = Mapping[str, Any]
GAP = 2  # spaces between columns


@attrs.frozen(kw_only=True)
class Column:
    """One column: its header, how to get its cell from a row, and how it gives way on a narrow screen."""

    header: str
    cell: Callable[[Row], str]
    #: 0: always shown; higher numbers are dropped first when the width is short.
    priority: int = 0
    align: str = attrs.field(default="left", validator=attrs.validators.in_(("left", "right")))
    #: The cell may wrap at spaces (text); a column that does not wrap is never narrower than its widest cell.
    wrap: bool = False
    #: A shorter cell (and header) used before the column is dropped.
    short: Callable[[Row], str] | None = None
    short_header: str | None = None
    #: A wrapping column is not squeezed below this (nor below its longest word), so it stays readable.
    min_width: int = 0


def wrap_text(text: str, width: int) -> list[str]:
    """``text`` wrapped at spaces to ``width``; a word longer than ``width`` stays whole on its own line."""
    if not text:
        return [""]
    return textwrap.wrap(text, width=max(1, width), break_long_words=False, break_on_hyphens=False) or [""]


def _longest_word(text: str) -> int:
    return max((len(w) for w in text.split()), default=0)


@attrs.define
class _Placed:
    column: Column
    short: bool = False
    cells: list[str] = attrs.Factory(list)
    width: int = 0

    @property
    def header(self) -> str:
        return (self.column.short_header or self.column.header) if self.short else self.column.header

    def fill(self, rows: Sequence[Row]) -> None:
        get = self.column.short if self.short and self.column.short else self.column.cell
        self.cells = [get(row) for row in rows]

    @property
    def natural(self) -> int:
        return max([len(self.header), *(len(c) for c in self.cells)])

    @property
    def minimum(self) -> int:
        header = _longest_word(self.header)
        if self.column.wrap:
            readable = min(self.column.min_width, self.natural)
            return max([header, readable, *(_longest_word(c) for c in self.cells)])
        return max([header, *(len(c) for c in self.cells)])


def _total(placed: Sequence[_Placed], widths: Callable[[_Placed], int]) -> int:
    return sum(widths(p) for p in placed) + GAP * max(0, len(placed) - 1)


def layout(columns: Sequence[Column], rows: Sequence[Row], width: int) -> list[str]:
    """The table as lines (header, rule, rows), fitted to ``width`` as the module docstring says."""
    placed = [_Placed(c) for c in columns]
    for p in placed:
        p.fill(rows)
    least_first = sorted(placed, key=lambda p: -p.column.priority)
    if _total(placed, lambda p: p.natural) > width:
        for p in least_first:  # short forms before anything is dropped
            if _total(placed, lambda q: q.minimum) <= width:
                break
            if p.column.short is not None:
                p.short = True
                p.fill(rows)
        for p in least_first:
            if _total(placed, lambda q: q.minimum) <= width:
                break
            if p.column.priority > 0:
                placed.remove(p)
    for p in placed:
        p.width = p.minimum
    spare = width - _total(placed, lambda p: p.width)
    for p in sorted(placed, key=lambda p: p.column.priority):
        if spare <= 0:
            break
        grow = min(spare, p.natural - p.width)
        p.width += grow
        spare -= grow
    for p in placed:  # a short form that fits on one line reads better than the full one wrapped
        if p.column.short is not None and not p.short and p.natural > p.width:
            full = p.cells
            p.short = True
            p.fill(rows)
            if p.natural > p.width:
                p.short, p.cells = False, full
    return _render(placed, rows)


def _render(placed: Sequence[_Placed], rows: Sequence[Row]) -> list[str]:
    def line(parts: Sequence[list[str]]) -> list[str]:
        height = max(len(part) for part in parts)
        out = []
        for i in range(height):
            texts = []
            for p, part in zip(placed, parts):
                text = part[i] if i < len(part) else ""
                texts.append(text.rjust(p.width) if p.column.align == "right" else text.ljust(p.width))
            out.append((" " * GAP).join(texts).rstrip())
        return out

    lines = line([wrap_text(p.header, p.width) for p in placed])
    lines.append("─" * _total(placed, lambda p: p.width))
    for index in range(len(rows)):
        lines += line([wrap_text(p.cells[index], p.width) if p.column.wrap else [p.cells[index]] for p in placed])
    return lines
