"""The circuit breaker's state machine, as pure code: no trio, no clients, time passed in.

::

    CLOSED ──(3 consecutive counted failures | failure rate over window | unhealthy report
              | model_missing / unauthorized)──▶ OPEN
    OPEN ──(cool-down elapsed, or a HEALTHY report after the cool-down)──▶ HALF_OPEN
    HALF_OPEN ──(the one probe call succeeds)──▶ CLOSED
    HALF_OPEN ──(the probe fails, or an unhealthy report)──▶ OPEN (fresh cool-down)

What counts against the breaker (``FailureKind`` values, as plain strings):

- counted: ``timeout_connect``, ``timeout_first_chunk``, ``stall``, ``deadline``,
  ``unreachable``, and ``http_status`` when the status is 5xx, 429 or 408 (or unknown: a
  status-less HTTP failure is assumed to be the server's);
- neutral (never counted, not even in the failure-rate window): ``invalid_output`` (the server
  answered; the model wrote bad JSON) and ``cancelled`` (we stopped the call ourselves), and
  ``http_status`` with any other 4xx (our request was wrong, the server is fine);
- fatal, open at once: ``model_missing`` and ``unauthorized`` (no call can succeed until a
  person acts).

Health reports: UNREACHABLE, TIMEOUT, MODEL_MISSING and UNAUTHORIZED open the breaker at once
(from CLOSED or HALF_OPEN). ERROR does not: the server answered the cheap endpoint, so real
calls decide through their own results. A HEALTHY report while OPEN moves to HALF_OPEN only once
the cool-down has elapsed (so a flapping server still gets its cool-down); before that it is
ignored.

In HALF_OPEN exactly one probe call may run: :meth:`BreakerPolicy.allow` says yes once. A
neutral result (invalid output, cancelled) frees the probe slot without deciding anything, so
the next caller may probe.

Every transition returns a :class:`~messages.health.BreakerState` event with a specific
reason; methods that change nothing return None.
"""

from __future__ import annotations

import collections
import math

import attrs
from attrs import frozen

from actors.errors import ConfigError
from messages.health import BreakerState, BreakerStateName, HealthStatus, LLMHealth

__all__ = [
    "COUNTED_KINDS",
    "FATAL_KINDS",
    "FAILURE_KINDS",
    "NEUTRAL_KINDS",
    "UNHEALTHY_STATUSES",
    "BreakerPolicy",
    "BreakerSettings",
    "classify_failure",
]

COUNTED_KINDS = frozenset(
    {"timeout_connect", "timeout_first_chunk", "stall", "deadline", "unreachable", "http_status"}
)
NEUTRAL_KINDS = frozenset({"invalid_output", "cancelled"})
FATAL_KINDS = frozenset({"model_missing", "unauthorized"})
FAILURE_KINDS = COUNTED_KINDS | NEUTRAL_KINDS | FATAL_KINDS

UNHEALTHY_STATUSES = frozenset(
    {
        HealthStatus.UNREACHABLE,
        HealthStatus.TIMEOUT,
        HealthStatus.MODEL_MISSING,
        HealthStatus.UNAUTHORIZED,
    }
)


def classify_failure(kind: str, status: int | None = None) -> str:
    """Return ``"counted"``, ``"neutral"`` or ``"fatal"`` for a failure kind.

    Raises:
        ValueError: ``kind`` is not a FailureKind value (the message lists the allowed ones).
    """
    if kind not in FAILURE_KINDS:
        allowed = ", ".join(sorted(FAILURE_KINDS))
        raise ValueError(f"failure kind must be one of {allowed}; got {kind!r}")
    if kind in FATAL_KINDS:
        return "fatal"
    if kind in NEUTRAL_KINDS:
        return "neutral"
    if kind == "http_status" and status is not None:
        if status >= 500 or status in (408, 429):
            return "counted"
        return "neutral"
    return "counted"


def _label(kind: str, status: int | None) -> str:
    return f"{kind} {status}" if kind == "http_status" and status is not None else kind


def _positive_int(name: str):
    def check(_inst: object, _attr: attrs.Attribute, value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"breaker {name} must be an integer >= 1, got {value!r}")

    return check


def _check_rate(_inst: object, _attr: attrs.Attribute, value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0 < value <= 1
    ):
        raise ConfigError(f"breaker failure_rate must be a number in (0, 1], got {value!r}")


