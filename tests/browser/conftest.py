"""Browser tests: one headless Chromium per session (the system's, driven by Playwright) and one live world.

The world is a thread running trio with the real actor system (``--source sim``, a small
universe, debates through the real Ollama client against :class:`InjectingOllama`) and the
dashboard served from it (``run_dashboard`` with the system's bus and ``SystemActions``). One
scan has completed before the first test. Tests call into the world with :meth:`World.call`.

Screenshots: set ``OPTION_ALPHA_SCREENSHOTS=DIR`` and each page test writes ``DIR/<page>.png``.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import queue
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
from playwright.sync_api import sync_playwright

from actors.config import Settings
from actors.coordinator import ScanOutcome, new_run_id
from actors.debate.wiring import client_settings
from actors.llm.ollama_client import OllamaChat
from actors.system import open_system
from actors.web.actions import SystemActions
from actors.web.serve import run_dashboard
from actors.web.sse import EventHub
from actors.web.status import system_status
from messages.scan import ScanRequested
from tests.browser.llm import MODEL, InjectingOllama

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SETTINGS = Settings(source="sim", universe_size=16, top_n_options=8, top_n_ai_debate=3, ai_debate_concurrency=2,
                    ai_concurrency_min=2, ollama_model=MODEL, fetch_retry_delays=(0.1,), scan_workers=0)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM is None:
        skip = pytest.mark.skip(reason="no chromium installed (apt-get install -y chromium; .ci/run does)")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


class World:
    """The system and its dashboard, running in a trio thread."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.hub = EventHub()
        self.llm = InjectingOllama(latency=0.4)
        self.url = ""
        self.first: ScanOutcome | None = None
        self.actions: SystemActions | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._stop: trio.Event | None = None
        self._ready: queue.Queue[BaseException | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="dashboard-world", daemon=True)

    def start(self) -> None:
        self._thread.start()
        failure = self._ready.get(timeout=120)
        if failure is not None:
            raise failure

    def _run(self) -> None:
        try:
            trio.run(self._main)
        except BaseException as exc:  # reported to start(), or seen at stop()
            self._ready.put(exc)

    async def _main(self) -> None:
        self._token = trio.lowlevel.current_trio_token()
        self._stop = trio.Event()
        factory = lambda observer: OllamaChat(**client_settings(SETTINGS, observer), transport=self.llm.transport())  # noqa: E731
        async with open_system(SETTINGS, db=self.db, client_factory=factory) as system:
            universe = tuple(system.provider.default_universe())
            async with trio.open_nursery() as nursery:
                self.actions = SystemActions(system, nursery=nursery, source="sim", universe=lambda: universe)
                self.url = await nursery.start(functools.partial(
                    run_dashboard, db=self.db, listen="127.0.0.1:0", token=None, bus=system.bus,
                    actions=self.actions, hub=self.hub, poll_interval=0.5,
                    status=system_status(system, source="sim")))
                self.first = await system.scan(ScanRequested(
                    universe=universe, source="sim", requested_at=dt.datetime.now(dt.timezone.utc),
                    reason="browser-test", run_id=new_run_id()))
                self._ready.put(None)
                await self._stop.wait()
                nursery.cancel_scope.cancel()

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run the plain function ``fn(*args)`` in the world's trio thread (atomically: nothing else runs meanwhile)."""
        return trio.from_thread.run_sync(fn, *args, trio_token=self._token)

    def stop(self) -> None:
        if self._token is not None and self._stop is not None:
            trio.from_thread.run_sync(self._stop.set, trio_token=self._token)
        self._thread.join(timeout=60)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if CHROMIUM is None:
        pytest.skip("no chromium installed")
    w = World(tmp_path_factory.mktemp("dashboard") / "runs.db")
    w.start()
    yield w
    w.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("no chromium installed")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()
    assert errors == [], f"the page logged errors: {errors}"


def screenshot(page: Any, name: str) -> None:
    """Write ``<name>.png`` into $OPTION_ALPHA_SCREENSHOTS when set (full page)."""
    folder = os.environ.get("OPTION_ALPHA_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
