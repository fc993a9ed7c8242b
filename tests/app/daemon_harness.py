"""Running :func:`actors.app.daemon.serve` in-process, in virtual time: the real system and scheduler,
the in-memory persister, the sim behind a latency, signals sent through a channel."""

from __future__ import annotations

import datetime as dt
import signal
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import attrs
import trio

from actors.app.daemon import DaemonOptions, serve
from actors.app.notify import Notifier
from actors.config import Settings
from actors.fakes.memory_persister import MemoryPersister
from tests.system.providers import SlowSim

UTC = dt.timezone.utc


def wall_from(start: dt.datetime):
    """A wall clock that reads ``start`` now and moves with trio's (virtual) clock."""
    origin = trio.current_time()

    def now() -> dt.datetime:
        return start.astimezone(UTC) + dt.timedelta(seconds=trio.current_time() - origin)
    return now


@attrs.define
class Daemon:
    """A daemon being served in a nursery: send it signals, read its store."""

    memory: MemoryPersister
    signals: trio.MemorySendChannel[int]
    done: trio.Event
    result: list[Any]

    async def signal(self, signum: int) -> None:
        await self.signals.send(signum)

    async def stop(self) -> int:
        await self.signals.send(signal.SIGTERM)
        await self.done.wait()
        return self.result[0]


@asynccontextmanager
async def running_daemon(settings: Settings, *, start: dt.datetime, memory: MemoryPersister | None = None,
                         reload=None, notifier: Notifier | None = None, watchdog: float | None = None,
                         **system_options: Any):
    memory = memory or MemoryPersister()
    send, receive = trio.open_memory_channel[int](8)

    @contextmanager
    def signals():
        yield receive

    system_options.setdefault("provider", SlowSim(size=30, latency=0.2))
    options = DaemonOptions(
        db=":memory:", reload=reload or (lambda: settings), wall_clock=wall_from(start), signals=signals,
        notifier=notifier or Notifier(None), watchdog=watchdog,
        system_options={"persister": memory.run, **system_options},
    )
    daemon = Daemon(memory=memory, signals=send, done=trio.Event(), result=[])

    async def run() -> None:
        try:
            daemon.result.append(await serve(settings, options))
        except BaseException as exc:
            daemon.result.append(exc)
            raise
        finally:
            daemon.done.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(run)
        yield daemon
        if not daemon.done.is_set():
            await daemon.stop()
