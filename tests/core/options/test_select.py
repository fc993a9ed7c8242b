"""Contract selection on constructed chains: each rule, each reason, the Black-Scholes fallback."""

from __future__ import annotations

import datetime as dt

import pytest

from actors.core.options import NEUTRAL_REASON, Selection, select_contract
from actors.core.pricing import bs_greeks, bs_price
from messages.market import OptionChain, OptionQuote, OptionType
from messages.scan import Direction

AS_OF = dt.date(2026, 7, 24)
SPOT = 100.0


def q(
    dte: int = 45,
    strike: float = 105.0,
    *,
    type: OptionType = OptionType.CALL,
    bid: float = 2.0,
    ask: float = 2.1,
    oi: float = 500,
    volume: float = 10,
    delta: float | None = 0.35,
    iv: float | None = 0.30,
    as_of: dt.date = AS_OF,
) -> OptionQuote:
    expiry = as_of + dt.timedelta(days=dte)
    letter = "C" if type is OptionType.CALL else "P"
    contract = f"TEST{expiry:%y%m%d}{letter}{int(strike * 1000):08d}"
    return OptionQuote(
        contract=contract,
        ticker="TEST",
        type=type,
        strike=strike,
        expiry=expiry,
        bid=bid,
        ask=ask,
        last=None,
        volume=volume,
        open_interest=oi,
        iv=iv,
        delta=delta,
        gamma=0.03 if delta is not None else None,
        theta=-0.05 if delta is not None else None,
        vega=0.12 if delta is not None else None,
    )


def chain(*quotes: OptionQuote, spot: float = SPOT) -> OptionChain:
    return OptionChain(
        ticker="TEST",
        as_of=dt.datetime(2026, 7, 24, 16, 0),
        underlying_price=spot,
        quotes=quotes,
        source="test",
    )


def pick(selection: Selection):
    assert selection.reason is None, selection.reason
    assert selection.pick is not None
    return selection.pick


class TestDirection:
    def test_bullish_picks_a_call_and_bearish_a_put(self):
        """Direction decides the type."""
        c = chain(q(type=OptionType.CALL), q(type=OptionType.PUT, strike=95.0, delta=-0.35))
        assert pick(select_contract(c, Direction.BULLISH, as_of=AS_OF)).type is OptionType.CALL
        put = pick(select_contract(c, Direction.BEARISH, as_of=AS_OF))
        assert put.type is OptionType.PUT and put.delta == -0.35

    def test_neutral_gets_no_pick_with_reason(self):
        """Neutral has no directional edge: no pick, nothing considered."""
        sel = select_contract(chain(q()), Direction.NEUTRAL, as_of=AS_OF)
        assert sel == Selection(pick=None, reason=NEUTRAL_REASON, considered=0)
        assert NEUTRAL_REASON == "neutral direction: no directional edge"

    def test_chain_without_wanted_type(self):
        """A chain of calls only has nothing for a bearish setup."""
        sel = select_contract(chain(q(), q(strike=110.0)), Direction.BEARISH, as_of=AS_OF)
        assert (sel.pick, sel.reason, sel.considered) == (None, "chain has no puts", 0)

    def test_considered_counts_contracts_of_the_wanted_type(self):
        """Three calls and one put: a bullish selection considers 3."""
        c = chain(q(), q(strike=110.0), q(dte=10), q(type=OptionType.PUT, delta=-0.3))
        assert select_contract(c, Direction.BULLISH, as_of=AS_OF).considered == 3


