"""Fixtures for provider tests: the recorded package data, read as bytes."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest


def recorded(path: str) -> bytes:
    """A recorded response shipped in ``actors/providers/snapshot_data``."""
    return (resources.files("actors.providers") / "snapshot_data" / path).read_bytes()


def recorded_json(path: str) -> Any:
    return json.loads(recorded(path))


@pytest.fixture
def read_recorded():
    return recorded


@pytest.fixture
def read_recorded_json():
    return recorded_json
