"""The scan's news step, before ranking: collect the headlines, score them (``--score-news``),
and turn the scored news of the scanned tickers into catalyst effects.

Called by the coordinator in the catalyst phase (:func:`news_effects_for_scan`) and after the
checkpoint (:func:`save_run_news`). A store or scorer failure here never fails the scan: the
ranking goes on without news, and the phase detail says what was missing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence

import attrs

from actors.config import Settings
from actors.core.news.catalyst import NewsEffect, NewsRule, news_effects, reference_time
from actors.core.ranking import Scored
from actors.errors import StoreError
from actors.runtime import ActorDied, RequestTimeout
from actors.news.client import NewsClient
from actors.store.client import StoreClient
from messages.articles import AddArticles, LoadNewsScores, RunNewsItem, SaveRunNews, ScoredNews

__all__ = ["NewsStep", "news_candidates", "news_effects_for_scan", "news_rule", "save_run_news"]

logger = logging.getLogger(__name__)


def news_rule(settings: Settings) -> NewsRule:
    """The catalyst rule's settings."""
    return NewsRule(
        lookback_days=settings.news_lookback_days,
        half_life_days=settings.news_half_life_days,
        max_adjustment=settings.news_max_adjustment,
    )


@attrs.frozen(kw_only=True)
class NewsStep:
    """The news effects per ticker and a one-line account for the phase row."""

    effects: Mapping[str, NewsEffect]
    detail: str


async def news_effects_for_scan(
    scored: Sequence[Scored],
    *,
    settings: Settings,
    store: StoreClient,
    news: NewsClient | None,
    score_news: bool,
    unavailable: str | None = None,
) -> NewsStep:
    """Collect, optionally score (top tickers first), load and weigh the news of ``scored``.

    Only tickers news could bring into (or keep in) the top ``top_n_options`` take part: those
    whose technical score is within twice ``news_max_adjustment`` of the N-th best (see
    :func:`news_candidates`), so a scan of 20,000 tickers does not queue 50,000 headlines.
    """
    parts: list[str] = []
    scored = news_candidates(scored, top_n=settings.top_n_options, max_adjustment=settings.news_max_adjustment)
    headlines = [h for item in scored for h in item.data.headlines]
    if headlines:
        try:
            added = await store.send(AddArticles(tuple(headlines)))
            parts.append(f"{len(headlines)} headlines, {added.rows} new articles")
        except StoreError as exc:
            logger.error("news: could not store %d headlines: %s", len(headlines), exc)
            parts.append(f"headlines not stored: {exc}")
    if score_news:
        if news is None:
            parts.append(f"news not scored: {unavailable or 'no news scorer'}")
        else:
            by_score = sorted(scored, key=lambda s: (-s.scored.score, s.scored.ticker))
            first = tuple(s.scored.ticker for s in by_score[: settings.top_n_options])
            try:
                drained = await news.drain(first, timeout=settings.ai_debate_phase_timeout, wait_for_breaker=False)
            except (ActorDied, RequestTimeout) as exc:
                logger.error("news: the scorer did not drain the queue: %s", exc)
                parts.append(f"news not scored: {exc}")
            else:
                parts.append(
                    f"{drained.scored} articles scored, {drained.failed} failed attempts"
                    + (" (stopped at the time limit)" if drained.timed_out else "")
                    + (" (stopped: the circuit breaker is open, the rest waits)" if drained.breaker_open else "")
                )
    rule = news_rule(settings)
    effects: dict[str, NewsEffect] = {}
    if scored:
        times = [reference_time(s.scored.as_of) for s in scored]
        try:
            items: tuple[ScoredNews, ...] = await store.send(LoadNewsScores(
                tickers=tuple(s.scored.ticker for s in scored),
                since=min(times) - dt.timedelta(days=rule.lookback_days), until=max(times),
            ))
        except StoreError as exc:
            logger.error("news: could not read scored news: %s", exc)
            parts.append(f"scored news not read: {exc}")
            items = ()
        grouped: dict[str, list[ScoredNews]] = {}
        for item in items:
            grouped.setdefault(item.ticker, []).append(item)
        effects = news_effects((s.scored for s in scored), grouped, rule=rule)
    moved = sum(1 for e in effects.values() if e.points)
    parts.append(f"{moved} tickers moved by news")
    return NewsStep(effects=effects, detail="; ".join(parts))


def news_candidates(scored: Sequence[Scored], *, top_n: int, max_adjustment: float) -> list[Scored]:
    """The tickers whose rank news could matter for: all when there are at most ``top_n``, else those
    with a technical score >= the N-th best - 2 x ``max_adjustment`` (the most news can add to
    one and take from the other)."""
    if len(scored) <= max(1, top_n):
        return list(scored)
    cutoff = sorted((s.scored.score for s in scored), reverse=True)[max(1, top_n) - 1] - 2 * max_adjustment
    return [s for s in scored if s.scored.score >= cutoff]


async def save_run_news(store: StoreClient, run_id: str, effects: Mapping[str, NewsEffect]) -> str | None:
    """Record which articles moved which ticker in ``run_id``; the reason when it could not be saved."""
    items = tuple(
        RunNewsItem(ticker=ticker, article_id=c.item.article_id, weight=c.weight, points=c.points)
        for ticker, effect in effects.items() for c in effect.contributions
    )
    if not items:
        return None
    try:
        await store.send(SaveRunNews(run_id=run_id, items=items))
    except StoreError as exc:
        logger.error("run %s: the news behind %d scores not saved: %s", run_id, len(effects), exc)
        return f"news of {len(effects)} tickers not saved: {exc}"
    return None