class TestExpiry:
    def test_expiry_nearest_target_inside_window(self):
        """Of 14, 35, 42, 56 and 91 DTE, 42 is inside 30-60 and nearest 45."""
        c = chain(*(q(dte=d) for d in (14, 35, 42, 56, 91)))
        p = pick(select_contract(c, Direction.BULLISH, as_of=AS_OF))
        assert p.dte == 42 and p.expiry == AS_OF + dt.timedelta(days=42)

    def test_tie_on_distance_goes_to_the_longer_expiry(self):
        """40 and 50 DTE are both 5 from 45: the longer one wins."""
        p = pick(select_contract(chain(q(dte=40), q(dte=50)), Direction.BULLISH, as_of=AS_OF))
        assert p.dte == 50

    def test_window_edges_are_inclusive(self):
        """30 and 60 DTE are in the window; 29 and 61 are not."""
        assert pick(select_contract(chain(q(dte=30)), Direction.BULLISH, as_of=AS_OF)).dte == 30
        assert pick(select_contract(chain(q(dte=60)), Direction.BULLISH, as_of=AS_OF)).dte == 60
        sel = select_contract(chain(q(dte=29), q(dte=61)), Direction.BULLISH, as_of=AS_OF)
        assert sel.reason == "no expiry within 30-60 DTE (nearest: 29, 61)"

    def test_no_expiry_in_window_names_the_nearest_on_each_side(self):
        """The reason says which expiries exist nearest the window."""
        c = chain(*(q(dte=d) for d in (3, 14, 91, 120)))
        sel = select_contract(c, Direction.BULLISH, as_of=AS_OF)
        assert sel == Selection(pick=None, reason="no expiry within 30-60 DTE (nearest: 14, 91)", considered=4)

    def test_no_expiry_in_window_with_one_side_or_none(self):
        """Only short expiries name one; only expired ones name none."""
        short = select_contract(chain(q(dte=7)), Direction.BULLISH, as_of=AS_OF)
        assert short.reason == "no expiry within 30-60 DTE (nearest: 7)"
        expired = select_contract(chain(q(dte=-3)), Direction.BULLISH, as_of=AS_OF)
        assert expired.reason == "no expiry within 30-60 DTE (nearest: none)"

    def test_expiry_without_a_qualifying_contract_is_skipped(self):
        """45 DTE has only illiquid contracts, so the nearest qualifying expiry (35) wins."""
        c = chain(q(dte=45, oi=5), q(dte=35), q(dte=59))
        assert pick(select_contract(c, Direction.BULLISH, as_of=AS_OF)).dte == 35

    def test_dte_counts_from_as_of_not_the_wall_clock(self):
        """A 2019 chain selected as of 2019 gets its 2019 DTE, though the clock says otherwise."""
        old = dt.date(2019, 3, 1)
        c = chain(q(dte=44, as_of=old), q(dte=90, as_of=old))
        p = pick(select_contract(c, Direction.BULLISH, as_of=old))
        assert p.dte == 44 and p.expiry == dt.date(2019, 4, 14)

    def test_as_of_shifts_which_expiries_are_in_window(self):
        """Moving as_of 20 days on turns 44/90 DTE into 24/70: none in window."""
        old = dt.date(2019, 3, 1)
        c = chain(q(dte=44, as_of=old), q(dte=90, as_of=old))
        sel = select_contract(c, Direction.BULLISH, as_of=old + dt.timedelta(days=20))
        assert sel.reason == "no expiry within 30-60 DTE (nearest: 24, 70)"
        as_datetime = select_contract(c, Direction.BULLISH, as_of=dt.datetime(2019, 3, 1, 15, 30))
        assert pick(as_datetime).dte == 44


class TestDelta:
    def test_delta_closest_to_target_within_bounds(self):
        """Of deltas .20 .30 .33 .40 .55, .33 is nearest .35 and inside .25-.50."""
        c = chain(*(q(strike=100 + i, delta=d) for i, d in enumerate((0.20, 0.30, 0.33, 0.40, 0.55))))
        assert pick(select_contract(c, Direction.BULLISH, as_of=AS_OF)).delta == 0.33

    def test_put_delta_is_compared_by_magnitude(self):
        """Puts with deltas -.45 and -.36: -.36 is nearest .35 in magnitude."""
        c = chain(
            q(type=OptionType.PUT, strike=98.0, delta=-0.45),
            q(type=OptionType.PUT, strike=95.0, delta=-0.36),
        )
        assert pick(select_contract(c, Direction.BEARISH, as_of=AS_OF)).delta == -0.36

    def test_delta_tie_goes_to_larger_open_interest(self):
        """Deltas .30 and .40 are equally near .35: the more open contract wins."""
        c = chain(q(strike=104.0, delta=0.40, oi=300), q(strike=106.0, delta=0.30, oi=900))
        assert pick(select_contract(c, Direction.BULLISH, as_of=AS_OF)).open_interest == 900

    def test_no_delta_in_bounds_reason(self):
        """Deltas only outside .25-.50 give a reason with every count along the way."""
        c = chain(q(strike=101.0, delta=0.62), q(strike=112.0, delta=0.12))
        sel = select_contract(c, Direction.BULLISH, as_of=AS_OF)
        assert sel.reason == (
            "2 calls within 30-60 DTE; 2 with bid > 0 and ask >= bid; 2 with open interest >= 100; "
            "2 with volume >= 1; 2 with bid-ask spread <= 10% of mid; none with |delta| in 0.25-0.50"
        )

    def test_custom_delta_bounds(self):
        """With a .50 target in .45-.55, the .5 contract is chosen."""
        c = chain(q(strike=100.0, delta=0.50), q(strike=105.0, delta=0.35))
        p = pick(select_contract(c, Direction.BULLISH, as_of=AS_OF, delta_min=0.45, delta_target=0.5, delta_max=0.55))
        assert p.delta == 0.50