def _check_cooldown(_inst: object, _attr: attrs.Attribute, value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ConfigError(f"breaker cooldown must be a finite number of seconds > 0, got {value!r}")


@frozen(kw_only=True)
class BreakerSettings:
    """When the breaker opens and how long it stays open.

    ``failure_rate=1`` turns the failure-rate rule off (a rate cannot exceed 1).
    """

    failures: int = attrs.field(default=3, validator=_positive_int("failures"))
    failure_rate: float = attrs.field(default=0.5, validator=_check_rate)
    window: int = attrs.field(default=10, validator=_positive_int("window"))
    min_calls: int = attrs.field(default=6, validator=_positive_int("min_calls"))
    cooldown: float = attrs.field(default=30.0, validator=_check_cooldown)

    def __attrs_post_init__(self) -> None:
        if self.min_calls > self.window:
            raise ConfigError(
                f"breaker min_calls must be <= window ({self.window}), got {self.min_calls}"
            )


class BreakerPolicy:
    """The breaker's state and counters; methods take ``now`` (seconds on a monotonic clock)."""

    def __init__(self, settings: BreakerSettings | None = None, *, now: float = 0.0) -> None:
        self.settings = settings if settings is not None else BreakerSettings()
        self._state = BreakerState(BreakerStateName.CLOSED, "started", now)
        self._consecutive: list[str] = []  # labels of the current run of counted failures
        self._window: collections.deque[tuple[bool, str]] = collections.deque(
            maxlen=self.settings.window
        )  # (failed, label) per counted call
        self._half_open_at: float | None = None
        self._probe_out = False

    # -- reading ------------------------------------------------------------------------------

    @property
    def state(self) -> BreakerState:
        """The last transition (the initial state is CLOSED with reason "started")."""
        return self._state

    @property
    def name(self) -> BreakerStateName:
        return self._state.state

    @property
    def half_open_at(self) -> float | None:
        """When the cool-down ends (only while OPEN)."""
        return self._half_open_at

    @property
    def consecutive_failures(self) -> int:
        return len(self._consecutive)

    @property
    def window_counts(self) -> tuple[int, int]:
        """``(calls, failures)`` in the sliding window."""
        return len(self._window), sum(1 for failed, _ in self._window if failed)

    @property
    def probe_in_flight(self) -> bool:
        return self._probe_out

    def would_allow(self, now: float) -> bool:
        """Whether :meth:`allow` would say yes now, without taking the half-open probe slot."""
        if self.name is BreakerStateName.CLOSED:
            return True
        if self.name is BreakerStateName.HALF_OPEN:
            return not self._probe_out
        return False

    # -- deciding -----------------------------------------------------------------------------

    def allow(self, now: float) -> bool:
        """May a call start now? In HALF_OPEN this says yes once, until the probe's result is in.

        Time alone does not change the state here: call :meth:`tick` first.
        """
        if self.name is BreakerStateName.HALF_OPEN:
            if self._probe_out:
                return False
            self._probe_out = True
            return True
        return self.name is BreakerStateName.CLOSED

    def tick(self, now: float) -> BreakerState | None:
        """OPEN → HALF_OPEN once the cool-down has elapsed."""
        if (
            self.name is BreakerStateName.OPEN
            and self._half_open_at is not None
            and now >= self._half_open_at
        ):
            return self._to_half_open(now, "cool-down elapsed")
        return None

    def record_success(self, now: float) -> BreakerState | None:
        """A call succeeded: resets the consecutive count; in HALF_OPEN it closes the breaker."""
        if self.name is BreakerStateName.HALF_OPEN:
            return self._to_closed(now, "probe succeeded")
        if self.name is BreakerStateName.OPEN:
            return None  # a late result from before the opening: the cool-down still runs
        self._consecutive.clear()
        self._window.append((False, "ok"))
        return None

    def record_failure(
        self, kind: str, now: float, *, status: int | None = None, detail: str = ""
    ) -> BreakerState | None:
        """A call failed with ``kind`` (a FailureKind value); see the module docstring.

        Raises:
            ValueError: unknown ``kind``.
        """
        cls = classify_failure(kind, status)
        label = _label(kind, status)
        suffix = f" — {detail}" if detail else ""
        if cls == "neutral":
            if self.name is BreakerStateName.HALF_OPEN:
                self._probe_out = False  # the probe decided nothing; the next caller may probe
            return None
        if self.name is BreakerStateName.OPEN:
            return None
        if cls == "fatal":
            return self._to_open(now, f"call failed: {label}{suffix} (no call can succeed)")
        if self.name is BreakerStateName.HALF_OPEN:
            return self._to_open(now, f"probe failed: {label}{suffix}")
        self._consecutive.append(label)
        self._window.append((True, label))
        if len(self._consecutive) >= self.settings.failures:
            shown = ", ".join(self._consecutive[-self.settings.failures :])
            return self._to_open(now, f"{len(self._consecutive)} consecutive failures: {shown}")
        calls, failed = self.window_counts
        if calls >= self.settings.min_calls and failed / calls > self.settings.failure_rate:
            return self._to_open(
                now,
                f"failure rate {failed}/{calls} calls ({failed / calls:.0%}) exceeds "
                f"{self.settings.failure_rate:.0%}",
            )
        return None

    def record_health(self, health: LLMHealth, now: float) -> BreakerState | None:
        """A health report: unhealthy opens at once, HEALTHY after the cool-down half-opens."""
        detail = f" — {health.detail}" if health.detail else ""
        reason = f"health: {health.status.value}{detail}"
        if health.status in UNHEALTHY_STATUSES:
            if self.name is BreakerStateName.OPEN:
                return None
            return self._to_open(now, reason)
        if (
            health.status is HealthStatus.HEALTHY
            and self.name is BreakerStateName.OPEN
            and self._half_open_at is not None
            and now >= self._half_open_at
        ):
            return self._to_half_open(now, f"cool-down elapsed; {reason}")
        return None

    def release_probe(self) -> None:
        """The half-open probe ended without a result (e.g. its caller went away)."""
        self._probe_out = False

    # -- transitions --------------------------------------------------------------------------

    def _to_open(self, now: float, reason: str) -> BreakerState:
        self._half_open_at = now + self.settings.cooldown
        self._probe_out = False
        return self._set(BreakerStateName.OPEN, reason, now)

    def _to_half_open(self, now: float, reason: str) -> BreakerState:
        self._half_open_at = None
        self._probe_out = False
        return self._set(BreakerStateName.HALF_OPEN, reason, now)

    def _to_closed(self, now: float, reason: str) -> BreakerState:
        self._half_open_at = None
        self._probe_out = False
        self._consecutive.clear()
        self._window.clear()
        return self._set(BreakerStateName.CLOSED, reason, now)

    def _set(self, name: BreakerStateName, reason: str, now: float) -> BreakerState:
        self._state = BreakerState(name, reason, now)
        return self._state
