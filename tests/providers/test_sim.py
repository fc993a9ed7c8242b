"""Sim provider: deterministic, sized, labelled synthetic, plausible bars, chains, earnings, news."""

from __future__ import annotations

import datetime as dt
import statistics
import time

import pytest

from actors.errors import DataNotAvailable, UnknownTicker
from actors.providers.sim import SimProvider
from messages.market import OptionType

AS_OF = dt.date(2026, 7, 24)


async def _histories(provider):
    return [await provider.history(t) for t in provider.default_universe()]


async def test_same_seed_same_market_different_seed_different_market():
    """Two providers with one seed agree bar for bar and quote for quote; another seed differs."""
    a, b, c = SimProvider(size=20, seed=7), SimProvider(size=20, seed=7), SimProvider(size=20, seed=8)
    assert await _histories(a) == await _histories(b)
    assert await a.chain("SIM0003") == await b.chain("SIM0003")
    assert await a.news("SIM0004") == await b.news("SIM0004")
    assert [h.bars[-1].close for h in await _histories(a)] != [h.bars[-1].close for h in await _histories(c)]


async def test_history_does_not_depend_on_call_order():
    """Asking for a chain first does not change the history."""
    first, second = SimProvider(size=5), SimProvider(size=5)
    try:
        await first.chain("SIM0005")
    except DataNotAvailable:
        pass
    assert await first.history("SIM0002") == await second.history("SIM0002")


def test_universe_size_and_ticker_names():
    """size tickers named SIM0001..; five digits once size passes 9999."""
    assert SimProvider(size=3).default_universe() == ("SIM0001", "SIM0002", "SIM0003")
    big = SimProvider(size=10_000).default_universe()
    assert len(big) == 10_000 and big[0] == "SIM00001" and big[-1] == "SIM10000"


async def test_unknown_ticker_outside_universe():
    """Tickers beyond size, with the wrong width or not SIM are UnknownTicker."""
    provider = SimProvider(size=10)
    for ticker in ("SIM0011", "SIM01", "AAPL", "SIM0000"):
        with pytest.raises(UnknownTicker):
            await provider.history(ticker)


async def test_history_is_labelled_and_well_formed():
    """260 weekday bars ending at as_of, source 'sim', valid OHLC, provider marked synthetic."""
    provider = SimProvider(size=50, as_of=AS_OF)
    assert provider.synthetic is True and provider.name == "sim"
    for history in await _histories(provider):
        bars = history.bars
        assert len(bars) == 260 and history.source == "sim"
        assert history.as_of == bars[-1].date == AS_OF
        assert all(bar.date.weekday() < 5 for bar in bars)
        assert all(x.date < y.date for x, y in zip(bars, bars[1:]))
        assert all(0 < b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high for b in bars)
        assert all(b.volume > 0 for b in bars)


async def test_weekend_as_of_ends_on_friday():
    """An as_of on a Sunday gives bars ending the Friday before."""
    provider = SimProvider(size=1, as_of=dt.date(2026, 7, 26))
    assert (await provider.history("SIM0001")).as_of == dt.date(2026, 7, 24)


async def test_universe_has_clear_up_and_down_trends():
    """Across 200 tickers, 60-day returns include strong gains and strong losses."""
    returns = [h.bars[-1].close / h.bars[-61].close - 1 for h in await _histories(SimProvider(size=200))]
    assert sum(r > 0.10 for r in returns) >= 30
    assert sum(r < -0.10 for r in returns) >= 30
    assert statistics.pstdev(returns) > 0.08


async def test_breakouts_come_with_volume_spikes():
    """Most tickers have a day trading at least 2.5x their median volume."""
    histories = await _histories(SimProvider(size=100))
    spiky = sum(max(b.volume for b in h.bars) > 2.5 * statistics.median(b.volume for b in h.bars) for h in histories)
    assert spiky >= 50


async def test_chain_greeks_are_sane():
    """Calls have delta in 0..1, puts in -1..0; bid <= ask; 4-6 expiries around spot."""
    provider = SimProvider(size=40)
    chains = []
    for ticker in provider.default_universe():
        try:
            chains.append(await provider.chain(ticker))
        except DataNotAvailable:
            continue
    assert len(chains) >= 25
    for chain in chains:
        assert chain.as_of.date() == AS_OF and chain.source == "sim"
        assert 4 <= len({q.expiry for q in chain.quotes}) <= 6
        assert all(0 < (q.expiry - AS_OF).days <= 125 for q in chain.quotes)
        for q in chain.quotes:
            assert 0.0 <= q.bid < q.ask
            assert q.iv is not None and q.iv > 0 and q.gamma >= 0 and q.vega >= 0
            if q.type is OptionType.CALL:
                assert 0.0 <= q.delta <= 1.0
            else:
                assert -1.0 <= q.delta <= 0.0
        strikes = sorted({q.strike for q in chain.quotes})
        assert strikes[0] < chain.underlying_price < strikes[-1]
        assert any(q.open_interest <= 10 for q in chain.quotes)  # some illiquid strikes


async def test_some_tickers_have_no_chain():
    """A share of the universe has no listed options: DataNotAvailable for the chain piece."""
    provider = SimProvider(size=100)
    missing = 0
    for ticker in provider.default_universe():
        try:
            await provider.chain(ticker)
        except DataNotAvailable as exc:
            assert exc.piece == "chain"
            missing += 1
    assert 3 <= missing <= 25


async def test_earnings_thirds_soon_later_unknown():
    """About a third report within 60 days, a third later, a third unknown (None)."""
    provider = SimProvider(size=300)
    soon = later = unknown = 0
    for ticker in provider.default_universe():
        window = await provider.earnings(ticker, AS_OF, AS_OF + dt.timedelta(days=60))
        if window is None:
            unknown += 1
        elif window:
            soon += 1
            assert all(AS_OF <= e.date <= AS_OF + dt.timedelta(days=60) and e.date.weekday() < 5 for e in window)
        else:
            later += 1
    assert all(70 <= n <= 130 for n in (soon, later, unknown)), (soon, later, unknown)


async def test_headlines_are_recent_and_distinct():
    """1-4 distinct headlines per ticker from the five days before the close."""
    provider = SimProvider(size=30)
    for ticker in provider.default_universe():
        news = await provider.news(ticker)
        assert 1 <= len(news) <= 4
        assert len({h.title for h in news}) == len(news)
        close = dt.datetime(2026, 7, 24, 20, tzinfo=dt.timezone.utc)
        assert all(close - dt.timedelta(days=5) <= h.published_at <= close for h in news)


async def test_thousand_histories_are_fast():
    """1,000 histories cost well under a second of CPU (5,000 must stay under 3 s)."""
    provider = SimProvider(size=1000)
    await provider.history("SIM0001")  # builds the normal table
    started = time.process_time()
    for ticker in provider.default_universe():
        await provider.history(ticker)
    assert time.process_time() - started < 1.2


@pytest.mark.parametrize(
    "options", [{"size": 0}, {"size": True}, {"seed": "7"}, {"history_days": 10}, {"as_of": "2026-07-24"}]
)
def test_bad_settings_are_rejected(options):
    """Settings outside their range raise ValueError naming the setting."""
    with pytest.raises(ValueError, match=next(iter(options))):
        SimProvider(**options)