class TestLiquidity:
    def test_open_interest_filter_reason(self):
        """12 contracts in window, none with enough open interest: the reason says so with counts."""
        c = chain(*(q(strike=100 + i, oi=99) for i in range(12)), q(dte=10))
        sel = select_contract(c, Direction.BULLISH, as_of=AS_OF)
        assert sel.pick is None and sel.considered == 13
        assert sel.reason == "12 calls within 30-60 DTE; 12 with bid > 0 and ask >= bid; none with open interest >= 100"

    def test_open_interest_at_minimum_passes(self):
        """Open interest exactly 100 is enough."""
        assert pick(select_contract(chain(q(oi=100)), Direction.BULLISH, as_of=AS_OF)).open_interest == 100

    def test_volume_filter_reason(self):
        """No volume today: the reason names the volume rule."""
        sel = select_contract(chain(q(volume=0), q(strike=110.0, volume=0)), Direction.BULLISH, as_of=AS_OF)
        assert sel.reason.endswith("2 with open interest >= 100; none with volume >= 1")

    def test_spread_filter_reason(self):
        """A 2.0/2.6 quote is a 26 % spread: rejected with the spread rule."""
        sel = select_contract(chain(q(bid=2.0, ask=2.6)), Direction.BULLISH, as_of=AS_OF)
        assert sel.reason.endswith("1 with volume >= 1; none with bid-ask spread <= 10% of mid")

    def test_spread_filter_keeps_the_tight_quote(self):
        """Between a wide contract nearer the delta target and a tight one, the tight one is picked."""
        c = chain(q(strike=105.0, delta=0.35, bid=2.0, ask=2.6), q(strike=107.0, delta=0.30, bid=1.5, ask=1.6))
        assert pick(select_contract(c, Direction.BULLISH, as_of=AS_OF)).strike == 107.0

    @pytest.mark.parametrize(("bid", "ask"), [(0.0, 0.05), (2.1, 2.0), (-1.0, 1.0)])
    def test_zero_and_crossed_quotes_are_rejected(self, bid, ask):
        """A zero bid or an ask below the bid is not a real market."""
        sel = select_contract(chain(q(bid=bid, ask=ask)), Direction.BULLISH, as_of=AS_OF)
        assert sel.reason == "1 calls within 30-60 DTE; none with bid > 0 and ask >= bid"

    def test_crossed_quote_is_skipped_for_a_valid_one(self):
        """The crossed contract sits on the delta target, but the valid one is picked."""
        c = chain(q(strike=105.0, delta=0.35, bid=2.2, ask=2.1), q(strike=107.0, delta=0.28))
        assert pick(select_contract(c, Direction.BULLISH, as_of=AS_OF)).strike == 107.0


