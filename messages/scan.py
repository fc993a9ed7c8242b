"""A scan's conversation: request, per-ticker scores, option picks, the checkpoint."""

from __future__ import annotations

import datetime as dt
import enum

from attrs import frozen

from messages.market import DataError, OptionType


class Direction(enum.Enum):
    BULLISH = "bullish"
    BEARISH = "bearish"
    NEUTRAL = "neutral"


class RunStatus(enum.Enum):
    RUNNING = "RUNNING"
    PARTIAL = "PARTIAL"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    INTERRUPTED = "INTERRUPTED"


class Phase(enum.Enum):
    """The phases of a scan, in the order the coordinator runs them."""

    DATA_FETCH = "data_fetch"
    SCORING = "scoring"
    CATALYSTS = "catalysts"
    OPTIONS = "options"
    PERSIST = "persist"
    AI_DEBATE = "ai_debate"


PHASE_ORDER: tuple[Phase, ...] = tuple(Phase)


@frozen
class ScanRequested:
    """Start a scan (scheduler or bin/scan → coordinator)."""

    universe: tuple[str, ...]
    source: str
    requested_at: dt.datetime
    reason: str = "manual"  # "manual" | "schedule" | "demo"
    #: The run's id; the coordinator makes one when None. The requester picks it to cancel the scan.
    run_id: str | None = None
    #: Drain the news queue (score the articles) before the catalyst phase (``--score-news``).
    score_news: bool = False


@frozen
class ScoreComponent:
    """One named part of the technical score: ``value`` is 0..1, ``weight`` its share."""

    name: str
    value: float
    weight: float
    detail: str = ""


@frozen
class TickerScored:
    """Technical score of one ticker (scorer → coordinator)."""

    ticker: str
    score: float  # 0..100
    direction: Direction
    components: tuple[ScoreComponent, ...]
    last_close: float
    as_of: dt.date


@frozen
class Catalyst:
    """A flag on a ticker with the score adjustment it caused (points, may be 0)."""

    kind: str  # "earnings_before_expiry" | "earnings_soon" | "earnings_after_window" | "news"
    detail: str
    adjustment: float
    date: dt.date | None = None


@frozen
class OptionPick:
    """The contract chosen for a ticker."""

    contract: str
    type: OptionType
    strike: float
    expiry: dt.date
    dte: int
    delta: float
    bid: float
    ask: float
    mid: float
    open_interest: float
    volume: float
    iv: float | None
    greeks_source: str  # "chain" | "black_scholes"
    gamma: float | None = None
    theta: float | None = None
    vega: float | None = None


@frozen
class TickerResult:
    """One ranked row of a scan: what is checkpointed and shown."""

    ticker: str
    rank: int
    score: float  # final, after catalysts
    technical_score: float
    direction: Direction
    components: tuple[ScoreComponent, ...]
    catalysts: tuple[Catalyst, ...]
    last_close: float
    as_of: dt.date
    option: OptionPick | None
    no_option_reason: str | None
    synthetic: bool = False
    #: Seconds between the option chain's quote time and the scan (None: no chain fetched).
    quote_age_s: float | None = None
    #: Data-quality marks, e.g. ``"mixed-dates"`` (the chain and the price history are of different days).
    data_flags: tuple[str, ...] = ()


@frozen
class Checkpoint:
    """Scores and picks of a run, written in one transaction as PARTIAL (coordinator → persister)."""

    run_id: str
    results: tuple[TickerResult, ...]
    errors: tuple[DataError, ...]
    tickers_requested: int


@frozen
class CheckpointCommitted:
    """The persister's acknowledgement: sent only after COMMIT."""

    run_id: str
    rows: int
