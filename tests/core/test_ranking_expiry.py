"""Earnings flags against the chosen contract's expiry, and which tickers get the debate slots."""

import datetime as dt

import attrs

from actors.core.ranking import Scored, debate_candidates, flag_earnings_at_expiry, rank
from messages.market import EarningsEvent, OptionType, TickerData
from messages.scan import Direction, OptionPick, TickerScored

AS_OF = dt.date(2026, 7, 24)
EXPIRY = dt.date(2026, 9, 18)


def _scored(ticker, score, earnings=None):
    scored = TickerScored(ticker, score, Direction.BULLISH, (), 100.0, AS_OF)
    return Scored(scored, TickerData(ticker, AS_OF, "fake", earnings=earnings))


def _pick(ticker, expiry=EXPIRY):
    return OptionPick(contract=f"{ticker}260918C00105000", type=OptionType.CALL, strike=105.0, expiry=expiry,
                      dte=(expiry - AS_OF).days, delta=0.35, bid=2.0, ask=2.2, mid=2.1, open_interest=500.0,
                      volume=10.0, iv=0.3, greeks_source="chain")


def _with_contracts(rows, picks):
    return [attrs.evolve(r, option=picks.get(r.ticker), no_option_reason=None if r.ticker in picks else "none")
            for r in rows]


def test_earnings_after_the_chosen_expiry_cost_nothing():
    """Earnings on 09-21 inside the 60-day window but after a 09-18 expiry: ER later, no 5-point penalty."""
    items = [_scored("LATE", 70.0, (EarningsEvent("LATE", dt.date(2026, 9, 21)),))]
    ranked = rank(items, horizon_days=60)
    assert ranked[0].score == 65.0  # against the window, before a contract is chosen
    out = flag_earnings_at_expiry(_with_contracts(ranked, {"LATE": _pick("LATE")}), {"LATE": items[0]})
    assert out[0].score == 70.0
    assert [c.kind for c in out[0].catalysts] == ["earnings_after_window"]
    assert "after the contract's expiry 2026-09-18" in out[0].catalysts[0].detail


def test_earnings_before_the_chosen_expiry_keep_the_penalty_and_name_the_expiry():
    """Earnings on 09-10 before a 09-18 expiry: ER<exp, -5, the detail names the expiry."""
    items = [_scored("SOON", 70.0, (EarningsEvent("SOON", dt.date(2026, 9, 10)),))]
    ranked = rank(items, horizon_days=60)
    out = flag_earnings_at_expiry(_with_contracts(ranked, {"SOON": _pick("SOON")}), {"SOON": items[0]})
    assert out[0].score == 65.0
    assert out[0].catalysts[0].kind == "earnings_before_expiry"
    assert "before the contract's expiry 2026-09-18" in out[0].catalysts[0].detail


def test_a_contract_outliving_the_window_is_flagged_for_earnings_inside_its_life():
    """A 70-day contract with earnings at day 65 (past the 60-day window): flagged once the expiry is known."""
    earnings = (EarningsEvent("LONG", AS_OF + dt.timedelta(days=65)),)
    items = [_scored("LONG", 70.0, earnings)]
    ranked = rank(items, horizon_days=60)
    assert ranked[0].score == 70.0
    out = flag_earnings_at_expiry(_with_contracts(ranked, {"LONG": _pick("LONG", AS_OF + dt.timedelta(days=70))}),
                                  {"LONG": items[0]})
    assert out[0].score == 65.0


def test_rows_are_ranked_again_after_the_flags_change():
    """The ticker whose penalty goes away moves above one it had fallen below; ranks stay 1..N."""
    late = _scored("LATE", 70.0, (EarningsEvent("LATE", dt.date(2026, 9, 21)),))
    mid = _scored("MID", 68.0, ())
    ranked = rank([late, mid], horizon_days=60)
    assert [r.ticker for r in ranked] == ["MID", "LATE"]
    out = flag_earnings_at_expiry(_with_contracts(ranked, {"LATE": _pick("LATE")}), {"LATE": late, "MID": mid})
    assert [(r.rank, r.ticker) for r in out] == [(1, "LATE"), (2, "MID")]


def test_rows_without_a_contract_keep_their_window_flags():
    """No contract: the flags computed against the window stand."""
    items = [_scored("NONE", 70.0, (EarningsEvent("NONE", dt.date(2026, 9, 21)),))]
    ranked = rank(items, horizon_days=60)
    out = flag_earnings_at_expiry(_with_contracts(ranked, {}), {"NONE": items[0]})
    assert out[0].score == 65.0 and out[0].catalysts == ranked[0].catalysts


def test_debate_slots_go_to_the_best_tickers_with_a_contract():
    """Top 3 slots, ranks 1..6, contracts on 2, 3, 5, 6: the slots go to 2, 3, 5; with the setting, to 1, 2, 3."""
    ranked = rank([_scored(t, 90.0 - i) for i, t in enumerate("ABCDEF")], horizon_days=60)
    rows = _with_contracts(ranked, {t: _pick(t) for t in "BCEF"})
    assert [r.ticker for r in debate_candidates(rows, top_n=3, without_contract=False)] == ["B", "C", "E"]
    assert [r.ticker for r in debate_candidates(rows, top_n=3, without_contract=True)] == ["A", "B", "C"]
    assert debate_candidates(_with_contracts(ranked, {}), top_n=3, without_contract=False) == []
