"""The news catalyst rule: impact-weighted sentiment, exponential decay, lookback window, cap, direction."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.core.news.catalyst import NewsRule, news_effect, news_effects, reference_time
from messages.articles import ScoredNews
from messages.scan import Direction, TickerScored

AT = dt.datetime(2026, 7, 24, 20, 0, tzinfo=dt.timezone.utc)
RULE = NewsRule(lookback_days=7, half_life_days=2, max_adjustment=10)


def item(sentiment: float, impact: float, days_old: float, article_id: int = 1, ticker: str = "AAPL") -> ScoredNews:
    return ScoredNews(
        article_id=article_id, ticker=ticker, title=f"a{article_id}", source=None, url=None,
        published_at=AT - dt.timedelta(days=days_old), sentiment=sentiment, impact=impact,
        event_type="earnings", reasoning="r",
    )


def points(*items: ScoredNews, direction: Direction = Direction.BULLISH, rule: NewsRule = RULE) -> float:
    effect = news_effect(items, direction=direction, at=AT, rule=rule)
    return 0.0 if effect is None else effect.points


def test_a_fresh_article_of_full_impact_reaches_the_cap():
    """Impact 10, sentiment +1, published at the reference time: +10 points (the cap)."""
    assert points(item(1.0, 10.0, 0.0)) == 10.0


def test_weight_halves_every_half_life():
    """The same article 2 and 4 days old counts 1/2 and 1/4 (half-life 2 days)."""
    assert points(item(1.0, 4.0, 0.0)) == 4.0
    assert points(item(1.0, 4.0, 2.0)) == 2.0
    assert points(item(1.0, 4.0, 4.0)) == 1.0


def test_articles_outside_the_lookback_or_after_the_reference_do_not_count():
    """7.01 days old or published after the as-of close: no effect at all (None)."""
    assert news_effect([item(1.0, 10.0, 7.01)], direction=Direction.BULLISH, at=AT, rule=RULE) is None
    assert news_effect([item(1.0, 10.0, -0.1)], direction=Direction.BULLISH, at=AT, rule=RULE) is None


def test_the_cap_holds_and_the_shares_add_up_to_the_points():
    """Three strong positive articles are capped at +10; each article's share is scaled so they sum to 10."""
    effect = news_effect([item(1.0, 9.0, 0.5, 1), item(0.8, 8.0, 1.0, 2), item(0.6, 7.0, 0.2, 3)],
                         direction=Direction.BULLISH, at=AT, rule=RULE)
    assert effect is not None and effect.points == 10.0
    assert sum(c.points for c in effect.contributions) == pytest.approx(10.0, abs=0.03)
    assert "capped at 10" in effect.detail and effect.flag == "NEWS+"


def test_bad_news_confirms_a_bearish_setup_and_neutral_gets_nothing():
    """Negative news: + points for bearish, - for bullish, 0 for neutral; the flag says NEWS- in all three."""
    bad = item(-1.0, 5.0, 0.0)
    assert points(bad, direction=Direction.BEARISH) == 5.0
    assert points(bad, direction=Direction.BULLISH) == -5.0
    neutral = news_effect([bad], direction=Direction.NEUTRAL, at=AT, rule=RULE)
    assert neutral is not None and neutral.points == 0.0 and neutral.flag is None
    assert news_effect([bad], direction=Direction.BEARISH, at=AT, rule=RULE).flag == "NEWS-"


def test_small_moves_get_no_flag():
    """Under half a point the articles are listed but no flag is shown."""
    effect = news_effect([item(0.1, 3.0, 1.0)], direction=Direction.BULLISH, at=AT, rule=RULE)
    assert effect is not None and abs(effect.points) < 0.5 and effect.flag is None


@given(st.lists(st.tuples(st.floats(-1, 1), st.floats(0, 10), st.floats(0, 7)), max_size=8),
       st.sampled_from(list(Direction)), st.floats(0.5, 30), st.floats(0.5, 30))
def test_points_are_bounded_and_follow_the_formula(raw, direction, half_life, cap):
    """For any articles: |points| <= cap, and points = clamp(cap * sum(s * i/10 * 0.5^(age/h))) * sign."""
    rule = NewsRule(lookback_days=7, half_life_days=half_life, max_adjustment=cap)
    items = [item(s, i, d, n) for n, (s, i, d) in enumerate(raw)]
    inside = [x for x in items if AT - dt.timedelta(days=7) < x.published_at <= AT]
    net = math.fsum(x.sentiment * x.impact / 10 * 0.5 ** ((AT - x.published_at).total_seconds() / 86400 / half_life)
                    for x in inside)
    sign = {Direction.BULLISH: 1, Direction.BEARISH: -1, Direction.NEUTRAL: 0}[direction]
    got = points(*items, direction=direction, rule=rule)
    assert abs(got) <= cap + 1e-9
    assert got == pytest.approx(max(-cap, min(cap, cap * net)) * sign, abs=0.011)


def test_news_effects_weighs_each_ticker_at_its_own_as_of_close():
    """Two tickers: each gets its own news, weighed from 20:00 UTC of its as-of day."""
    scored = [TickerScored(ticker=t, score=50, direction=Direction.BULLISH, components=(), last_close=1.0,
                           as_of=dt.date(2026, 7, 24)) for t in ("AAPL", "MSFT")]
    assert reference_time(dt.date(2026, 7, 24)) == AT
    effects = news_effects(scored, {"AAPL": [item(1.0, 2.0, 0.0)]}, rule=RULE)
    assert set(effects) == {"AAPL"} and effects["AAPL"].points == 2.0


@pytest.mark.parametrize("field", ["lookback_days", "half_life_days", "max_adjustment"])
def test_rule_settings_must_be_positive(field):
    """A zero or negative setting is a ValueError naming the field."""
    with pytest.raises(ValueError, match=field):
        NewsRule(**{field: 0})
