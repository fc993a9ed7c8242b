"""Market data: what providers hand the fetcher, and what the fetcher sends the scorer.

Every piece carries its as-of time. Date logic downstream (DTE, earnings windows, lookbacks)
runs relative to ``as_of``, never the wall clock.
"""

from __future__ import annotations

import datetime as dt
import enum


from attrs import frozen


class OptionType(enum.Enum):
    CALL = "call"
    PUT = "put"


class DataPiece(enum.Enum):
    """The four things a provider can be asked for."""

    HISTORY = "history"
    CHAIN = "chain"
    EARNINGS = "earnings"
    NEWS = "news"


@frozen
class Bar:
    """One daily bar. Prices are positive and finite; volume is >= 0 (may be fractional)."""

    date: dt.date
    open: float
    high: float
    low: float
    close: float
    volume: float


@frozen
class PriceHistory:
    """Daily bars, oldest first, strictly increasing dates."""

    ticker: str
    bars: tuple[Bar, ...]
    as_of: dt.date
    source: str


@frozen
class PriceColumns:
    """A price history as columns, oldest first: what CPU-bound scoring reads, without ``Bar`` objects.

    Used where the bars never leave a worker process (:mod:`actors.fetch_score`); the columns
    hold the same numbers as the :class:`PriceHistory` the provider's ``history()`` returns.
    """

    ticker: str
    dates: tuple[dt.date, ...]
    opens: tuple[float, ...]
    highs: tuple[float, ...]
    lows: tuple[float, ...]
    closes: tuple[float, ...]
    volumes: tuple[float, ...]
    as_of: dt.date
    source: str

    def to_history(self) -> PriceHistory:
        bars = tuple(map(Bar, self.dates, self.opens, self.highs, self.lows, self.closes, self.volumes))
        return PriceHistory(ticker=self.ticker, bars=bars, as_of=self.as_of, source=self.source)


@frozen
class OptionQuote:
    """One contract of a chain. Greeks are None when the provider did not give usable ones."""

    contract: str
    ticker: str
    type: OptionType
    strike: float
    expiry: dt.date
    bid: float
    ask: float
    last: float | None
    volume: float
    open_interest: float
    iv: float | None = None
    delta: float | None = None
    gamma: float | None = None
    theta: float | None = None
    vega: float | None = None

    @property
    def mid(self) -> float:
        return (self.bid + self.ask) / 2


@frozen
class OptionChain:
    ticker: str
    as_of: dt.datetime
    underlying_price: float
    quotes: tuple[OptionQuote, ...]
    source: str


@frozen
class EarningsEvent:
    ticker: str
    date: dt.date
    time: str | None = None  # "before_open" | "after_close" | None when not supplied


@frozen
class Headline:
    ticker: str
    title: str
    published_at: dt.datetime
    publisher: str | None = None
    url: str | None = None
    #: The article's summary or first paragraph, when the provider gives one (untrusted text).
    summary: str | None = None


@frozen
class DataError:
    """A per-ticker problem with one piece of data: recorded on the run, never fatal to a scan."""

    ticker: str
    piece: DataPiece
    kind: str  # "malformed" | "missing" | "unknown_ticker" | "http" | "timeout"
    message: str


@frozen
class TickerData:
    """Everything the fetcher found for one ticker (fetcher → scorer).

    ``earnings`` is None when earnings dates are *unknown* (no calendar for this ticker), and
    an empty tuple when the calendar is known and has no event in range.
    """

    ticker: str
    as_of: dt.date
    source: str
    history: PriceHistory | None = None
    chain: OptionChain | None = None
    earnings: tuple[EarningsEvent, ...] | None = None
    headlines: tuple[Headline, ...] = ()
    errors: tuple[DataError, ...] = ()
    synthetic: bool = False

    @property
    def usable(self) -> bool:
        """True when there is enough to score the ticker (a price history)."""
        return self.history is not None and len(self.history.bars) > 0


