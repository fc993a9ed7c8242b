"""Fixtures of the dashboard tests: a database holding one stored run, and an ASGI client on the app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from actors.web.app import create_app
from actors.web.sse import EventHub
from actors.web.store_view import RunStore
from tests.web.stored import write_run


@pytest.fixture
async def stored_db(tmp_path: Path) -> Path:
    db = tmp_path / "runs.db"
    await write_run(db)
    return db


def asgi_client(app, *, host: str = "127.0.0.1:8787") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{host}")


@pytest.fixture
async def client(stored_db: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(create_app(RunStore(stored_db), hub=EventHub())) as c:
        yield c
