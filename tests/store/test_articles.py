"""The article queue in SQLite: dedup, claims and leases, attempts, failed and re-queue, cool-downs, run news."""

from __future__ import annotations

import datetime as dt

import apsw
import pytest

from actors.errors import StoreError
from actors.store import reader, recovery, schema, writes
from messages.articles import (
    AddArticles,
    ArticleStatus,
    ClaimArticle,
    FinishArticle,
    LoadNewsScores,
    NewsCooldown,
    ReleaseArticle,
    RetryArticles,
    RunNewsItem,
    SaveRunNews,
    SetNewsCooldown,
    TickerSentiment,
)
from messages.market import Headline
from messages.storage import Committed

from .conftest import T0, begin

LEASE = 300.0


@pytest.fixture
def conn(tmp_path):
    c, _ = schema.open_writer(tmp_path / "a.db")
    yield c
    c.close()


def h(ticker: str, title: str, minute: int = 0, url: str | None = None) -> Headline:
    return Headline(ticker=ticker, title=title, published_at=T0 + dt.timedelta(minutes=minute), publisher="Wire", url=url)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def claim(conn, when: float = 0.0, *, first=(), max_attempts: int = 3):
    return writes.execute(conn, ClaimArticle(now=at(when), lease_seconds=LEASE, max_attempts=max_attempts,
                                             first_tickers=first))


def fail(conn, article, when: float = 1.0, *, why: str = "score: timeout_first_chunk", max_attempts: int = 3):
    return writes.execute(conn, FinishArticle(article_id=article.id, lease_expires_at=article.lease_expires_at,
                                              now=at(when), max_attempts=max_attempts, failure=why))


def score(conn, article, when: float = 1.0, *, sentiment: float = 0.5, impact: float = 6.0):
    return writes.execute(conn, FinishArticle(
        article_id=article.id, lease_expires_at=article.lease_expires_at, now=at(when), max_attempts=3,
        scores=tuple(TickerSentiment(ticker=t, sentiment=sentiment, impact=impact) for t in article.tickers),
        categories=("earnings",), event_type="earnings beat", reasoning="It beat.", prompt_hash="abc",
        raw_reply='{"score": "..."}',
    ))


def status(conn, article_id: int) -> tuple:
    return conn.execute("SELECT status, attempts, last_error FROM articles WHERE id = ?", (article_id,)).fetchall()[0]


class TestDedup:
    def test_same_url_or_same_normalized_title_is_one_article_linked_to_each_ticker(self, conn):
        """A syndicated story (same title, other URL) and a re-titled URL are the same article; tickers are linked."""
        added = writes.execute(conn, AddArticles((
            h("AAPL", "Apple beats estimates!", 0, "https://a/1"),
            h("MSFT", "apple  BEATS estimates", 1, "https://b/9"),     # same title, normalized
            h("GOOG", "A new title for the same link", 2, "https://a/1#top"),  # same URL (fragment dropped)
            h("AAPL", "Something else", 3),
        )))
        assert added == Committed("AddArticles", None, 2)
        rows = conn.execute("SELECT a.title, group_concat(t.ticker) FROM articles a JOIN article_tickers t"
                            " ON t.article_id = a.id GROUP BY a.id ORDER BY a.id").fetchall()
        assert [(title, sorted(tickers.split(","))) for title, tickers in rows] == [
            ("Apple beats estimates!", ["AAPL", "GOOG", "MSFT"]), ("Something else", ["AAPL"])]

    def test_adding_again_adds_nothing(self, conn):
        batch = AddArticles((h("AAPL", "x", 0, "https://x"), h("AAPL", "y", 1)))
        assert writes.execute(conn, batch).rows == 2
        assert writes.execute(conn, batch).rows == 0


