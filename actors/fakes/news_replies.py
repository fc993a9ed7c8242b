"""Plausible, deterministic replies to the news scorer's two schemas (fake Ollama and Anthropic).

The sentiment comes from the headline's words (counted in the quoted article only, so an
instruction hidden in the article changes nothing but the words it contains); the categories
from keywords, limited to the list the prompt offers; the tickers from the prompt's list.
Pure: no I/O, no randomness.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["NEWS_SCHEMAS", "news_reply"]

#: The ``title`` of the reply schemas answered here (``actors.llm.structured.json_schema``).
NEWS_SCHEMAS = ("NewsCategories", "NewsScoreReply")

_POSITIVE = {
    "beat", "beats", "surge", "surges", "record", "rally", "rallies", "upgrade", "upgrades", "gain", "gains",
    "higher", "jump", "jumps", "soar", "soars", "growth", "strong", "raise", "raises", "win", "wins", "approval",
    "rise", "rises", "boost", "boosts", "investment", "expands", "tops", "bullish", "fast",
}
_NEGATIVE = {
    "miss", "misses", "fall", "falls", "drop", "drops", "plunge", "plunges", "downgrade", "downgrades", "lawsuit",
    "probe", "lower", "cut", "cuts", "weak", "recall", "slump", "slumps", "lose", "loses", "warning", "warns",
    "decline", "declines", "bearish", "fine", "fined", "halt", "mixed",
}
_CATEGORY_WORDS = {
    "earnings": {"earnings", "eps", "quarter", "quarterly", "results", "revenue", "profit"},
    "guidance": {"guidance", "outlook", "forecast"},
    "analyst-rating": {"analyst", "upgrade", "downgrade", "upgrades", "downgrades", "target", "rating"},
    "m&a": {"acquire", "acquires", "merger", "deal", "buyout", "takeover"},
    "regulatory": {"sec", "ftc", "regulator", "regulators", "antitrust", "approval", "trump", "tariff", "tariffs"},
    "legal": {"lawsuit", "court", "sue", "sues", "settlement", "probe"},
    "product": {"launch", "launches", "iphone", "product", "products", "device", "chip"},
    "macro": {"fed", "inflation", "rates", "economy", "futures", "equities", "funds", "s&p"},
    "management": {"ceo", "cfo", "executive", "resigns", "appoints"},
}
_ARTICLE = re.compile(r"<<<ARTICLE\n(.*?)\nARTICLE>>>", re.DOTALL)
_TICKERS = re.compile(r"found for the tickers: ([^.\n]+)\.")
_CHOICES = re.compile(r"from exactly this list: ([^.\n]+)\.")
_CATEGORIES = re.compile(r"Its categories: ([^.\n]+)\.")


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z&]+", text.lower())


def _article(prompt: str) -> str:
    found = _ARTICLE.search(prompt)
    return found.group(1) if found else ""


def news_reply(schema: Mapping[str, Any], prompt: str) -> dict[str, Any] | None:
    """The reply document for a news schema, or None when ``schema`` is not one of :data:`NEWS_SCHEMAS`.

    Like a model that follows its instructions, it reads the instructions after the quoted
    article, never inside it.
    """
    title = schema.get("title")
    if title not in NEWS_SCHEMAS:
        return None
    words = _words(_article(prompt).split("\n", 1)[-1])  # the text after the source/published line
    prompt = prompt.rsplit("ARTICLE>>>", 1)[-1]  # the instructions after the quote
    if title == "NewsCategories":
        offered = [c.strip() for c in (_CHOICES.search(prompt).group(1).split(",") if _CHOICES.search(prompt) else [])]
        chosen = [c for c, keys in _CATEGORY_WORDS.items() if c in offered and keys.intersection(words)]
        return {"categories": chosen[:4] or [offered[-1] if offered else "other"]}
    positive = sum(w in _POSITIVE for w in words)
    negative = sum(w in _NEGATIVE for w in words)
    total = positive + negative
    sentiment = round((positive - negative) / total, 2) if total else 0.0
    impact = float(min(9, 2 + 2 * total))
    tickers = [t.strip() for t in _TICKERS.search(prompt).group(1).split(",")] if _TICKERS.search(prompt) else []
    categories = _CATEGORIES.search(prompt)
    event = categories.group(1).split(",")[0].strip() if categories else "other"
    return {
        "tickers": [{"ticker": t, "sentiment": sentiment, "impact": impact} for t in tickers if t],
        "event_type": event,
        "reasoning": f"Synthetic: {positive} positive and {negative} negative words in the headline.",
    }
