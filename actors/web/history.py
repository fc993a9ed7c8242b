"""Price history for the ticker page's chart, regenerated from a local data source, never invented.

A run stores each ticker's last close, not its bars. For the two local sources the bars can be
had again without the network: ``sim`` is deterministic in its seed and size (both recorded in
the run's settings), and ``snapshot`` replays the packaged recordings. :class:`LocalHistory`
rebuilds that provider and reads the ticker's history, and returns it only when it is the
history the run scored: its last bar's date and close must equal the stored ``as_of`` and
``last_close``. Otherwise (another source, live data, a mismatch) it returns nothing and the
chart shows the last close alone, saying so.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from actors.errors import OptionAlphaError
from actors.providers.base import make_provider

__all__ = ["HistoryProvider", "LOCAL_SOURCES", "LocalHistory"]

logger = logging.getLogger(__name__)

#: (run settings, result row) -> closes as (ISO date, close), oldest first; empty when unknown.
HistoryProvider = Callable[[Mapping[str, Any], Mapping[str, Any]], Awaitable[Sequence[tuple[str, float]]]]

LOCAL_SOURCES = ("sim", "snapshot")


class LocalHistory:
    """Regenerates ``sim`` / ``snapshot`` histories (the last ``days`` closes), checked against the run."""

    def __init__(self, *, days: int = 120) -> None:
        self.days = days

    async def __call__(self, settings: Mapping[str, Any], row: Mapping[str, Any]) -> Sequence[tuple[str, float]]:
        source = settings.get("source")
        if source not in LOCAL_SOURCES:
            return ()
        options = {"size": settings.get("universe_size"), "seed": settings.get("seed")} if source == "sim" else {}
        try:
            provider = make_provider(source, **options)
        except OptionAlphaError as exc:
            logger.debug("no history for %s: %s", row.get("ticker"), exc)
            return ()
        try:
            history = await provider.history(row["ticker"])
        except OptionAlphaError as exc:
            logger.debug("no history for %s: %s", row.get("ticker"), exc)
            return ()
        finally:
            await provider.aclose()
        bars = history.bars
        if not bars or bars[-1].date.isoformat() != row.get("as_of") or not math.isclose(
                bars[-1].close, row.get("last_close") or 0.0, rel_tol=1e-9):
            logger.debug("history of %s does not match the run's last close; not drawn", row.get("ticker"))
            return ()
        return [(bar.date.isoformat(), bar.close) for bar in bars[-self.days:]]


def run_settings(settings_json: str) -> dict[str, Any]:
    """The settings a run recorded (empty when unreadable)."""
    try:
        value = json.loads(settings_json)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