class TestQueue:
    def test_claims_go_newest_first_with_the_top_tickers_first(self, conn):
        """Articles of first_tickers come before newer ones of other tickers; then newest first."""
        writes.execute(conn, AddArticles((h("AAPL", "old aapl", 0), h("MSFT", "new msft", 9), h("AAPL", "new aapl", 5))))
        order = [claim(conn, first=("AAPL",)).title for _ in range(3)]
        assert order == ["new aapl", "old aapl", "new msft"]
        assert claim(conn) is None

    def test_claim_sets_scoring_a_lease_and_counts_the_attempt(self, conn):
        writes.execute(conn, AddArticles((h("AAPL", "x"),)))
        article = claim(conn, 10)
        assert (article.status, article.attempts, article.lease_expires_at) == (ArticleStatus.SCORING, 1, at(10 + LEASE))

    def test_scored_stores_scores_prompt_hash_and_raw_reply(self, conn):
        writes.execute(conn, AddArticles((h("AAPL", "x"),)))
        score(conn, claim(conn))
        row = conn.execute("SELECT status, event_type, reasoning, prompt_hash, raw_reply, categories_json FROM articles"
                           ).fetchall()[0]
        assert row == ("scored", "earnings beat", "It beat.", "abc", '{"score": "..."}', '["earnings"]')
        assert conn.execute("SELECT ticker, sentiment, impact FROM article_scores").fetchall() == [("AAPL", 0.5, 6.0)]

    def test_failed_attempts_requeue_until_max_then_failed_with_the_last_error(self, conn):
        """pending → scoring → pending (x2) → failed after the third attempt, with the last error."""
        writes.execute(conn, AddArticles((h("AAPL", "x"),)))
        for attempt in (1, 2, 3):
            article = claim(conn, attempt * 10)
            assert article.attempts == attempt
            fail(conn, article, attempt * 10 + 1, why=f"score: invalid_output #{attempt}")
        assert status(conn, article.id) == ("failed", 3, "score: invalid_output #3")
        assert claim(conn, 100) is None

    def test_an_expired_lease_returns_the_article_and_counts_the_attempt(self, conn):
        """A scorer that dies mid-article: after the lease the article is pending again with attempts 1; the third
        expiry fails it (a poison article is not retried for ever)."""
        writes.execute(conn, AddArticles((h("AAPL", "poison"),)))
        first = claim(conn, 0)
        assert claim(conn, LEASE - 1) is None  # still held
        second = claim(conn, LEASE)            # expired: back to pending, claimed again
        assert (second.id, second.attempts) == (first.id, 2)
        assert "lease expired after attempt 1" in second.last_error
        claim(conn, 2 * LEASE)                 # third claim
        assert claim(conn, 3 * LEASE) is None  # third expiry: failed
        assert status(conn, first.id)[:2] == ("failed", 3)

    def test_a_result_under_a_lost_lease_is_refused(self, conn):
        """After the lease expired and another claim took it, the old holder's result is not saved."""
        writes.execute(conn, AddArticles((h("AAPL", "x"),)))
        old = claim(conn, 0)
        claim(conn, LEASE + 1)
        with pytest.raises(StoreError, match="no longer held under this lease"):
            score(conn, old, LEASE + 2)
        assert status(conn, old.id)[:2] == ("scoring", 2)

    def test_release_gives_it_back_without_counting(self, conn):
        writes.execute(conn, AddArticles((h("AAPL", "x"),)))
        article = claim(conn)
        writes.execute(conn, ReleaseArticle(article_id=article.id, lease_expires_at=article.lease_expires_at))
        assert status(conn, article.id)[:2] == ("pending", 0)

    def test_retry_requeues_failed_or_one_article_with_no_attempts(self, conn):
        writes.execute(conn, AddArticles((h("AAPL", "a"), h("AAPL", "b", 1))))
        for _ in range(2):
            a = claim(conn, max_attempts=1)
            fail(conn, a, max_attempts=1)
        assert [s[0] for s in conn.execute("SELECT status FROM articles")] == ["failed", "failed"]
        assert writes.execute(conn, RetryArticles(article_id=1)).rows == 1
        assert status(conn, 1)[:2] == ("pending", 0)
        assert writes.execute(conn, RetryArticles()).rows == 1
        assert status(conn, 2)[:2] == ("pending", 0)
        with pytest.raises(StoreError, match="unknown article id 7"):
            writes.execute(conn, RetryArticles(article_id=7))

    def test_recovery_requeues_only_expired_leases(self, conn):
        """Start-up recovery: an expired lease → pending (attempt kept); a live lease (another process) untouched."""
        writes.execute(conn, AddArticles((h("AAPL", "old"), h("AAPL", "live", 1))))
        now = dt.datetime.now(dt.timezone.utc)
        live = writes.execute(conn, ClaimArticle(now=now, lease_seconds=LEASE, max_attempts=3))
        old = writes.execute(conn, ClaimArticle(now=T0, lease_seconds=LEASE, max_attempts=3))
        assert recovery.recover(conn, owner_alive=lambda o: True) == ((), 1)
        assert status(conn, old.id)[:2] == ("pending", 1) and status(conn, live.id)[:2] == ("scoring", 1)


