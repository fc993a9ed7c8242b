"""The health monitor under virtual time: cadence, timeouts, logging, and its wiring to the breaker."""

from __future__ import annotations

import logging
import math
from contextlib import asynccontextmanager

import pytest
import trio
import trio.testing

from actors.breaker import BreakerClient, BreakerHome, BreakerOpen, BreakerSettings, breaker_actor
from actors.breaker.supervised import BREAKER_INBOX
from actors.errors import ConfigError
from actors.health import HealthMonitor, HealthReports, health_actor, open_health_monitor, run_health_monitor
from actors.llm.outcome import attempt_outcome
from actors.runtime import ChildSpec, EventBus, open_supervisor, request
from messages.health import BreakerState, BreakerStateName, CheckNow, HealthStatus, LLMHealth


class FakeProbe:
    """A cheap-endpoint probe: answers HEALTHY at once, hangs from `hang_from` on, or raises `error`."""

    def __init__(self, *, hang_from: float = math.inf, error: OSError | None = None) -> None:
        self.hang_from = hang_from
        self.error = error
        self.starts: list[float] = []
        self.statuses: list[HealthStatus] = []  # scripted statuses, consumed one per call

    async def __call__(self) -> LLMHealth:
        now = trio.current_time()
        self.starts.append(now)
        if self.error is not None:
            raise self.error
        if now >= self.hang_from:
            await trio.sleep_forever()
        await trio.sleep(0.01)
        status = self.statuses.pop(0) if self.statuses else HealthStatus.HEALTHY
        return LLMHealth("ollama", status, 0.01, "", trio.current_time())


class Published(list):
    def __call__(self, message: object) -> None:
        self.append(message)


def offsets(times: list[float], start: float) -> list[float]:
    return [round(t - start, 6) for t in times]


async def test_checks_every_interval(autojump_clock):
    """Idle, it checks at once and then every `interval` seconds, publishing each report."""
    probe, published = FakeProbe(), Published()
    start = trio.current_time()
    async with open_health_monitor(probe, publish=published, interval=60):
        await trio.sleep(200)
    assert offsets(probe.starts, start) == [0, 60, 120, 180]
    assert [h.status for h in published] == [HealthStatus.HEALTHY] * 4


async def test_switches_to_fast_cadence_while_calls_are_in_flight(autojump_clock):
    """notify_in_flight() starts the 2 s cadence at once; it returns to 60 s when calls end."""
    probe = FakeProbe()
    busy = False
    start = trio.current_time()
    async with open_health_monitor(probe, publish=Published(), in_flight=lambda: busy) as monitor:
        await trio.sleep(30)
        busy = True
        monitor.notify_in_flight()
        await trio.sleep(5.5)
        assert monitor.statistics().fast_cadence is True
        busy = False
        await trio.sleep(100)
    # 0 (idle), 30 (woken: the 2 s period since 0 is long past), 32, 34, then 34 + 60 = 94
    assert offsets(probe.starts, start) == [0, 30, 32, 34, 94]


async def test_hanging_probe_times_out_at_exactly_timeout(autojump_clock):
    """A probe that never answers gives TIMEOUT after exactly `timeout` seconds."""
    probe, published = FakeProbe(hang_from=0), Published()
    monitor = HealthMonitor(probe, publish=published, backend="ollama", timeout=3)
    start = trio.current_time()
    health = await monitor.check_now()
    assert trio.current_time() - start == 3
    assert health == LLMHealth("ollama", HealthStatus.TIMEOUT, 3.0, "no answer within 3 s", start + 3)
    assert published == [health]


async def test_oserror_is_unreachable(autojump_clock):
    """A probe raising OSError reports UNREACHABLE with the error's text."""
    probe = FakeProbe(error=ConnectionRefusedError(111, "Connection refused"))
    monitor = HealthMonitor(probe, publish=Published(), backend="ollama")
    health = await monitor.check_now()
    assert (health.status, health.detail, health.backend) == (
        HealthStatus.UNREACHABLE,
        "[Errno 111] Connection refused",
        "ollama",
    )


async def test_status_changes_logged_once(autojump_clock, caplog):
    """Only changes reach INFO: healthy, healthy, model_missing, model_missing, healthy logs three lines."""
    probe = FakeProbe()
    probe.statuses = [HealthStatus.HEALTHY, HealthStatus.HEALTHY, HealthStatus.MODEL_MISSING,
                      HealthStatus.MODEL_MISSING, HealthStatus.HEALTHY]
    monitor = HealthMonitor(probe, publish=Published())
    with caplog.at_level(logging.DEBUG, logger="actors.health.monitor"):
        for _ in range(5):
            await monitor.check_now()
    info = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(info) == 3
    assert "unknown → healthy" in info[0]
    assert "healthy → model_missing" in info[1]
    assert "model_missing → healthy" in info[2]
    assert sum(r.levelno == logging.DEBUG for r in caplog.records) == 2
    assert monitor.statistics().status_changes == 3


async def test_check_now_restarts_the_schedule(autojump_clock):
    """An outside check_now() counts as the latest check: the next periodic one is `interval` after it."""
    probe = FakeProbe()
    start = trio.current_time()
    async with open_health_monitor(probe, publish=Published(), interval=60) as monitor:
        await trio.sleep(45)
        health = await monitor.check_now()
        assert health.status is HealthStatus.HEALTHY
        await trio.sleep(70)
    assert offsets(probe.starts, start) == [0, 45, 105]


