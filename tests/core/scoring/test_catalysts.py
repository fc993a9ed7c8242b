"""Catalyst adjustment: earnings inside the option's life, known vs unknown dates, scored news."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.core.scoring import apply_catalysts
from actors.core.news.catalyst import NewsRule, news_effect, reference_time
from actors.core.scoring.catalysts import (
    EARNINGS_IN_WINDOW_POINTS,
    EARNINGS_SOON_POINTS,
    next_earnings,
)
from messages.articles import ScoredNews
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


RULE = NewsRule()


def article(sentiment: float, impact: float, hours_old: float = 0.0, ticker: str = "AAPL") -> ScoredNews:
    return ScoredNews(
        article_id=1, ticker=ticker, title="t", source=None, url=None,
        published_at=reference_time(AS_OF) - dt.timedelta(hours=hours_old), sentiment=sentiment, impact=impact,
        event_type="other", reasoning="r",
    )


news_lists = st.lists(st.tuples(st.floats(-1, 1), st.floats(0, 10), st.floats(0, 24 * 7)), max_size=5)


def effect(items, direction=Direction.BULLISH):
    return news_effect([article(*i) for i in items], direction=direction, at=reference_time(AS_OF), rule=RULE)


@given(
    score=st.floats(0, 100),
    direction=st.sampled_from(list(Direction)),
    horizon=st.integers(1, 365),
    beyond=st.integers(1, 2000),
    news=news_lists,
)
def test_known_distant_earnings_never_rank_below_unknown(score, direction, horizon, beyond, news):
    """Hard rule: a ticker with a known date past the horizon never scores below the same ticker with unknown earnings."""
    base = scored(score, direction)
    news_effect_ = effect(news, direction)
    known, _ = apply_catalysts(
        base, earnings=earnings_in(horizon + beyond), headlines=(), as_of=AS_OF, horizon_days=horizon, news=news_effect_
    )
    unknown, _ = apply_catalysts(
        base, earnings=None, headlines=(), as_of=AS_OF, horizon_days=horizon, news=news_effect_
    )
    assert known >= unknown
    assert 0.0 <= known <= 100.0


@given(score=st.floats(0, 100), direction=st.sampled_from(list(Direction)), news=news_lists)
def test_news_adjustment_is_bounded(score, direction, news):
    """Scored news moves the score by at most news_max_adjustment either way."""
    final, flags = apply_catalysts(scored(score, direction), earnings=(), headlines=(), as_of=AS_OF,
                                   news=effect(news, direction))
    news_points = sum(f.adjustment for f in flags if f.kind == "news")
    assert abs(news_points) <= RULE.max_adjustment
    assert final == pytest.approx(min(100.0, max(0.0, score + news_points)), abs=0.01)


class TestNews:
    def test_no_scored_news_means_no_news_adjustment(self):
        """Without scored news there is no news flag and no points."""
        final, flags = apply_catalysts(scored(60), earnings=(), headlines=(), as_of=AS_OF)
        assert "news" not in kinds(flags) and final == 60.0

    def test_unscored_headlines_are_flagged_without_points(self):
        """Headlines that nobody scored are listed, with 0 points."""
        h = Headline("AAPL", "Apple ships a thing", dt.datetime(2026, 7, 23, 12, 0))
        final, flags = apply_catalysts(scored(60), earnings=(), headlines=(h, h), as_of=AS_OF)
        news = [f for f in flags if f.kind == "news"]
        assert news[0].detail == "2 headlines, none scored in the window" and news[0].adjustment == 0.0
        assert final == 60.0

    def test_good_news_helps_a_bullish_setup_and_hurts_a_bearish_one(self):
        """A fresh positive article of impact 5: +5 for bullish, -5 for bearish, 0 for neutral."""
        results = [
            apply_catalysts(scored(60, d), earnings=(), headlines=(), as_of=AS_OF, news=effect([(1.0, 5.0, 0.0)], d))[0]
            for d in (Direction.BULLISH, Direction.BEARISH, Direction.NEUTRAL)
        ]
        assert results == [65.0, 55.0, 60.0]

    def test_mixed_news_nets_out(self):
        """Equal positive and negative weight cancel."""
        final, _ = apply_catalysts(scored(60), earnings=(), headlines=(), as_of=AS_OF,
                                   news=effect([(1.0, 8.0, 3.0), (-1.0, 8.0, 3.0)]))
        assert final == 60.0