class TestCooldownAndRunNews:
    def test_a_cooldown_survives_reopening_the_database(self, tmp_path):
        """The cool-down is a row: a new connection (a restarted process) sees it until it ends."""
        path = tmp_path / "c.db"
        c, _ = schema.open_writer(path)
        writes.execute(c, SetNewsCooldown(until=at(60), reason="HTTP 429, Retry-After 60 s"))
        c.close()
        c, _ = schema.open_writer(path)
        assert writes.execute(c, NewsCooldown(now=at(10))) == (at(60), "HTTP 429, Retry-After 60 s")
        assert writes.execute(c, NewsCooldown(now=at(60))) is None
        c.close()

    def test_scores_in_the_window_and_the_run_news_read_back(self, conn, tmp_path):
        writes.execute(conn, begin())
        writes.execute(conn, AddArticles((h("AAPL", "in", 0), h("AAPL", "too old", -60 * 24 * 30))))
        for _ in range(2):
            score(conn, claim(conn))
        got = writes.execute(conn, LoadNewsScores(tickers=("AAPL",), since=at(-86400), until=at(60)))
        assert [g.title for g in got] == ["in"]
        writes.execute(conn, SaveRunNews(run_id="run-1", items=(
            RunNewsItem(ticker="AAPL", article_id=got[0].article_id, weight=0.6, points=3.0),)))
        with reader.open_reader(tmp_path / "a.db") as r:
            news = r.run_news("run-1")
        assert news["AAPL"][0] | {"published_at": None} == {
            "id": got[0].article_id, "title": "in", "source": "Wire", "url": None, "published_at": None,
            "sentiment": 0.5, "impact": 6.0, "event_type": "earnings beat", "reasoning": "It beat.",
            "weight": 0.6, "points": 3.0}


def test_migration_carries_the_sketch_articles_over_as_pending(tmp_path):
    """A version-3 database with rows in the old sketch table opens, migrates, and keeps them (pending, linked)."""
    path = tmp_path / "old.db"
    c = apsw.Connection(str(path))
    c.execute("BEGIN")
    for i, sql in enumerate(schema.MIGRATIONS[: schema.NEWS_SCHEMA_VERSION - 1]):
        c.execute(sql)
    c.execute(f"PRAGMA user_version = {schema.NEWS_SCHEMA_VERSION - 1}")
    c.execute("INSERT INTO articles (ticker, title, url, publisher, published_at, status, updated_at)"
              " VALUES ('AAPL', 'Old one', 'https://o/1', 'Wire', ?, 'scored', ?)", (T0.isoformat(), T0.isoformat()))
    c.execute("COMMIT")
    c.close()
    c, before = schema.open_writer(path)
    assert before == schema.NEWS_SCHEMA_VERSION - 1
    rows = c.execute("SELECT a.title, a.status, t.ticker FROM articles a JOIN article_tickers t ON t.article_id = a.id"
                     ).fetchall()
    assert rows == [("Old one", "pending", "AAPL")]
    c.close()
