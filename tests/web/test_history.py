"""The ticker chart's history: regenerated from a local source and drawn only when it is the run's."""

from __future__ import annotations

import re

from actors.providers.base import make_provider
from actors.web.history import LocalHistory
from actors.web.svg import ChartLine, price_chart

SIM = {"source": "sim", "universe_size": 16, "seed": 7}


async def _last_bar(ticker: str):
    provider = make_provider("sim", size=16, seed=7)
    try:
        return (await provider.history(ticker)).bars[-1]
    finally:
        await provider.aclose()


async def test_sim_history_matching_the_run_is_returned():
    bar = await _last_bar("SIM0003")
    closes = await LocalHistory(days=60)(SIM, {"ticker": "SIM0003", "as_of": bar.date.isoformat(), "last_close": bar.close})
    assert len(closes) == 60 and closes[-1] == (bar.date.isoformat(), bar.close)
    assert [d for d, _ in closes] == sorted(d for d, _ in closes)


async def test_history_that_is_not_the_runs_is_not_drawn():
    """Another seed, another close, another date, a non-local source or missing settings: nothing."""
    bar = await _last_bar("SIM0003")
    row = {"ticker": "SIM0003", "as_of": bar.date.isoformat(), "last_close": bar.close}
    history = LocalHistory()
    assert await history({**SIM, "seed": 8}, row) == ()
    assert await history(SIM, {**row, "last_close": bar.close + 0.01}) == ()
    assert await history(SIM, {**row, "as_of": "2026-07-23"}) == ()
    assert await history({"source": "cboe"}, row) == ()
    assert await history({"source": "sim"}, {**row, "ticker": "NOPE"}) == ()
    assert await history({"top_n": 3}, row) == ()


def test_chart_draws_closes_strike_and_break_even_inside_the_plot():
    svg = price_chart(closes=[("2026-07-01", 100.0), ("2026-07-24", 110.0)], last_close=110.0,
                      lines=[ChartLine(label="strike 120", price=120.0, css="strike"),
                             ChartLine(label="break-even <b>", price=123.5, css="break-even")])
    assert "<polyline" in svg and "break-even &lt;b&gt;" in svg
    ys = [float(y) for y in re.findall(r'y1="([\d.]+)"', svg)]
    assert all(16 <= y <= 260 - 28 for y in ys)  # every line inside the plot area


def test_labels_of_nearby_prices_do_not_overlap():
    svg = price_chart(last_close=100.0, lines=[ChartLine(label="strike 100.5", price=100.5, css="strike"),
                                               ChartLine(label="break-even 101", price=101.0, css="break-even")])
    ys = sorted(float(y) for y in re.findall(r'<text class="label [^"]+" x="[\d.]+" y="([\d.]+)"', svg))
    assert len(ys) == 3 and all(b - a >= 14 for a, b in zip(ys, ys[1:]))