async def test_probe_returning_the_wrong_type_is_an_error(autojump_clock):
    """A probe that returns something else than LLMHealth is a bug, named in the error."""

    async def bad_probe() -> LLMHealth:
        return {"status": "healthy"}  # type: ignore[return-value]

    with pytest.raises(TypeError, match="health probe must return LLMHealth, got dict"):
        await HealthMonitor(bad_probe, publish=Published()).check_now()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"interval": 0}, "health interval must be a finite number of seconds > 0, got 0"),
        ({"in_flight_interval": -2}, "health in_flight_interval must be a finite number of seconds > 0, got -2"),
        ({"timeout": math.nan}, "health timeout must be a finite number of seconds > 0, got nan"),
        ({"backend": ""}, "health backend must be a non-empty string, got ''"),
    ],
)
async def test_invalid_settings_name_the_field(kwargs, message):
    """Each bad setting is refused with a message naming it."""
    with pytest.raises(ConfigError, match=f"^{message}$"):
        HealthMonitor(FakeProbe(), publish=Published(), **kwargs)


async def test_run_health_monitor_hands_back_the_monitor(autojump_clock):
    """nursery.start(run_health_monitor, ...) returns the running monitor."""
    probe = FakeProbe()
    async with trio.open_nursery() as nursery:
        monitor = await nursery.start(lambda task_status: run_health_monitor(
            probe, publish=Published(), interval=10, task_status=task_status))
        await trio.sleep(25)
        stats = monitor.statistics()
        assert stats.checks == 3 and stats.last_status is HealthStatus.HEALTHY
        assert dict(stats.by_status)["healthy"] == 3
        nursery.cancel_scope.cancel()


@asynccontextmanager
async def breaker_and_monitor(probe: FakeProbe, publish, **monitor_settings):
    """The breaker and health actors as the wiring starts them: supervised, the monitor's reports
    sent to the breaker's inbox, the breaker's LLMCallsInFlight reaching the monitor over a bus."""
    llm_events = EventBus(name="llm")

    def tee(event: object) -> None:
        publish(event)
        llm_events.publish(event)

    home = BreakerHome(BreakerSettings(), tee)
    async with open_supervisor(name="test") as supervisor:
        breaker = await supervisor.start(ChildSpec("llm-breaker", breaker_actor, args=(home,), capacity=BREAKER_INBOX))
        monitor = HealthMonitor(probe, publish=HealthReports(breaker, publish), **monitor_settings)
        health = await supervisor.start(ChildSpec("llm-health", health_actor, args=(monitor, llm_events)))
        yield home, BreakerClient(breaker), health
        llm_events.close()


@pytest.mark.parametrize("hang_at", [19.0001, 20.5, 20.9999])
async def test_hung_server_opens_breaker_within_fast_cadence_plus_timeout(autojump_clock, hang_at):
    """With a call in flight and the server hanging from T, the breaker opens by T + 2 + 3 and cuts the call off."""
    start = trio.current_time()
    probe = FakeProbe(hang_from=start + hang_at)
    cut_off: list[tuple[float, BreakerOpen]] = []

    async with breaker_and_monitor(probe, lambda _m: None, interval=60, in_flight_interval=2, timeout=3) as (
        home, breaker, _health,
    ):

        async def slow_call() -> None:
            try:
                async with breaker.guard():
                    await trio.sleep(10_000)  # waiting for a first chunk that never comes
            except BreakerOpen as exc:
                cut_off.append((trio.current_time(), exc))

        await trio.sleep(5)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(slow_call)
        state = home.current.state
    assert state.state is BreakerStateName.OPEN
    assert state.reason == "health: timeout — no answer within 3 s"
    assert state.changed_at <= start + hang_at + 2 + 3
    assert [t for t, _ in cut_off] == [state.changed_at]


async def test_slow_model_with_answering_server_keeps_breaker_closed(autojump_clock):
    """A long call while the cheap endpoint answers is left alone: the breaker stays closed."""
    probe = FakeProbe()
    published = Published()

    async with breaker_and_monitor(probe, published) as (home, breaker, _health):
        start = trio.current_time()
        async with breaker.guard():
            await trio.sleep(100)  # the model is loading: 100 s to a first chunk
            breaker.address.send_nowait(attempt_outcome(None))  # the attempt answered
        assert trio.current_time() - start == 100
        fast_checks = offsets([t for t in probe.starts if start < t < start + 100], start)
    assert [e for e in published if isinstance(e, BreakerState)] == []
    assert fast_checks == list(range(2, 100, 2))  # every 2 s while the call ran


async def test_a_crashed_health_actor_is_restarted_and_answers_the_next_check(autojump_clock):
    """A probe bug (not an OSError) answers that CheckNow with the error and crashes the actor; the
    supervisor restarts it on the same inbox and the next CheckNow is answered with a report."""
    calls = 0

    async def probe() -> LLMHealth:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("probe bug")
        return LLMHealth("ollama", HealthStatus.HEALTHY, 0.0, "", trio.current_time())

    async with breaker_and_monitor(probe, lambda _m: None) as (_home, _breaker, health):
        with pytest.raises(RuntimeError, match="probe bug"):
            await request(health, CheckNow(), timeout=5)
        report = await request(health, CheckNow(), timeout=5)
        assert report.status is HealthStatus.HEALTHY
        assert health.statistics().incarnations == 2
