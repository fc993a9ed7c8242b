"""Whether the debate pool is debating: the signal the news scorer yields the LLM to.

One :class:`DebateActivity` per process, made by the LLM side's wiring and shared (like the
limiter) by the debate pool actor, which counts the runs it serves, and the news scorer, which
waits while any run is in progress and cuts its own call short when one starts. It is a plain
in-process object: setting it never blocks and never fails, so a debate never waits on news.
"""

from __future__ import annotations

import attrs
import trio

__all__ = ["DebateActivity"]


@attrs.define(eq=False)
class DebateActivity:
    """A count of debate runs in progress, with waits for "none" and for "some"."""

    runs: int = 0
    _idle: trio.Event = attrs.field(factory=trio.Event, init=False)
    _busy: trio.Event = attrs.field(factory=trio.Event, init=False)

    def __attrs_post_init__(self) -> None:
        self._idle.set()

    @property
    def debating(self) -> bool:
        return self.runs > 0

    def started(self) -> None:
        """A run's debates started (the pool received ``RunDebates``)."""
        self.runs += 1
        if self.runs == 1:
            self._idle = trio.Event()
            self._busy.set()

    def ended(self) -> None:
        """A run's debates ended (answered, failed or interrupted)."""
        self.runs = max(0, self.runs - 1)
        if self.runs == 0:
            self._busy = trio.Event()
            self._idle.set()

    async def wait_idle(self) -> None:
        """Return once no run is debating (at once if none is)."""
        while self.runs:
            await self._idle.wait()

    async def wait_debating(self) -> None:
        """Return once a run is debating (at once if one is)."""
        while not self.runs:
            await self._busy.wait()
