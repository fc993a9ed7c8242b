"""The scoring path turns a hostile bar that no parser saw into a per-ticker error (virtual time).

``sim`` builds bars without a parser, so the coordinator's scoring step is the last line: a bar
with a close of 1e308, NaN, inf or an int too large for a float makes that ticker's
``DataError`` (piece ``history``, kind ``malformed``) in the checkpoint, and every other ticker
is scored, ranked and saved.
"""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from actors.config import Settings
from actors.coordinator import run_scan
from actors.fetcher import Fetcher
from actors.providers.sim import SimProvider
from messages.market import DataPiece, PriceHistory
from messages.scan import RunStatus, ScanRequested
from tests.debate.fakes import memory_store

POISONED = "SIM0003"


class _PoisonedSim(SimProvider):
    """The sim market with one field of POISONED's last bar replaced (a data source, not a double)."""

    def __init__(self, field: str, value: object) -> None:
        super().__init__(size=8, seed=3)
        self._field, self._value = field, value

    async def history(self, ticker: str) -> PriceHistory:
        history = await super().history(ticker)
        if ticker != POISONED:
            return history
        last = attrs.evolve(history.bars[-1], **{self._field: self._value})
        return attrs.evolve(history, bars=(*history.bars[:-1], last))


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("close", 1e308, "close: price 1e+308 is not below the plausible maximum"),
        ("close", float("nan"), "close: expected a finite price, got nan"),
        ("high", float("inf"), "high: expected a finite price, got inf"),
        ("volume", 10**400, "volume: expected a finite volume >= 0 below 1e+13, got an integer of about 401 digits"),
        ("open", 10**5000, "open: price an integer of about 5001 digits is not below"),
        ("low", -1.0, "low: expected a positive price, got -1.0"),
    ],
    ids=["close_1e308", "close_nan", "high_inf", "volume_400_digit_int", "open_5000_digit_int", "low_negative"],
)
async def test_a_hostile_bar_is_a_scoring_error_for_that_ticker_only(autojump_clock, field, value, expected):
    """The run completes; the poisoned ticker's error names the bar and field; the other seven are saved."""
    provider = _PoisonedSim(field, value)
    request = ScanRequested(provider.default_universe(), "sim", dt.datetime(2026, 7, 24, 20, tzinfo=dt.timezone.utc))
    async with memory_store() as (memory, store):
        outcome = await run_scan(
            request,
            run_id="run-h",
            settings=Settings(source="sim", top_n_options=8),
            fetcher=Fetcher(provider, concurrency=4),
            store=store,
            publish=lambda event: None,
            debate=None,
            debate_disabled_reason="x",
        )
        saved = memory.checkpoints["run-h"]
        run = memory.runs["run-h"]
    assert outcome.status is RunStatus.COMPLETED and run.status is RunStatus.COMPLETED
    (error,) = saved.errors
    assert (error.ticker, error.piece, error.kind) == (POISONED, DataPiece.HISTORY, "malformed")
    last_date = (await SimProvider(size=8, seed=3).history(POISONED)).bars[-1].date
    assert error.message.startswith(f"{POISONED}: bar {last_date} {expected}")
    assert {r.ticker for r in saved.results} == set(provider.default_universe()) - {POISONED}
