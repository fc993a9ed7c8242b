"""RSS/Atom headline feeds through feedparser: items, dropped items, empty feeds and non-feeds fail."""

import datetime as dt
from pathlib import Path

import pytest

from actors.errors import MalformedData
from actors.providers.parsers import parse_rss_news

RSS = Path(__file__).resolve().parents[2] / "fixtures" / "rss"
TODAY = dt.date(2026, 7, 27)


def test_items_in_feed_order_with_the_undated_one_dropped():
    headlines = parse_rss_news((RSS / "rss_AAPL.xml").read_bytes(), ticker="AAPL", today=TODAY)
    assert [(h.title, h.url) for h in headlines] == [
        ("Test headline one about AAPL", "https://finance.yahoo.com/news/test-item-one.html"),
        ("Test headline two about AAPL", "https://finance.yahoo.com/news/test-item-two.html"),
    ]
    assert all(h.ticker == "AAPL" for h in headlines)


def test_an_atom_feed_reads_the_same_way():
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>8-K filings</title>
      <entry><title>8-K - Current report</title><link href="https://www.sec.gov/x"/>
      <updated>2026-07-20T16:05:00-04:00</updated></entry></feed>"""
    (h,) = parse_rss_news(atom, ticker="AAPL", today=TODAY)
    assert h.published_at == dt.datetime(2026, 7, 20, 20, 5, tzinfo=dt.timezone.utc) and h.publisher == "8-K filings"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ((RSS / "rss_EMPTY.xml").read_bytes(), "the feed has no items"),
        (b"", "empty document"),
        (b'{"news": []}', "no items|not an RSS"),
        (b"\xff\xfe garbage", "not UTF-8"),
    ],
    ids=["empty-channel", "empty-body", "json", "binary"],
)
def test_an_empty_or_foreign_document_is_a_failure_not_no_news(raw, message):
    with pytest.raises(MalformedData, match=message):
        parse_rss_news(raw, ticker="AAPL", today=TODAY)


def test_a_headline_dated_in_the_future_is_dropped():
    raw = (RSS / "rss_CLX.xml").read_bytes().replace(b"Fri, 24 Jul 2026", b"Fri, 24 Jul 2099")
    with pytest.raises(MalformedData, match="every one of the 1 headlines"):
        parse_rss_news(raw, ticker="CLX", today=TODAY)
