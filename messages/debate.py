"""The debate conversation: bull → bear → risk per ticker, each reply a validated thesis."""

from __future__ import annotations

import enum

import attrs
from attrs import frozen

from messages.scan import TickerResult


class AgentRole(enum.Enum):
    BULL = "bull"
    BEAR = "bear"
    RISK = "risk"


class Stance(enum.Enum):
    BULLISH = "bullish"
    BEARISH = "bearish"
    NEUTRAL = "neutral"


class Verdict(enum.Enum):
    TAKE = "take"
    ADJUST = "adjust"
    AVOID = "avoid"


class DebateStatus(enum.Enum):
    COMPLETED = "completed"
    FAILED = "failed"  # an agent failed; ``failure`` says how
    CUT_OFF = "cut_off"  # the phase deadline or the breaker stopped it mid-way
    SKIPPED = "skipped"  # never started (breaker open, LLM unhealthy)


def _nonempty_points(_inst: object, attribute: attrs.Attribute, value: tuple[str, ...]) -> None:
    if not value:
        raise ValueError(f"{attribute.name} must list at least one point")
    if len(value) > 8:
        raise ValueError(f"{attribute.name} must list at most 8 points, got {len(value)}")


_conviction = attrs.validators.and_(attrs.validators.ge(0.0), attrs.validators.le(1.0))


@frozen
class Thesis:
    """A bull's or bear's reply (the LLM's JSON, validated)."""

    stance: Stance
    conviction: float = attrs.field(validator=_conviction)
    key_points: tuple[str, ...] = attrs.field(validator=_nonempty_points)
    summary: str


@frozen
class RiskAssessment:
    """The risk agent's reply: a verdict on the recommended contract."""

    verdict: Verdict
    conviction: float = attrs.field(validator=_conviction)
    main_risks: tuple[str, ...] = attrs.field(validator=_nonempty_points)
    summary: str
    stance: Stance = Stance.NEUTRAL


@frozen
class AgentOutcome:
    """What one agent call produced: a thesis, or the failure kind. Persisted as it happens.

    Usage (None when the backend did not report it): ``input_tokens``/``output_tokens`` summed
    over the call's attempts, and from Ollama the seconds spent generating, reading the prompt
    and loading the model (``load_seconds`` > 0 marks a call that met a cold model).
    """

    run_id: str
    ticker: str
    role: AgentRole
    model: str
    thesis: Thesis | RiskAssessment | None
    failure: str | None  # a FailureKind value from actors.llm, None on success
    attempts: int
    latency: float
    detail: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    generation_seconds: float | None = None
    prompt_seconds: float | None = None
    load_seconds: float | None = None

    @property
    def tokens_per_second(self) -> float | None:
        """Output tokens per second of generation, when both are known."""
        if self.output_tokens is None or not self.generation_seconds or self.generation_seconds <= 0:
            return None
        return self.output_tokens / self.generation_seconds


@frozen
class DebateFinished:
    """One ticker's debate ended (pool → coordinator)."""

    run_id: str
    ticker: str
    status: DebateStatus
    verdict: Verdict | None
    conviction: float | None
    reason: str | None  # failure kind / cut-off reason; None when completed


def _nonempty_str(_inst: object, attribute: attrs.Attribute, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{attribute.name} must be a non-empty string, got {value!r}")


@frozen(kw_only=True)
class RunDebates:
    """Request to the debate pool: debate ``candidates`` (ranked, checkpointed) for run ``run_id``.

    The answer is the run's ``DebateSummary`` once its debates have ended and their rows are
    written (or queued rows the store refused are listed in it).
    """

    run_id: str = attrs.field(validator=_nonempty_str)
    candidates: tuple[TickerResult, ...] = attrs.field(
        converter=tuple,
        validator=attrs.validators.deep_iterable(attrs.validators.instance_of(TickerResult)),
    )
    #: Theses already saved for this run (a resumed run): a debate continues at its first agent
    #: without one, and never runs an agent again whose thesis is here.
    saved: tuple[AgentOutcome, ...] = attrs.field(
        default=(),
        converter=tuple,
        validator=attrs.validators.deep_iterable(attrs.validators.instance_of(AgentOutcome)),
    )


@frozen(kw_only=True)
class CancelRun:
    """To the debate pool: the requester of run ``run_id`` was cancelled; interrupt that run only."""

    run_id: str = attrs.field(validator=_nonempty_str)
