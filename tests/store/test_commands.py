"""Storage commands check their fields at construction, naming the field."""

from __future__ import annotations

import pytest

from messages.scan import RunStatus
from messages.storage import AddArticles, BeginRun, FinishRun
from .conftest import T0


def test_run_id_must_be_a_non_empty_string():
    """An empty run id is refused by name."""
    with pytest.raises(ValueError, match="run_id must be a non-empty string"):
        BeginRun(" ", T0, "sim", 1)


def test_settings_snapshot_must_be_json():
    """settings_json that is not JSON is refused when the command is built."""
    with pytest.raises(ValueError, match="settings_json is not valid JSON"):
        BeginRun("r", T0, "sim", 1, settings_json="{nope")


def test_counts_cannot_be_negative():
    """A negative count names its field."""
    with pytest.raises(ValueError, match="tickers_requested"):
        BeginRun("r", T0, "sim", -1)


def test_finish_run_cannot_finish_as_running():
    """RUNNING is not a final status."""
    with pytest.raises(ValueError, match="status must be one of PARTIAL, COMPLETED, FAILED, INTERRUPTED"):
        FinishRun("r", RunStatus.RUNNING, None, 0, 0, 1.0, T0)


def test_add_articles_takes_headlines_only():
    """A non-Headline item is refused with its index."""
    with pytest.raises(ValueError, match=r"headlines\[0\] must be a Headline, got dict"):
        AddArticles([{"title": "x"}])