class TestGreeks:
    def test_chain_greeks_are_used_when_present(self):
        """A chain delta is taken as is, with the chain's other Greeks and IV."""
        p = pick(select_contract(chain(q(delta=0.36, iv=0.31)), Direction.BULLISH, as_of=AS_OF))
        assert (p.greeks_source, p.delta, p.iv, p.gamma, p.theta, p.vega) == ("chain", 0.36, 0.31, 0.03, -0.05, 0.12)

    def test_black_scholes_with_chain_iv_when_delta_missing(self):
        """No delta but an IV: Greeks come from Black-Scholes at that IV."""
        p = pick(select_contract(chain(q(strike=108.0, delta=None, iv=0.30)), Direction.BULLISH, as_of=AS_OF))
        expected = bs_greeks(OptionType.CALL, SPOT, 108.0, 45 / 365, 0.045, 0.30)
        assert p.greeks_source == "black_scholes"
        assert p.delta == pytest.approx(expected.delta) and 0.25 <= p.delta <= 0.50
        assert (p.gamma, p.theta, p.vega, p.iv) == pytest.approx((expected.gamma, expected.theta, expected.vega, 0.30))

    def test_black_scholes_implies_iv_from_mid_when_none_given(self):
        """No delta and no IV: the IV implied by the mid is used, and recovered to within 0.1 %."""
        fair = bs_price(OptionType.PUT, SPOT, 95.0, 40 / 365, 0.045, 0.42)
        quote = q(dte=40, type=OptionType.PUT, strike=95.0, delta=None, iv=None, bid=fair - 0.05, ask=fair + 0.05)
        p = pick(select_contract(chain(quote), Direction.BEARISH, as_of=AS_OF))
        assert p.greeks_source == "black_scholes"
        assert p.iv == pytest.approx(0.42, abs=1e-3)
        assert p.delta == pytest.approx(bs_greeks(OptionType.PUT, SPOT, 95.0, 40 / 365, 0.045, 0.42).delta, abs=1e-3)

    @pytest.mark.parametrize("bad_delta", [0.0, -0.35, float("nan")])
    def test_unusable_chain_delta_falls_back_to_black_scholes(self, bad_delta):
        """A zero, wrong-signed or NaN call delta is not trusted."""
        p = pick(select_contract(chain(q(strike=108.0, delta=bad_delta, iv=0.3)), Direction.BULLISH, as_of=AS_OF))
        assert p.greeks_source == "black_scholes" and p.delta > 0

    def test_same_day_expiry_is_priced_with_a_day_left(self):
        """With a 0-30 DTE window, a 0-DTE contract without Greeks still gets Black-Scholes ones."""
        g = bs_greeks(OptionType.CALL, SPOT, 101.0, 1 / 365, 0.045, 0.6)
        quote = q(dte=0, strike=101.0, delta=None, iv=0.6, bid=g.price * 0.98, ask=g.price * 1.02)
        p = pick(
            select_contract(chain(quote), Direction.BULLISH, as_of=AS_OF, dte_min=0, dte_target=0, dte_max=30)
        )
        assert p.dte == 0 and p.delta == pytest.approx(g.delta)

    def test_no_usable_delta_or_iv_is_reported(self):
        """A mid below intrinsic value implies no volatility: the reason counts it."""
        sel = select_contract(
            chain(q(strike=80.0, delta=None, iv=None, bid=10.0, ask=10.5)), Direction.BULLISH, as_of=AS_OF
        )
        assert sel.reason.endswith(
            "none with |delta| in 0.25-0.50 (1 without a usable delta or implied volatility)"
        )


class TestSettings:
    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"dte_min": -1, "dte_target": 0}, r"dte_min must be >= 0 \(got -1\)"),
            ({"dte_target": 20}, r"dte_min <= dte_target <= dte_max must hold \(got dte_min=30, dte_target=20, dte_max=60\)"),
            ({"dte_max": 40}, r"dte_min <= dte_target <= dte_max must hold \(got dte_min=30, dte_target=45, dte_max=40\)"),
            ({"dte_min": 30.5}, r"dte_min must be an int \(got 30.5\)"),
            (
                {"delta_min": 0.0},
                r"0 < delta_min <= delta_target <= delta_max < 1 must hold \(got delta_min=0.0, delta_target=0.35, delta_max=0.5\)",
            ),
            ({"delta_max": 1.0}, r"0 < delta_min <= delta_target <= delta_max < 1 must hold"),
            ({"delta_target": 0.6}, r"0 < delta_min <= delta_target <= delta_max < 1 must hold"),
            ({"delta_target": float("nan")}, r"delta_target must be a finite number \(got nan\)"),
            ({"min_open_interest": -1}, r"min_open_interest must be a number >= 0 \(got -1\)"),
            ({"min_volume": "1"}, r"min_volume must be a number >= 0 \(got '1'\)"),
            ({"max_spread_pct": 0}, r"max_spread_pct must be a number > 0 \(got 0\)"),
            ({"risk_free_rate": 4.5}, r"risk_free_rate must be a number in -0.1..0.5 \(got 4.5\)"),
            ({"as_of": "2026-07-24"}, r"as_of must be a date \(got '2026-07-24'\)"),
        ],
    )
    def test_bad_setting_is_rejected_with_exact_message(self, kwargs, message):
        """Each setting is checked at the boundary; the message names it and the rule."""
        settings = {"as_of": AS_OF, **kwargs}
        with pytest.raises(ValueError, match=message):
            select_contract(chain(q()), Direction.BULLISH, **settings)

    def test_direction_must_be_a_direction(self):
        """A string direction is refused rather than silently treated as neutral."""
        with pytest.raises(ValueError, match=r"direction must be a Direction \(got 'bullish'\)"):
            select_contract(chain(q()), "bullish", as_of=AS_OF)
