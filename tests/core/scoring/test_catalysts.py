"""Catalyst adjustment: earnings inside the option's life, known vs unknown dates, scored news."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.core.scoring import apply_catalysts
from actors.core.scoring.catalysts import (
    EARNINGS_IN_WINDOW_POINTS,
    EARNINGS_SOON_POINTS,
    NEWS_MAX_POINTS,
    next_earnings,
)
from messages.articles import Sentiment
from messages.market import EarningsEvent, Headline
from messages.scan import Direction, TickerScored

AS_OF = dt.date(2026, 7, 24)


def scored(score: float = 60.0, direction: Direction = Direction.BULLISH, ticker: str = "AAPL") -> TickerScored:
    return TickerScored(ticker=ticker, score=score, direction=direction, components=(), last_close=100.0, as_of=AS_OF)


def earnings_in(days: int, ticker: str = "AAPL", time: str | None = None) -> tuple[EarningsEvent, ...]:
    return (EarningsEvent(ticker=ticker, date=AS_OF + dt.timedelta(days=days), time=time),)


def kinds(flags) -> list[str]:
    return [f.kind for f in flags]


class TestEarnings:
    def test_earnings_inside_horizon_is_flagged_with_date_and_penalised(self):
        """Earnings in 30 days of a 60-day horizon: flag with the date, -5 points."""
        final, flags = apply_catalysts(scored(60), earnings=earnings_in(30), headlines=(), as_of=AS_OF)
        assert kinds(flags) == ["earnings_before_expiry"]
        assert flags[0].date == AS_OF + dt.timedelta(days=30)
        assert flags[0].adjustment == EARNINGS_IN_WINDOW_POINTS == -5.0
        assert final == 55.0

    def test_very_near_earnings_adds_the_soon_penalty(self):
        """Earnings in 3 days is inside the window and soon: -5 and -3."""
        final, flags = apply_catalysts(scored(60), earnings=earnings_in(3), headlines=(), as_of=AS_OF)
        assert kinds(flags) == ["earnings_before_expiry", "earnings_soon"]
        assert final == 60 + EARNINGS_IN_WINDOW_POINTS + EARNINGS_SOON_POINTS == 52.0

    def test_earnings_after_horizon_is_flagged_without_adjustment(self):
        """Earnings in 75 days, after a 60-day horizon: flagged, 0 points."""
        final, flags = apply_catalysts(scored(60), earnings=earnings_in(75), headlines=(), as_of=AS_OF)
        assert kinds(flags) == ["earnings_after_window"]
        assert flags[0].adjustment == 0.0 and flags[0].date == AS_OF + dt.timedelta(days=75)
        assert final == 60.0

    def test_horizon_is_the_candidate_option_life(self):
        """The same date is inside a 90-day horizon and outside a 30-day one."""
        _, inside = apply_catalysts(scored(), earnings=earnings_in(45), headlines=(), as_of=AS_OF, horizon_days=90)
        _, outside = apply_catalysts(scored(), earnings=earnings_in(45), headlines=(), as_of=AS_OF, horizon_days=30)
        assert kinds(inside) == ["earnings_before_expiry"]
        assert kinds(outside) == ["earnings_after_window"]

    def test_unknown_earnings_is_flagged_without_adjustment(self):
        """No calendar (None): flag earnings_unknown, 0 points."""
        final, flags = apply_catalysts(scored(60), earnings=None, headlines=(), as_of=AS_OF)
        assert kinds(flags) == ["earnings_unknown"] and flags[0].adjustment == 0.0
        assert final == 60.0

    def test_known_calendar_without_upcoming_event(self):
        """A known calendar with only past events is 'after the window', not unknown."""
        final, flags = apply_catalysts(scored(60), earnings=earnings_in(-10), headlines=(), as_of=AS_OF)
        assert kinds(flags) == ["earnings_after_window"] and flags[0].date is None
        assert final == 60.0

    def test_next_earnings_skips_past_and_same_day_before_open(self):
        """A report before today's open is past; one after today's close is still ahead."""
        events = (
            EarningsEvent("AAPL", AS_OF - dt.timedelta(days=1)),
            EarningsEvent("AAPL", AS_OF, "before_open"),
            EarningsEvent("AAPL", AS_OF + dt.timedelta(days=40)),
        )
        assert next_earnings(events, AS_OF).date == AS_OF + dt.timedelta(days=40)
        tonight = EarningsEvent("AAPL", AS_OF, "after_close")
        assert next_earnings((*events, tonight), AS_OF) is tonight

    def test_event_of_another_ticker_is_rejected(self):
        """Earnings of MSFT passed for AAPL is a caller bug, reported by index."""
        with pytest.raises(ValueError, match=r"earnings\[0\] is for 'MSFT', not 'AAPL'"):
            apply_catalysts(scored(), earnings=earnings_in(5, ticker="MSFT"), headlines=(), as_of=AS_OF)

    def test_bad_horizon_is_rejected(self):
        """horizon_days must be a positive int."""
        with pytest.raises(ValueError, match=r"horizon_days must be an int >= 1 \(got 0\)"):
            apply_catalysts(scored(), earnings=None, headlines=(), as_of=AS_OF, horizon_days=0)

    def test_final_score_is_clamped(self):
        """A penalty never takes the score below 0."""
        final, _ = apply_catalysts(scored(2.0), earnings=earnings_in(1), headlines=(), as_of=AS_OF)
        assert final == 0.0


news_pairs = st.lists(
    st.tuples(
        st.one_of(st.floats(-1, 1), st.sampled_from(list(Sentiment))),
        st.floats(0, 1),
    ),
    max_size=5,
)


@given(
    score=st.floats(0, 100),
    direction=st.sampled_from(list(Direction)),
    horizon=st.integers(1, 365),
    beyond=st.integers(1, 2000),
    news=news_pairs,
)
def test_known_distant_earnings_never_rank_below_unknown(score, direction, horizon, beyond, news):
    """Hard rule: a ticker with a known date past the horizon never scores below the same ticker with unknown earnings."""
    base = scored(score, direction)
    known, _ = apply_catalysts(
        base, earnings=earnings_in(horizon + beyond), headlines=(), as_of=AS_OF, horizon_days=horizon, news_scores=news
    )
    unknown, _ = apply_catalysts(
        base, earnings=None, headlines=(), as_of=AS_OF, horizon_days=horizon, news_scores=news
    )
    assert known >= unknown
    assert 0.0 <= known <= 100.0


@given(score=st.floats(0, 100), direction=st.sampled_from(list(Direction)), news=news_pairs)
def test_news_adjustment_is_bounded(score, direction, news):
    """Scored news moves the score by at most NEWS_MAX_POINTS either way."""
    final, flags = apply_catalysts(scored(score, direction), earnings=(), headlines=(), as_of=AS_OF, news_scores=news)
    news_points = sum(f.adjustment for f in flags if f.kind == "news")
    assert abs(news_points) <= NEWS_MAX_POINTS
    assert final == pytest.approx(min(100.0, max(0.0, score + news_points)), abs=0.01)


class TestNews:
    def test_no_scored_news_means_no_news_adjustment(self):
        """Without news_scores there is no news flag and no points."""
        final, flags = apply_catalysts(scored(60), earnings=(), headlines=(), as_of=AS_OF)
        assert "news" not in kinds(flags) and final == 60.0

    def test_unscored_headlines_are_flagged_without_points(self):
        """Headlines that nobody scored are listed, with 0 points."""
        h = Headline("AAPL", "Apple ships a thing", dt.datetime(2026, 7, 23, 12, 0))
        final, flags = apply_catalysts(scored(60), earnings=(), headlines=(h, h), as_of=AS_OF)
        news = [f for f in flags if f.kind == "news"]
        assert news[0].detail == "2 headlines, none scored" and news[0].adjustment == 0.0
        assert final == 60.0

    def test_good_news_helps_a_bullish_setup_and_hurts_a_bearish_one(self):
        """One positive article of full impact: +5 for bullish, -5 for bearish, 0 for neutral."""
        good = [(Sentiment.POSITIVE, 1.0)]
        bull, _ = apply_catalysts(scored(60, Direction.BULLISH), earnings=(), headlines=(), as_of=AS_OF, news_scores=good)
        bear, _ = apply_catalysts(scored(60, Direction.BEARISH), earnings=(), headlines=(), as_of=AS_OF, news_scores=good)
        flat, _ = apply_catalysts(scored(60, Direction.NEUTRAL), earnings=(), headlines=(), as_of=AS_OF, news_scores=good)
        assert (bull, bear, flat) == (65.0, 55.0, 60.0)

    def test_low_impact_news_moves_the_score_less(self):
        """Net sentiment +1 with total impact 0.4 gives 5 x 0.4 = 2 points."""
        final, flags = apply_catalysts(
            scored(60), earnings=(), headlines=(), as_of=AS_OF, news_scores=[(1.0, 0.2), (0.5, 0.0), (1.0, 0.2)]
        )
        assert final == pytest.approx(62.0)
        assert "3 scored articles" in flags[-1].detail

    def test_mixed_news_nets_out(self):
        """Equal positive and negative impact cancel."""
        final, _ = apply_catalysts(
            scored(60), earnings=(), headlines=(), as_of=AS_OF, news_scores=[(1.0, 0.8), (-1.0, 0.8)]
        )
        assert final == 60.0

    @pytest.mark.parametrize(
        ("item", "message"),
        [
            ((2.0, 0.5), r"news_scores\[0\]: sentiment must be a Sentiment or a number in -1..1 \(got 2.0\)"),
            ((0.5, 1.5), r"news_scores\[0\]: impact must be a number in 0..1 \(got 1.5\)"),
            ((0.5,), r"news_scores\[0\]: expected a \(sentiment, impact\) pair"),
        ],
    )
    def test_bad_news_score_names_the_item(self, item, message):
        """A malformed news score is a ValueError naming its index and field."""
        with pytest.raises(ValueError, match=message):
            apply_catalysts(scored(), earnings=(), headlines=(), as_of=AS_OF, news_scores=[item])
