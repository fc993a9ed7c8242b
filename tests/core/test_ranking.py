"""Pure scan logic between scoring and the checkpoint: ranking, contract choice, market dates."""

import datetime as dt

from actors.core.ranking import Scored, choose_contracts, market_date, rank, selection_settings
from actors.config import Settings
from messages.market import DataError, DataPiece, EarningsEvent, OptionChain, OptionQuote, OptionType, TickerData
from messages.scan import Direction, TickerScored

AS_OF = dt.date(2026, 7, 24)


def _scored(ticker, score, earnings=None, direction=Direction.BULLISH):
    scored = TickerScored(ticker, score, direction, (), 100.0, AS_OF)
    return Scored(scored, TickerData(ticker, AS_OF, "fake", earnings=earnings))


def test_rank_orders_by_final_score_and_numbers_from_one():
    """Highest final score first; ranks are 1..N; ties go by ticker."""
    rows = rank([_scored("B", 60), _scored("A", 60), _scored("C", 80)], horizon_days=60)
    assert [(r.rank, r.ticker) for r in rows] == [(1, "C"), (2, "A"), (3, "B")]


def test_known_distant_earnings_never_rank_below_unknown():
    """Same setup: known earnings after the window ranks at least as high as unknown earnings."""
    far = (EarningsEvent("KNOWN", AS_OF + dt.timedelta(days=120)),)
    rows = rank([_scored("UNKNOWN", 70, None), _scored("KNOWN", 70, far)], horizon_days=60)
    by = {r.ticker: r for r in rows}
    assert by["KNOWN"].score >= by["UNKNOWN"].score
    assert by["KNOWN"].rank == 1  # ties go by ticker, and K < U; a penalty would flip this


def test_rows_outside_the_top_n_and_missing_chains_say_why():
    """Every row without a contract carries a reason."""
    rows = rank([_scored("A", 90), _scored("B", 80), _scored("C", 70)], horizon_days=60)
    chains = {"A": DataError("A", DataPiece.CHAIN, "missing", "no listed options")}
    out = choose_contracts(rows, chains, top_n=2, selection=selection_settings(Settings()))
    reasons = {r.ticker: r.no_option_reason for r in out}
    assert reasons == {
        "A": "no option chain: no listed options",
        "B": "no option chain fetched",
        "C": "not in the top 2 for options",
    }


def test_dte_counts_from_the_chains_trading_date():
    """A chain stamped 03:44 UTC on the 25th is the 24th's: its 2026-08-28 expiry is 35 DTE."""
    stamp = dt.datetime(2026, 7, 25, 3, 44, tzinfo=dt.timezone.utc)
    assert market_date(stamp) == AS_OF
    quote = OptionQuote("X260828C00105000", "X", OptionType.CALL, 105.0, dt.date(2026, 8, 28), 2.0, 2.1, 2.05,
                        50.0, 500.0, 0.3, 0.35, 0.03, -0.05, 0.1)
    chain = OptionChain("X", stamp, 100.0, (quote,), "fake")
    rows = rank([_scored("X", 90)], horizon_days=60)
    (row,) = choose_contracts(rows, {"X": chain}, top_n=5, selection=selection_settings(Settings()))
    assert row.option is not None and row.option.dte == 35
    assert row.as_of == AS_OF


def _chain_of(stamp: dt.datetime, spot: float) -> OptionChain:
    quote = OptionQuote("X260828C00105000", "X", OptionType.CALL, 105.0, dt.date(2026, 8, 28), 2.0, 2.1, 2.05,
                        50.0, 500.0, 0.3, 0.35, 0.03, -0.05, 0.1)
    return OptionChain("X", stamp, spot, (quote,), "fake")


def test_a_chain_newer_than_the_history_is_aligned_and_flagged():
    """History to the 23rd, chain of the 24th: the row shows the chain's day and underlying price
    (what the contract was picked against) and says mixed-dates; the quote age is counted from the chain."""
    stamp = dt.datetime(2026, 7, 25, 3, 44, tzinfo=dt.timezone.utc)
    scored = TickerScored("X", 90, Direction.BULLISH, (), 99.0, AS_OF - dt.timedelta(days=1))
    rows = rank([Scored(scored, TickerData("X", AS_OF - dt.timedelta(days=1), "fake"))], horizon_days=60)
    now = stamp + dt.timedelta(hours=2)
    (row,) = choose_contracts(rows, {"X": _chain_of(stamp, 101.5)}, top_n=5,
                              selection=selection_settings(Settings()), now=now)
    assert (row.as_of, row.last_close, row.data_flags) == (AS_OF, 101.5, ("mixed-dates",))
    assert row.quote_age_s == 7200.0


def test_same_day_data_is_unflagged_and_an_older_chain_is_flagged_not_aligned():
    """A chain of the history's own day: no flag, close kept. A chain older than the history: flagged,
    and the newer close and date are kept (a stale chain never rewrites them)."""
    rows = rank([_scored("X", 90)], horizon_days=60)
    same = dt.datetime(2026, 7, 24, 20, 0, tzinfo=dt.timezone.utc)
    (row,) = choose_contracts(rows, {"X": _chain_of(same, 101.5)}, top_n=5, selection=selection_settings(Settings()))
    assert (row.as_of, row.last_close, row.data_flags, row.quote_age_s) == (AS_OF, 100.0, (), None)
    older = dt.datetime(2026, 7, 20, 20, 0, tzinfo=dt.timezone.utc)
    (row,) = choose_contracts(rows, {"X": _chain_of(older, 97.0)}, top_n=5, selection=selection_settings(Settings()))
    assert (row.as_of, row.last_close, row.data_flags) == (AS_OF, 100.0, ("mixed-dates",))


def test_a_synthetic_quote_has_no_age():
    """Sim chains are generated, not quoted: quote_age_s stays None so runs compare equal."""
    scored = TickerScored("X", 90, Direction.BULLISH, (), 100.0, AS_OF)
    rows = rank([Scored(scored, TickerData("X", AS_OF, "sim", synthetic=True))], horizon_days=60)
    stamp = dt.datetime(2026, 7, 24, 20, 0, tzinfo=dt.timezone.utc)
    (row,) = choose_contracts(rows, {"X": _chain_of(stamp, 100.0)}, top_n=5, selection=selection_settings(Settings()),
                              now=stamp + dt.timedelta(hours=1))
    assert row.synthetic and row.quote_age_s is None
