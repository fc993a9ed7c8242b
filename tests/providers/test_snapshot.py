"""Snapshot provider: real recorded data per ticker, missing pieces, unknown symbols, earnings windows."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import pytest

from actors.errors import DataNotAvailable, MalformedData, ProviderUnavailable, UnknownTicker
from actors.providers.snapshot import SnapshotProvider


@pytest.fixture
async def snapshot():
    provider = SnapshotProvider()
    yield provider
    await provider.aclose()


async def test_aapl_chain_has_real_contract(snapshot):
    """AAPL's chain is the recorded 2026-07-24 Cboe session with its real bid/ask."""
    chain = await snapshot.chain("AAPL")
    quote = {q.contract: q for q in chain.quotes}["AAPL260821C00330000"]
    assert (quote.bid, quote.ask) == (12.65, 13.0)
    assert chain.source == "cboe"
    assert chain.as_of == dt.datetime(2026, 7, 25, 3, 44, 38, tzinfo=dt.timezone.utc)


async def test_aapl_history_ends_one_session_before_chain(snapshot):
    """AAPL history is the Cboe chart; its last bar (07-23) is the closest recorded to the chain."""
    history = await snapshot.history("aapl")
    assert history.ticker == "AAPL"
    assert history.as_of == history.bars[-1].date == dt.date(2026, 7, 23)
    chain = await snapshot.chain("AAPL")
    assert (chain.as_of.date() - history.as_of).days == 2  # Thu bar, chain stamped early Sat UTC


async def test_clx_has_chain_but_no_history(snapshot):
    """CLX: the chain parses, history raises DataNotAvailable naming the piece."""
    chain = await snapshot.chain("CLX")
    assert len(chain.quotes) == 306
    with pytest.raises(DataNotAvailable) as info:
        await snapshot.history("CLX")
    assert (info.value.ticker, info.value.piece) == ("CLX", "history")


@pytest.mark.parametrize(
    ("ticker", "source", "last"),
    [
        ("MSFT", "stooq", dt.date(2026, 1, 6)),
        ("NVDA", "stooq", dt.date(2026, 1, 9)),
        ("TSLA", "stooq", dt.date(2026, 1, 28)),
        ("AMZN", "stooq", dt.date(2026, 1, 9)),
        ("SPY", "stooq", dt.date(2026, 4, 17)),
    ],
)
async def test_histories_come_from_most_recent_recording(snapshot, ticker, source, last):
    """Each ticker's history is its most recent recorded source, as-of its last bar."""
    history = await snapshot.history(ticker)
    assert (history.source, history.as_of) == (source, last)


@pytest.mark.parametrize("ticker", ["GOOG", "QQQ"])
async def test_yahoo_chain_tickers_have_no_history(snapshot, ticker):
    """GOOG/QQQ have a recorded Yahoo chain but no recorded history."""
    assert (await snapshot.chain(ticker)).source == "yahoo"
    with pytest.raises(DataNotAvailable):
        await snapshot.history(ticker)


async def test_unknown_symbol_raises_unknown_ticker(snapshot):
    """A symbol in no recording is UnknownTicker for every piece."""
    with pytest.raises(UnknownTicker):
        await snapshot.history("ZZZZ")
    with pytest.raises(UnknownTicker):
        await snapshot.chain("ZZZZ")
    with pytest.raises(UnknownTicker):
        await snapshot.news("ZZZZ")


async def test_news_for_aapl_and_none_for_msft(snapshot):
    """AAPL has four recorded headlines; MSFT has none (empty, not an error)."""
    assert len(await snapshot.news("AAPL")) == 4
    assert await snapshot.news("MSFT") == ()


async def test_earnings_none_outside_recorded_calendar(snapshot):
    """A window not fully covered by the recorded Nasdaq days is unknown (None)."""
    assert await snapshot.earnings("AAPL", dt.date(2026, 7, 24), dt.date(2026, 9, 22)) is None
    assert await snapshot.earnings("AAPL", dt.date(2024, 7, 1), dt.date(2024, 7, 4)) is None


async def test_earnings_inside_recorded_calendar(snapshot):
    """Inside the recorded days: () for AAPL (no report), STZ's real event for STZ."""
    assert await snapshot.earnings("AAPL", dt.date(2024, 7, 1), dt.date(2024, 7, 3)) == ()
    events = await snapshot.earnings("STZ", dt.date(2024, 7, 2), dt.date(2024, 7, 3))
    assert [(e.date, e.time) for e in events] == [(dt.date(2024, 7, 3), "before_open")]
    with pytest.raises(DataNotAvailable):
        await snapshot.history("STZ")


def test_default_universe_is_the_recorded_tickers():
    """The universe is every ticker with a recorded history, chain or news."""
    assert SnapshotProvider().default_universe() == (
        "AAPL", "AMZN", "CLX", "GOOG", "MSFT", "NVDA", "QQQ", "SPY", "TSLA",
    )
    assert SnapshotProvider.synthetic is False


async def test_corrupt_recording_is_malformed_every_time(tmp_path):
    """A broken recorded file raises MalformedData, cached and raised again on the next call."""
    root = resources.files("actors.providers") / "snapshot_data"
    (tmp_path / "cboe").mkdir()
    (tmp_path / "cboe" / "cboe_options_CLX.json").write_bytes((root / "cboe" / "cboe_options_CLX.json").read_bytes()[:900])
    provider = SnapshotProvider(data_dir=tmp_path)
    for _ in range(2):
        with pytest.raises(MalformedData, match=r"CLX chain: \$: invalid JSON"):
            await provider.chain("CLX")
    with pytest.raises(ProviderUnavailable, match="cannot read snapshot file"):
        await provider.chain("AAPL")
    await provider.aclose()


async def test_closed_provider_refuses_calls():
    """After aclose() every call raises ProviderUnavailable."""
    provider = SnapshotProvider()
    await provider.aclose()
    with pytest.raises(ProviderUnavailable, match="closed"):
        await provider.history("AAPL")
