"""The article queue in SQLite: what each news command does, in the persister's transaction.

Synchronous (apsw), called by :func:`actors.store.writes.execute` (which opens and commits the
transaction) in the persister's worker thread. Times are wall-clock UTC passed in the command
(the scorer's clock), so leases and cool-downs mean the same thing after a restart.

Dedup: an article is one row per URL and per normalized-title hash
(:mod:`actors.core.news.dedup`); a headline matching either adds only its ticker link.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import apsw

from actors.core.news.dedup import normalize_url, title_hash
from actors.errors import StoreError
from actors.store.codec import now, parse_time, time_text
from messages.articles import (
    AddArticles,
    Article,
    ArticleStatus,
    ClaimArticle,
    FinishArticle,
    LoadNewsScores,
    NewsCooldown,
    NewsQueueCounts,
    QueueCounts,
    ReleaseArticle,
    RetryArticles,
    SaveRunNews,
    ScoredNews,
    SetNewsCooldown,
)
from messages.storage import Committed

__all__ = ["ARTICLE_HANDLERS", "expire_leases", "load_article"]

_COOLDOWN = "cooldown_until"
_ARTICLE_COLUMNS = (
    "id, title, url, source, published_at, summary, status, attempts, last_error, lease_expires_at"
)


def _tickers(conn: apsw.Connection, article_id: int) -> tuple[str, ...]:
    rows = conn.execute(
        "SELECT ticker FROM article_tickers WHERE article_id = ? ORDER BY ticker", (article_id,)
    ).fetchall()
    return tuple(r[0] for r in rows)


def load_article(conn: apsw.Connection, article_id: int) -> Article | None:
    """One article with its tickers, or None."""
    rows = conn.execute(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = ?", (article_id,)).fetchall()
    if not rows:
        return None
    aid, title, url, source, published, summary, status, attempts, error, lease = rows[0]
    return Article(
        id=aid, title=title, url=url, source=source, published_at=parse_time(published), summary=summary,
        tickers=_tickers(conn, aid), status=ArticleStatus(status), attempts=attempts, last_error=error,
        lease_expires_at=parse_time(lease),
    )


def _add(conn: apsw.Connection, cmd: AddArticles) -> Committed:
    stamp = time_text(cmd.added_at or now())
    rows = [
        (normalize_url(h.url), title_hash(h.title), h.title, h.publisher, time_text(h.published_at), h.summary, h.ticker)
        for h in cmd.headlines
    ]
    before = conn.total_changes()
    # A headline whose URL or title hash is already stored is the same article: the UNIQUE
    # constraints ignore it (executemany: one C loop, a scan of 20,000 tickers has ~50,000).
    conn.executemany(
        "INSERT OR IGNORE INTO articles (url, title_hash, title, source, published_at, summary, status,"
        " added_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
        [(url, key, title, source, published, summary, stamp, stamp)
         for url, key, title, source, published, summary, _ in rows],
    )
    added = conn.total_changes() - before
    conn.executemany(
        "INSERT OR IGNORE INTO article_tickers (article_id, ticker) SELECT id, ? FROM articles WHERE title_hash = ?",
        [(ticker, key) for _, key, *_rest, ticker in rows],
    )
    conn.executemany(  # the same story under another title: linked through its URL
        "INSERT OR IGNORE INTO article_tickers (article_id, ticker) SELECT id, ? FROM articles WHERE url = ?",
        [(ticker, url) for url, *_rest, ticker in rows if url is not None],
    )
    return Committed("AddArticles", None, added)


def expire_leases(conn: apsw.Connection, at: dt.datetime, max_attempts: int) -> int:
    """Leases expired at ``at`` end: back to pending with the attempt counted, or failed when out
    of attempts (also pending rows already out of attempts, e.g. after a lower setting). Returns
    how many leases expired."""
    stamp = time_text(at)
    conn.execute(
        "UPDATE articles SET status = CASE WHEN attempts >= ? THEN 'failed' ELSE 'pending' END,"
        " last_error = 'lease expired after attempt ' || attempts || ' (the scorer stopped or hung)',"
        " lease_expires_at = NULL, updated_at = ? WHERE status = 'scoring' AND lease_expires_at <= ?",
        (max_attempts, stamp, stamp),
    )
    expired = conn.changes()
    conn.execute(
        "UPDATE articles SET status = 'failed', updated_at = ? WHERE status = 'pending' AND attempts >= ?",
        (stamp, max_attempts),
    )
    return expired


def _claim(conn: apsw.Connection, cmd: ClaimArticle) -> Article | None:
    expire_leases(conn, cmd.now, cmd.max_attempts)
    first = list(dict.fromkeys(cmd.first_tickers))
    marks = ",".join("?" * len(first))
    priority = (
        f"EXISTS (SELECT 1 FROM article_tickers t WHERE t.article_id = a.id AND t.ticker IN ({marks}))"
        if first else "NULL"
    )
    rows = conn.execute(
        f"SELECT a.id FROM articles a WHERE a.status = 'pending' AND a.attempts < ?"
        f" ORDER BY {priority} DESC, a.published_at DESC, a.id ASC LIMIT 1",
        (cmd.max_attempts, *first),
    ).fetchall()
    if not rows:
        return None
    article_id = rows[0][0]
    lease = cmd.now + dt.timedelta(seconds=cmd.lease_seconds)
    conn.execute(
        "UPDATE articles SET status = 'scoring', attempts = attempts + 1, lease_expires_at = ?, updated_at = ?"
        " WHERE id = ?",
        (time_text(lease), time_text(cmd.now), article_id),
    )
    return load_article(conn, article_id)


def _held(conn: apsw.Connection, article_id: int, lease: dt.datetime) -> tuple[int]:
    rows = conn.execute(
        "SELECT status, lease_expires_at, attempts FROM articles WHERE id = ?", (article_id,)
    ).fetchall()
    if not rows:
        raise StoreError(f"unknown article id {article_id!r}")
    status, held, attempts = rows[0]
    if status != ArticleStatus.SCORING.value or held != time_text(lease):
        raise StoreError(
            f"article {article_id} is no longer held under this lease (status {status}): it expired and "
            "went back to the queue; the result is not saved"
        )
    return (attempts,)


def _finish(conn: apsw.Connection, cmd: FinishArticle) -> Committed:
    (attempts,) = _held(conn, cmd.article_id, cmd.lease_expires_at)
    stamp = time_text(cmd.now)
    if cmd.failure is not None:
        status = "failed" if attempts >= cmd.max_attempts else "pending"
        conn.execute(
            "UPDATE articles SET status = ?, last_error = ?, lease_expires_at = NULL, raw_reply = ?,"
            " prompt_hash = ?, updated_at = ? WHERE id = ?",
            (status, cmd.failure, cmd.raw_reply, cmd.prompt_hash, stamp, cmd.article_id),
        )
        return Committed("FinishArticle", None, 1)
    conn.execute("DELETE FROM article_scores WHERE article_id = ?", (cmd.article_id,))
    for s in cmd.scores:
        conn.execute(
            "INSERT INTO article_scores (article_id, ticker, sentiment, impact) VALUES (?, ?, ?, ?)",
            (cmd.article_id, s.ticker, float(s.sentiment), float(s.impact)),
        )
    conn.execute(
        "UPDATE articles SET status = 'scored', last_error = NULL, lease_expires_at = NULL,"
        " categories_json = ?, event_type = ?, reasoning = ?, prompt_hash = ?, raw_reply = ?,"
        " scored_at = ?, updated_at = ? WHERE id = ?",
        (json.dumps(list(cmd.categories)), cmd.event_type, cmd.reasoning, cmd.prompt_hash, cmd.raw_reply,
         stamp, stamp, cmd.article_id),
    )
    return Committed("FinishArticle", None, 1)


def _release(conn: apsw.Connection, cmd: ReleaseArticle) -> Committed:
    _held(conn, cmd.article_id, cmd.lease_expires_at)
    conn.execute(
        "UPDATE articles SET status = 'pending', attempts = max(0, attempts - 1), lease_expires_at = NULL,"
        " updated_at = ? WHERE id = ?",
        (time_text(now()), cmd.article_id),
    )
    return Committed("ReleaseArticle", None, 1)


def _retry(conn: apsw.Connection, cmd: RetryArticles) -> Committed:
    stamp = time_text(now())
    if cmd.article_id is None:
        conn.execute(
            "UPDATE articles SET status = 'pending', attempts = 0, updated_at = ? WHERE status = 'failed'", (stamp,)
        )
        return Committed("RetryArticles", None, conn.changes())
    rows = conn.execute("SELECT status FROM articles WHERE id = ?", (cmd.article_id,)).fetchall()
    if not rows:
        raise StoreError(f"unknown article id {cmd.article_id!r}")
    if rows[0][0] == ArticleStatus.SCORING.value:
        raise StoreError(f"article {cmd.article_id} is being scored now (under a lease); retry it when it is done")
    conn.execute(
        "UPDATE articles SET status = 'pending', attempts = 0, lease_expires_at = NULL, updated_at = ? WHERE id = ?",
        (stamp, cmd.article_id),
    )
    return Committed("RetryArticles", None, 1)


def _set_cooldown(conn: apsw.Connection, cmd: SetNewsCooldown) -> Committed:
    conn.execute(
        "INSERT INTO news_state (key, value, note) VALUES (?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value), note = excluded.note",
        (_COOLDOWN, time_text(cmd.until), cmd.reason),
    )
    return Committed("SetNewsCooldown", None, 1)


def cooldown(conn: apsw.Connection, at: dt.datetime) -> tuple[dt.datetime, str] | None:
    """The cool-down in force at ``at``: ``(until, reason)``, or None."""
    rows = conn.execute("SELECT value, note FROM news_state WHERE key = ?", (_COOLDOWN,)).fetchall()
    if not rows:
        return None
    until = parse_time(rows[0][0])
    return (until, rows[0][1] or "") if until is not None and until > at else None


def _cooldown(conn: apsw.Connection, cmd: NewsCooldown) -> tuple[dt.datetime, str] | None:
    return cooldown(conn, cmd.now)


def queue_counts(conn: apsw.Connection) -> QueueCounts:
    """Articles per status and the cool-down in force now."""
    counts = dict(conn.execute("SELECT status, count(*) FROM articles GROUP BY status").fetchall())
    held = cooldown(conn, now())
    return QueueCounts(
        pending=counts.get("pending", 0), scoring=counts.get("scoring", 0), scored=counts.get("scored", 0),
        failed=counts.get("failed", 0), cooldown_until=held[0] if held else None,
        cooldown_reason=held[1] if held else None,
    )


def _counts(conn: apsw.Connection, cmd: NewsQueueCounts) -> QueueCounts:
    return queue_counts(conn)


def load_scores(conn: apsw.Connection, tickers: tuple[str, ...], since: dt.datetime, until: dt.datetime) -> tuple[ScoredNews, ...]:
    """Scored (article, ticker) pairs of ``tickers`` published in ``[since, until]``, newest first."""
    out: list[ScoredNews] = []
    for start in range(0, len(tickers), 500):
        chunk = tickers[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            "SELECT a.id, s.ticker, a.title, a.source, a.url, a.published_at, s.sentiment, s.impact,"
            " a.event_type, a.reasoning, a.categories_json FROM article_scores s JOIN articles a ON a.id = s.article_id"
            f" WHERE a.status = 'scored' AND s.ticker IN ({marks}) AND a.published_at >= ? AND a.published_at <= ?"
            " ORDER BY a.published_at DESC, a.id",
            (*chunk, time_text(since), time_text(until)),
        ).fetchall()
        for aid, ticker, title, source, url, published, sentiment, impact, event, reasoning, cats in rows:
            out.append(ScoredNews(
                article_id=aid, ticker=ticker, title=title, source=source, url=url,
                published_at=parse_time(published), sentiment=sentiment, impact=impact,
                event_type=event or "", reasoning=reasoning or "", categories=tuple(json.loads(cats or "[]")),
            ))
    return tuple(out)


def _load_scores(conn: apsw.Connection, cmd: LoadNewsScores) -> tuple[ScoredNews, ...]:
    return load_scores(conn, cmd.tickers, cmd.since, cmd.until)


def _save_run_news(conn: apsw.Connection, cmd: SaveRunNews) -> Committed:
    conn.execute("DELETE FROM run_news WHERE run_id = ?", (cmd.run_id,))
    for item in cmd.items:
        conn.execute(
            "INSERT INTO run_news (run_id, ticker, article_id, weight, points) VALUES (?, ?, ?, ?, ?)",
            (cmd.run_id, item.ticker, item.article_id, float(item.weight), float(item.points)),
        )
    return Committed("SaveRunNews", cmd.run_id, len(cmd.items))


ARTICLE_HANDLERS: dict[type, Callable[[apsw.Connection, Any], Any]] = {
    AddArticles: _add,
    ClaimArticle: _claim,
    FinishArticle: _finish,
    ReleaseArticle: _release,
    RetryArticles: _retry,
    SetNewsCooldown: _set_cooldown,
    NewsCooldown: _cooldown,
    NewsQueueCounts: _counts,
    LoadNewsScores: _load_scores,
    SaveRunNews: _save_run_news,
}
