"""The circuit breaker's state machine, as pure code: no trio, no clients, time passed in.

::

    CLOSED ──(failures consecutive not-responding attempts | answered-error rate over the window
              | a fatal attempt | an unhealthy health report)──▶ OPEN
    OPEN ──(cool-down elapsed, or a HEALTHY report)──▶ HALF_OPEN
    HALF_OPEN ──(the probe call's attempt is answered)──▶ CLOSED
    HALF_OPEN ──(its attempt is not responding, an answered error or fatal;
                 or an unhealthy report)──▶ OPEN (fresh cool-down)

It reads only each attempt's :class:`~messages.llm.BreakerMeaning` (decided by the LLM layer,
``FailureKind.breaker_meaning``); it keeps no list of failure kinds of its own.

- *not responding* (refused, connect / first-chunk timeout, stall, deadline, dropped stream,
  broken framing): ``failures`` of them in a row open it. Any attempt the server answered
  (a valid reply, an answered error, a reply that did not parse, a 4xx) resets that streak.
- *answered with an error* (5xx, 529, 429, 408): the failure-rate rule. Over the last
  ``window`` seconds, once at least ``min_calls`` answered attempts are in it, the breaker opens
  when answered errors are more than ``failure_rate`` of them. Valid replies count in the window
  as successes; unusable replies, 4xx and not-responding attempts are not in it.
- *fatal* (model missing, unauthorized): opens at once: no call can succeed until a person acts.
- *answered, unusable* (invalid output, truncated) and *request wrong* (other 4xx): reset the
  streak, nothing else. *neutral* (cancelled): nothing at all.

Health reports: UNREACHABLE, TIMEOUT, MODEL_MISSING and UNAUTHORIZED open the breaker at once
(from CLOSED or HALF_OPEN). ERROR does not: the server answered the cheap endpoint, so real
calls decide through their own attempts. A HEALTHY report while OPEN moves to HALF_OPEN at once,
even within the cool-down: a long-lived process (the daemon) must not skip a phase whose
pre-check found the LLM healthy. A flapping server costs one probe call per healthy report,
and a failed probe call reopens the breaker with a fresh cool-down.

In HALF_OPEN exactly one probe call may run: :meth:`BreakerPolicy.allow` says yes once. Its
first deciding attempt closes or reopens the breaker; if the call ends without one (only
unusable replies, a 4xx, cancelled), :meth:`BreakerPolicy.release_probe` frees the slot. While
OPEN, attempts are ignored (late reports from calls the opening cut off).

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
from messages.llm import AttemptOutcome, BreakerMeaning

__all__ = ["UNHEALTHY_STATUSES", "BreakerPolicy", "BreakerSettings"]

UNHEALTHY_STATUSES = frozenset(
    {
        HealthStatus.UNREACHABLE,
        HealthStatus.TIMEOUT,
        HealthStatus.MODEL_MISSING,
        HealthStatus.UNAUTHORIZED,
    }
)

#: Meanings that decide a half-open probe against the server (an answer closes it).
_PROBE_FAILS = frozenset({BreakerMeaning.NOT_RESPONDING, BreakerMeaning.ANSWERED_ERROR, BreakerMeaning.FATAL})


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


def _positive_seconds(name: str):
    def check(_inst: object, _attr: attrs.Attribute, value: object) -> None:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value <= 0
        ):
            raise ConfigError(f"breaker {name} must be a finite number of seconds > 0, got {value!r}")

    return check


@frozen(kw_only=True)
class BreakerSettings:
    """When the breaker opens and how long it stays open (see the module docstring).

    ``failure_rate=1`` turns the failure-rate rule off (a rate cannot exceed 1).
    """

    failures: int = attrs.field(default=3, validator=_positive_int("failures"))
    failure_rate: float = attrs.field(default=0.5, validator=_check_rate)
    window: float = attrs.field(default=30.0, validator=_positive_seconds("window"))
    min_calls: int = attrs.field(default=20, validator=_positive_int("min_calls"))
    cooldown: float = attrs.field(default=30.0, validator=_positive_seconds("cooldown"))


class BreakerPolicy:
    """The breaker's state and counters; methods take ``now`` (seconds on a monotonic clock)."""

    def __init__(self, settings: BreakerSettings | None = None, *, now: float = 0.0) -> None:
        self.settings = settings if settings is not None else BreakerSettings()
        self._state = BreakerState(BreakerStateName.CLOSED, "started", now)
        self._streak: list[str] = []  # labels of the current run of not-responding attempts
        self._window: collections.deque[tuple[float, bool]] = collections.deque()  # (when, error)
        self._window_errors = 0
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
        """The current streak of not-responding attempts."""
        return len(self._streak)

    def window_counts(self, now: float) -> tuple[int, int]:
        """``(answered attempts, answered errors)`` in the window ending at ``now``."""
        self._expire(now)
        return len(self._window), self._window_errors

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
        """May a call start now? In HALF_OPEN this says yes once, until the probe is decided.

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

    def record_attempt(self, attempt: AttemptOutcome, now: float) -> BreakerState | None:
        """One attempt of an LLM call ended; see the module docstring for what each meaning does."""
        meaning = attempt.meaning
        if meaning is BreakerMeaning.NEUTRAL or self.name is BreakerStateName.OPEN:
            return None
        suffix = f" — {attempt.detail}" if attempt.detail else ""
        if self.name is BreakerStateName.HALF_OPEN:
            if meaning is BreakerMeaning.ANSWERED:
                return self._to_closed(now, "probe call answered")
            if meaning in _PROBE_FAILS:
                return self._to_open(now, f"probe call failed: {attempt.label}{suffix}")
            return None  # unusable reply or 4xx: the probe goes on (or frees its slot when it ends)
        if meaning is BreakerMeaning.FATAL:
            return self._to_open(now, f"{attempt.label}{suffix} (no call can succeed)")
        if meaning is BreakerMeaning.NOT_RESPONDING:
            self._streak.append(attempt.label)
            if len(self._streak) >= self.settings.failures:
                shown = ", ".join(self._streak[-self.settings.failures :])
                return self._to_open(now, f"{len(self._streak)} attempts in a row not responding: {shown}{suffix}")
            return None
        self._streak.clear()  # the server answered
        if meaning is BreakerMeaning.ANSWERED:
            self._add_to_window(now, error=False)
        elif meaning is BreakerMeaning.ANSWERED_ERROR:
            self._add_to_window(now, error=True)
            return self._check_rate(now, attempt.label)
        return None

    def record_health(self, health: LLMHealth, now: float) -> BreakerState | None:
        """A health report: unhealthy opens at once, HEALTHY half-opens an open breaker."""
        detail = f" — {health.detail}" if health.detail else ""
        reason = f"health: {health.status.value}{detail}"
        if health.status in UNHEALTHY_STATUSES:
            if self.name is BreakerStateName.OPEN:
                return None
            return self._to_open(now, reason)
        if health.status is HealthStatus.HEALTHY and self.name is BreakerStateName.OPEN:
            if self._half_open_at is not None and now >= self._half_open_at:
                return self._to_half_open(now, f"cool-down elapsed; {reason}")
            return self._to_half_open(now, f"{reason} (within the cool-down: one probe call decides)")
        return None

    def release_probe(self) -> None:
        """The half-open probe call ended without deciding; the next caller may probe."""
        self._probe_out = False

    # -- the failure-rate window --------------------------------------------------------------

    def _add_to_window(self, now: float, *, error: bool) -> None:
        self._expire(now)
        self._window.append((now, error))
        self._window_errors += error

    def _expire(self, now: float) -> None:
        horizon = now - self.settings.window
        while self._window and self._window[0][0] <= horizon:
            _, error = self._window.popleft()
            self._window_errors -= error

    def _check_rate(self, now: float, label: str) -> BreakerState | None:
        calls, errors = len(self._window), self._window_errors
        if calls >= self.settings.min_calls and errors / calls > self.settings.failure_rate:
            return self._to_open(
                now,
                f"answered errors in {errors} of the last {calls} answered attempts ({errors / calls:.0%}, "
                f"over {self.settings.failure_rate:.0%} in {self.settings.window:g} s), latest {label}",
            )
        return None

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
        self._streak.clear()
        self._window.clear()
        self._window_errors = 0
        return self._set(BreakerStateName.CLOSED, reason, now)

    def _set(self, name: BreakerStateName, reason: str, now: float) -> BreakerState:
        self._state = BreakerState(name, reason, now)
        return self._state
