"""The news settings: defaults, and bad values named with their source."""

from __future__ import annotations

import pytest

from actors.config import load_settings
from actors.errors import ConfigError


def test_defaults():
    s = load_settings(env={})
    assert (s.news_max_attempts, s.news_lease, s.news_interval, s.news_lookback_days, s.news_half_life_days,
            s.news_max_adjustment, s.news_max_chars) == (3, 300.0, 30.0, 7.0, 2.0, 10.0, 2000)
    assert s.news_categories[:3] == ("earnings", "guidance", "analyst-rating") and "other" in s.news_categories


def test_categories_from_the_environment_are_lowercased_words():
    s = load_settings(env={"OPTION_ALPHA_NEWS_CATEGORIES": "Earnings, M&A ,other"})
    assert s.news_categories == ("earnings", "m&a", "other")


@pytest.mark.parametrize(("env", "message"), [
    ({"OPTION_ALPHA_NEWS_CATEGORIES": "earnings,earnings"}, "news_categories: expected 1 to 32 distinct words"),
    ({"OPTION_ALPHA_NEWS_CATEGORIES": "drop table;"}, "news_categories: expected 1 to 32 distinct words"),
    ({"OPTION_ALPHA_NEWS_MAX_ATTEMPTS": "0"}, "news_max_attempts: expected a value >= 1"),
    ({"OPTION_ALPHA_NEWS_HALF_LIFE_DAYS": "0"}, "news_half_life_days: expected a value > 0"),
    ({"OPTION_ALPHA_NEWS_MAX_CHARS": "50"}, "news_max_chars: expected a value >= 200"),
    ({"OPTION_ALPHA_NEWS_LEASE": "100"}, "news_lease (100.0) must exceed two LLM requests"),
])
def test_bad_values_name_the_field_and_why(env, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(env=env)
