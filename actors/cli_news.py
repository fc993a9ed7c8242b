"""``bin/scan news list`` and ``bin/scan news retry [ID | --failed]``: the article queue.

``list`` reads (read-only connection): counts per status, the cool-down in force, and the
newest articles (``--status``, ``--limit``). ``retry`` writes through the persister (the only
writer) and puts failed articles, or article ``ID``, back to ``pending`` with no attempts.
Exit codes: 0 done, 1 store error, 2 usage error or unknown article.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import trio

from actors.config import Settings, load_settings
from actors.db_path import db_path_for
from actors.errors import StoreError, UsageError
from actors.runtime import ChildSpec, open_supervisor
from actors.store.client import StoreClient
from actors.store.persister import run_persister, store_options
from actors.store.reader import open_reader
from messages.articles import ArticleStatus, RetryArticles
from messages.storage import Committed

__all__ = ["main_news"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        raise UsageError(f"{self.prog}: {message}")


def _parser() -> _Parser:
    p = _Parser(prog="bin/scan news", description="The news article queue.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    listing = sub.add_parser("list", help="counts per status and the newest articles")
    listing.add_argument("--status", choices=[s.value for s in ArticleStatus], help="only articles in this status")
    listing.add_argument("--limit", type=int, default=20, help="articles to list (default 20)")
    retry = sub.add_parser("retry", help="re-queue failed articles (--failed) or one article (ID)")
    retry.add_argument("article_id", nargs="?", type=int, help="the article's id")
    retry.add_argument("--failed", action="store_true", help="every failed article")
    for p_ in (listing, retry):
        p_.add_argument("--db", type=Path, help="SQLite database path (default: the state directory)")
        p_.add_argument("--config", type=Path, help="TOML config file")
        p_.add_argument("--json", action="store_true", help="print JSON on stdout")
        p_.add_argument("--debug", action="store_true", help="on an error, print the traceback too")
    return p


def main_news(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    logging.getLogger("actors.store").setLevel(logging.ERROR)  # a refused command is printed once, below
    settings = load_settings(config_file=args.config, flags={"db_path": str(args.db)} if args.db else None)
    db = db_path_for(settings)
    if args.command == "list":
        if args.limit < 1:
            raise UsageError(f"bin/scan news list: --limit must be >= 1, got {args.limit}")
        return _list(db, args)
    if (args.article_id is None) == (not args.failed):
        raise UsageError("bin/scan news retry: give an article ID or --failed (one of them)")
    try:
        committed = trio.run(_retry, settings, db, RetryArticles(article_id=args.article_id))
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if "unknown article id" in str(exc) else 1
    what = f"article {args.article_id}" if args.article_id is not None else "failed articles"
    if args.json:
        print(json.dumps({"requeued": committed.rows}))
    else:
        print(f"{what}: {committed.rows} back to pending")
    return 0


async def _retry(settings: Settings, db: Path, command: RetryArticles) -> Committed:
    """Send ``command`` through a persister of our own (the only writer), stopped on return."""
    async with open_supervisor(name="news-retry") as sup:
        persister = functools.partial(run_persister, **store_options(settings, db))
        address = await sup.start(ChildSpec("persister", persister, restart_before_ready=False))
        return await StoreClient(address).send(command)


def _list(db: Path, args: argparse.Namespace) -> int:
    status = None if args.status is None else ArticleStatus(args.status)
    try:
        with open_reader(db) as reader:
            counts = reader.article_counts()
            articles = reader.list_articles(status=status, limit=args.limit)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({
            "counts": {"pending": counts.pending, "scoring": counts.scoring, "scored": counts.scored,
                       "failed": counts.failed},
            "cooldown_until": None if counts.cooldown_until is None else counts.cooldown_until.isoformat(),
            "cooldown_reason": counts.cooldown_reason,
            "articles": [
                {"id": a.id, "title": a.title, "source": a.source, "url": a.url, "tickers": list(a.tickers),
                 "published_at": a.published_at.isoformat(), "status": a.status.value, "attempts": a.attempts,
                 "last_error": a.last_error}
                for a in articles
            ],
        }))
        return 0
    print(f"articles in {db}: {counts.pending} pending, {counts.scoring} scoring, {counts.scored} scored, "
          f"{counts.failed} failed")
    if counts.cooldown_until is not None:
        print(f"cooling down until {counts.cooldown_until:%Y-%m-%d %H:%M:%S} UTC: {counts.cooldown_reason}")
    for a in articles:
        error = f"  ({a.last_error})" if a.last_error and a.status is not ArticleStatus.SCORED else ""
        print(f"{a.id:>6}  {a.status.value:<8} {a.attempts}  {','.join(a.tickers):<12} {a.title[:60]}{error}")
    return 0
