"""A server-rendered price chart (SVG): closes, or the last close alone, with the strike and break-even drawn.

Pure functions, no I/O. Every text is escaped. The y axis spans the prices shown plus a margin,
so the strike and break-even lines are always inside the chart.

::

    svg = price_chart(closes=[("2026-07-01", 101.5), ...], last_close=104.2,
                      lines=option_lines(option))      # strike + break-even of the contract
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

__all__ = ["ChartLine", "break_even", "option_lines", "price_chart"]

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 150, 16, 28


@attrs.frozen(kw_only=True)
class ChartLine:
    """A horizontal line across the chart at ``price``, labelled at its right end."""

    label: str
    price: float
    css: str  #: class name: ``strike`` or ``break-even``


def break_even(option: Mapping[str, Any]) -> float | None:
    """The underlying price at expiry where the contract bought at mid neither gains nor loses."""
    mid, strike, kind = option.get("mid"), option.get("strike"), option.get("type")
    if not isinstance(mid, (int, float)) or not isinstance(strike, (int, float)):
        return None
    if kind == "call":
        return strike + mid
    if kind == "put":
        return strike - mid
    return None


def option_lines(option: Mapping[str, Any] | None) -> list[ChartLine]:
    """The strike and break-even lines of a contract (none without a contract)."""
    if not option:
        return []
    lines = [ChartLine(label=f"strike {option['strike']:g}", price=float(option["strike"]), css="strike")]
    even = break_even(option)
    if even is not None:
        lines.append(ChartLine(label=f"break-even {even:.2f}", price=even, css="break-even"))
    return lines


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def _spread(labels: list[tuple[float, str, str]], gap: float = 14.0) -> list[tuple[float, str, str]]:
    """The labels top to bottom, moved down where needed so that none overlaps the one above."""
    placed: list[tuple[float, str, str]] = []
    for label_y, css, text in sorted(labels):
        if placed and label_y - placed[-1][0] < gap:
            label_y = placed[-1][0] + gap
        placed.append((label_y, css, text))
    return placed


def price_chart(*, closes: Sequence[tuple[str, float]] = (), last_close: float, as_of: str = "",
                lines: Sequence[ChartLine] = (), title: str = "price") -> str:
    """An ``<svg>`` element: the closes as a line (or the last close as a dot), and ``lines`` across.

    Raises:
        ValueError: a price is not a positive finite number.
    """
    prices = [c for _, c in closes] + [last_close] + [line.price for line in lines]
    for price in prices:
        if not isinstance(price, (int, float)) or not (0 < price < float("inf")):
            raise ValueError(f"price_chart: prices must be positive finite numbers, got {price!r}")
    low, high = min(prices), max(prices)
    margin = (high - low) * 0.08 or high * 0.05
    low, high = max(low - margin, 0.0), high + margin
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(price: float) -> float:
        return TOP + (high - price) / (high - low) * plot_h

    def x(i: int, n: int) -> float:
        return LEFT + (i / (n - 1) if n > 1 else 1.0) * plot_w

    esc = html.escape
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{esc(title)}">',
        f"<title>{esc(title)}</title>",
        f'<rect class="plot" x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}"/>',
    ]
    for tick in range(5):  # price axis
        price = low + (high - low) * tick / 4
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{_fmt(y(price))}" y2="{_fmt(y(price))}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 6}" y="{_fmt(y(price) + 4)}" text-anchor="end">{price:.2f}</text>')
    if len(closes) > 1:
        points = " ".join(f"{_fmt(x(i, len(closes)))},{_fmt(y(c))}" for i, (_, c) in enumerate(closes))
        parts.append(f'<polyline class="closes" points="{points}"/>')
        parts.append(f'<text class="axis" x="{LEFT}" y="{HEIGHT - 8}">{esc(str(closes[0][0]))}</text>')
        parts.append(f'<text class="axis" x="{LEFT + plot_w}" y="{HEIGHT - 8}" text-anchor="end">'
                     f"{esc(str(closes[-1][0]))}</text>")
    else:
        parts.append(f'<text class="axis" x="{LEFT + plot_w}" y="{HEIGHT - 8}" text-anchor="end">'
                     f"{esc(as_of)} (last close only: no price history stored)</text>")
    parts.append(f'<circle class="last" cx="{_fmt(LEFT + plot_w)}" cy="{_fmt(y(last_close))}" r="4"/>')
    labels = [(y(last_close), "last", f"close {last_close:.2f}")]
    for line in lines:
        ly = _fmt(y(line.price))
        parts.append(f'<line class="{esc(line.css)}" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{ly}" y2="{ly}"/>')
        labels.append((y(line.price), line.css, line.label))
    for label_y, css, text in _spread(labels):
        parts.append(f'<text class="label {esc(css)}" x="{LEFT + plot_w + 8}" y="{_fmt(label_y + 4)}">{esc(text)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
