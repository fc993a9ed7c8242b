"""End to end: one ticker's recorded file poisoned never stops the scan.

``bin/scan`` cannot point the snapshot provider at another folder (``source`` takes only
``snapshot`` or ``sim``), so this drives the same path in-process: ``SnapshotProvider(data_dir=)``
on a copy of the recordings, the real fetcher and coordinator, and the real SQLite persister.
AAPL's Cboe chart (JSON) and MSFT's Stooq CSV get the same poison in their last bar — a close
of 1e308, a 400-digit or 5,000-digit volume, a date of 9999-12-30 — and the run must complete,
with AAPL and MSFT in ``run_errors`` (the field path and why) and every other ticker scored and
saved exactly as in a clean run.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import shutil
from importlib import resources
from pathlib import Path

import pytest
import trio

from actors.config import Settings
from actors.coordinator import ScanOutcome, run_scan
from actors.fetcher import Fetcher
from actors.providers.snapshot import SnapshotProvider
from actors.runtime import spawn, stop
from actors.store.client import StoreClient
from actors.store.persister import run_persister
from actors.store.reader import RunDetail, load_run
from messages.scan import RunStatus, ScanRequested

RECORDED = Path(str(resources.files("actors.providers") / "snapshot_data"))
AAPL_CHART = "cboe/cboe_chart_historical_AAPL.json"
MSFT_CSV = "stooq/stooq_msft_us_d.csv"
COLUMNS = {"close": 4, "volume": 5, "date": 0}
TODAY = dt.date(2026, 7, 28)  # a few days after the newest recording

#: name → (field of the last bar, the literal written there, what the error must say)
POISONS = {
    "close_1e308": ("close", "1e308", r"close: price 1e\+308 is not below the plausible maximum 1e\+07"),
    "volume_400_digits": ("volume", "9" * 400, "volume: .*400"),
    "volume_5000_digits": ("volume", "9" * 5000, "volume: .*5000"),
    "date_9999_12_30": ("date", "9999-12-30", r"date 9999-12-30 is after 2026-07-30 \(today 2026-07-28\)"),
}


def _poison_json(path: Path, field: str, literal: str) -> None:
    doc = json.loads(path.read_text())
    marker = "__poison__"
    doc["data"][-1][field] = marker
    value = f'"{literal}"' if field == "date" else literal
    path.write_text(json.dumps(doc).replace(f'"{marker}"', value))


def _poison_csv(path: Path, field: str, literal: str) -> None:
    lines = path.read_text().splitlines()
    cells = lines[-1].split(",")
    cells[COLUMNS[field]] = literal
    lines[-1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")


def _scan(data_dir: Path, db: Path) -> ScanOutcome:
    provider = SnapshotProvider(data_dir=data_dir, today=TODAY)
    request = ScanRequested(provider.default_universe(), "snapshot", dt.datetime.now(dt.timezone.utc))

    async def main() -> ScanOutcome:
        async with trio.open_nursery() as nursery:
            persister = await spawn(nursery, functools.partial(run_persister, db_path=db), name="persister")
            outcome = await run_scan(
                request,
                run_id="hostile",
                settings=Settings(),
                fetcher=Fetcher(provider),
                store=StoreClient(persister),
                publish=lambda event: None,
                debate=None,
                debate_disabled_reason="--no-debate",
            )
            await stop(persister)
        await provider.aclose()
        return outcome

    return trio.run(main)


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory) -> RunDetail:
    tmp = tmp_path_factory.mktemp("clean")
    _scan(RECORDED, tmp / "clean.sqlite")
    return load_run(tmp / "clean.sqlite", "hostile")


@pytest.mark.parametrize("poison", sorted(POISONS))
def test_a_poisoned_file_is_a_per_ticker_error_and_the_rest_is_saved(poison, clean_run, tmp_path):
    """The run completes; AAPL and MSFT are in run_errors naming the field; the rest is saved as in a clean run."""
    field, literal, expected = POISONS[poison]
    data = tmp_path / "data"
    shutil.copytree(RECORDED, data)
    _poison_json(data / AAPL_CHART, field, literal)
    _poison_csv(data / MSFT_CSV, field, literal)

    outcome = _scan(data, tmp_path / "scan.sqlite")

    assert outcome.status is RunStatus.COMPLETED
    saved = load_run(tmp_path / "scan.sqlite", "hostile")
    assert saved.run.status is RunStatus.COMPLETED and saved.run.finished_at is not None
    errors = {(e.ticker, e.piece.value, e.kind): e.message for e in saved.data_errors}
    assert ("AAPL", "history", "malformed") in errors and ("MSFT", "history", "malformed") in errors
    assert errors[("AAPL", "history", "malformed")].startswith("data[")
    assert errors[("MSFT", "history", "malformed")].startswith("line ")
    for ticker in ("AAPL", "MSFT"):
        assert re.search(expected, errors[(ticker, "history", "malformed")], re.IGNORECASE)
    clean = {r.ticker: r for r in clean_run.results}
    assert {"AAPL", "MSFT"} <= set(clean)
    scored = {r.ticker: r for r in saved.results}
    assert set(scored) == set(clean) - {"AAPL", "MSFT"}
    assert saved.run.tickers_scored == len(clean) - 2
    for ticker, result in scored.items():
        assert (result.technical_score, result.direction, result.as_of) == (
            clean[ticker].technical_score,
            clean[ticker].direction,
            clean[ticker].as_of,
        )
