"""Providers for system tests: the sim behind a network-like latency, and one with a bug.

They wrap the real sim provider and change only what the test is about: each history call
takes ``latency`` seconds of trio time (so scans in flight overlap in virtual time, as they do
against a real network), and :class:`BuggyProvider` raises a non-data exception (a bug, not a
``ProviderError``) on the tickers it is told to, ``times`` times in all.
"""

from __future__ import annotations

from typing import Any

import trio

from actors.providers.base import make_provider


class SlowSim:
    """The sim provider, but each history call waits ``latency`` s of trio time (like I/O)."""

    in_process = False  # it waits: the fetcher treats it as a network provider

    def __init__(self, *, size: int = 60, seed: int = 3, latency: float = 0.5) -> None:
        self._sim = make_provider("sim", size=size, seed=seed)
        self.latency = latency
        self.history_calls = 0

    def __getattr__(self, name: str) -> Any:
        if name in ("worker_options", "history_columns"):  # network-like: no worker or column path
            raise AttributeError(name)
        return getattr(self._sim, name)

    async def history(self, ticker: str):
        self.history_calls += 1
        await trio.sleep(self.latency)
        return await self._sim.history(ticker)


class BuggyProvider(SlowSim):
    """:class:`SlowSim` whose ``history`` raises ``RuntimeError`` for ``tickers``, ``times`` times in all."""

    def __init__(self, *, tickers: set[str], times: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tickers = tickers
        self.times = times
        self.raised = 0

    async def history(self, ticker: str):
        if ticker in self.tickers and self.raised < self.times:
            await trio.sleep(self.latency)
            self.raised += 1
            raise RuntimeError(f"provider bug on {ticker}")
        return await super().history(ticker)
