"""Yahoo search news parser on the recorded AAPL/QQQ answers and corrupted copies."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from actors.errors import MalformedData
from actors.providers.parsers import parse_yahoo_news
from tests.providers.conftest import recorded, recorded_json


def test_parses_recorded_aapl_news():
    """Four AAPL headlines with title, publisher, link and UTC publish time."""
    news = parse_yahoo_news(recorded("yahoo_search/yahoo_search_news_AAPL.json"), ticker="AAPL")
    assert len(news) == 4
    first = news[0]
    assert first.title == "Why Trump could 'move fast' on Apple's $500B US investment plan"
    assert first.publisher == "Yahoo Finance Video"
    assert first.published_at == dt.datetime(2025, 2, 25, 0, 20, tzinfo=dt.timezone.utc)
    assert first.url.startswith("https://finance.yahoo.com/video/")
    assert {h.ticker for h in news} == {"AAPL"}


def test_parses_recorded_qqq_news():
    """QQQ's answer has four headlines too."""
    news = parse_yahoo_news(recorded("yahoo_search/yahoo_search_news_QQQ.json"), ticker="QQQ")
    assert [h.publisher for h in news][0] == "TheStreet"
    assert len(news) == 4


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.pop("news"), r"news: required field missing"),
        (lambda d: d.update(news={"a": 1}), r"news: expected an array, got an object"),
    ],
)
def test_corrupted_news_names_the_field(mutate, expected):
    """A bad envelope raises MalformedData naming the field path and why."""
    doc = recorded_json("yahoo_search/yahoo_search_news_AAPL.json")
    mutate(doc)
    with pytest.raises(MalformedData, match=expected) as info:
        parse_yahoo_news(json.dumps(doc), ticker="AAPL")
    assert info.value.piece == "news"


@pytest.mark.parametrize(
    ("index", "mutate", "expected"),
    [
        (1, lambda h: h.update(providerPublishTime="yesterday"), r"news\[1\]\.providerPublishTime: expected a unix timestamp"),
        (1, lambda h: h.update(providerPublishTime=4_000_000_000), r"news\[1\]\.providerPublishTime: date 2096-10-02 is after"),
        (2, lambda h: h.pop("title"), r"news\[2\]\.title: required field missing"),
        (0, lambda h: h.update(publisher=3), r"news\[0\]\.publisher: expected a string, got 3"),
    ],
)
def test_a_headline_with_a_bad_value_is_dropped(index, mutate, expected, caplog):
    """One bad headline is dropped, the other three stay, and an INFO line names the field and why."""
    doc = recorded_json("yahoo_search/yahoo_search_news_AAPL.json")
    titles = [item["title"] for item in doc["news"]]
    mutate(doc["news"][index])
    caplog.set_level("INFO", logger="actors.providers.parsers._common")
    news = parse_yahoo_news(json.dumps(doc), ticker="AAPL")
    assert [h.title for h in news] == titles[:index] + titles[index + 1 :]
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("AAPL news: dropped 1 of 4 headlines with a bad value; first: ")
    assert re.search(expected, line), line


def test_empty_news_is_no_headlines():
    """An empty news array is a valid answer with no headlines."""
    assert parse_yahoo_news(b'{"news": []}', ticker="AAPL") == ()
