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
