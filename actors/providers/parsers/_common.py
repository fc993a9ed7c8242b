"""Shared validation for the parsers: field paths, typed reads, JSON decoding and bar checks.

Every problem becomes :class:`~actors.errors.MalformedData` whose message starts with the
field path and says why, e.g. ``data.options[3].bid: expected a number, got 'x'``. Paths use
dots for object keys and ``[i]`` for array items; ``$`` is the whole document; CSV rows are
``line 57.Close``.

Hostile values are refused here, at the boundary, with the bounds of :mod:`actors.core.plausible`:
non-finite, non-positive or implausibly large prices, volumes out of range, integer literals
longer than ``MAX_INT_DIGITS`` digits (refused while decoding, before ``int()`` could choke on
them), and dates before 1970 or after today (the injected ``today``, by default the UTC date).

What a bad value costs, per kind of item (the parsers' docstrings repeat their part):

==================  ==============  ==========================================================
item                a bad value     why
==================  ==============  ==========================================================
bar of a history    fails history   a dropped bar bends every indicator; the series is suspect
contract of chain   drops contract  contracts are independent; logged at INFO with the count
                                    and first reason; a chain left empty fails
headline            drops headline  articles are independent; logged like contracts
earnings row        fails the day   a dropped row would turn "reports that day" into "no
                                    earnings", a wrong answer where "unknown" is honest
envelope fields     fails piece     symbol, spot price, as-of time: nothing is usable without
==================  ==============  ==========================================================
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
from collections.abc import Callable
from typing import Any, TypeVar

from actors.errors import MalformedData
from actors.core.plausible import (
    EARLIEST_DATE,
    FUTURE_SLACK,
    MAX_CONTRACTS,
    MAX_EXPIRY_YEARS,
    MAX_INT_DIGITS,
    MAX_PRICE,
    MAX_VOLUME,
    MIN_PRICE,
    price_problem,
    volume_problem,
)
from messages.market import Bar, OptionType

__all__ = ["BarBuilder", "Dropped", "Reader", "expiry_window", "join", "parse_occ_symbol"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

#: A number written as text (CSV cell) longer than this is refused before ``float()``.
_MAX_NUMBER_TEXT = 40

#: Unix timestamps outside 1970..2100 are certainly wrong (ms instead of s, garbage).
_MAX_UNIX = 4_102_444_800

_OCC = re.compile(r"^([A-Z0-9.]{1,6}?)(\d{2})(\d{2})(\d{2})([CP])(\d{8})$")


def join(path: str, key: str | int) -> str:
    """``join("data", "options") == "data.options"``; ``join("data.options", 3) == "data.options[3]"``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path and path != "$" else key


def _show(value: Any) -> str:
    if isinstance(value, str) and len(value) > 40:
        value = value[:40]  # repr of a megabyte of text is a megabyte
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class Oversized:
    """Stands in for an integer literal too long to be a market value (decoded, never converted)."""

    __slots__ = ("digits",)

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"an integer literal of {self.digits} digits"


def _parse_int(text: str) -> int | Oversized:
    digits = len(text) - text.startswith("-")
    return Oversized(digits) if digits > MAX_INT_DIGITS else int(text)


def utc_today() -> dt.date:
    """Today's date in UTC: the default ``today`` of the parsers."""
    return dt.datetime.now(dt.timezone.utc).date()


class Reader:
    """Typed reads of a decoded document on behalf of one ticker and one data piece.

    ``today`` bounds observation dates (a bar or quote dated after ``today + FUTURE_SLACK`` is
    refused); it defaults to the UTC date, and tests inject it.
    """

    __slots__ = ("piece", "ticker", "today")

    def __init__(self, ticker: str, piece: str, *, today: dt.date | None = None) -> None:
        self.ticker = ticker
        self.piece = piece
        self.today = utc_today() if today is None else today

    def error(self, path: str, why: str) -> MalformedData:
        return MalformedData(self.ticker, self.piece, f"{path}: {why}")

    def text(self, raw: bytes | str) -> str:
        """The document as text (UTF-8, BOM dropped)."""
        if isinstance(raw, (bytes, bytearray, memoryview)):
            try:
                return bytes(raw).decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise self.error("$", f"not UTF-8 text (bad byte at offset {exc.start})") from None
        if not isinstance(raw, str):
            raise self.error("$", f"expected bytes or str, got {type(raw).__name__}")
        return raw.removeprefix("\ufeff")

    def json(self, raw: bytes | str) -> Any:
        """Decode JSON; a truncated or broken document names the position where it fails."""
        text = self.text(raw)
        if not text.strip():
            raise self.error("$", "empty document")
        try:
            return json.loads(text, parse_int=_parse_int)
        except json.JSONDecodeError as exc:
            truncated = exc.pos >= len(text.rstrip())
            hint = " (document ends early: truncated?)" if truncated else ""
            raise self.error(
                "$", f"invalid JSON at line {exc.lineno} column {exc.colno} (char {exc.pos}): {exc.msg}{hint}"
            ) from None
        except RecursionError:
            raise self.error("$", "JSON nested too deeply") from None

    def obj(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(path, f"expected an object, got {_kind(value)}")
        return value

    def arr(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.error(path, f"expected an array, got {_kind(value)}")
        return value

    def field(self, obj: dict[str, Any], key: str, path: str) -> Any:
        """``obj[key]``; a missing key is reported at ``path.key``."""
        try:
            return obj[key]
        except KeyError:
            raise self.error(join(path, key), "required field missing") from None

    def number(
        self,
        value: Any,
        path: str,
        *,
        positive: bool = False,
        non_negative: bool = False,
        below: float | None = None,
    ) -> float:
        """A finite JSON number (bools, numeric strings and absurdly long integers are rejected)."""
        if isinstance(value, Oversized):
            raise self.error(path, f"{value!r} is out of range")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(path, f"expected a number, got {_show(value)}")
        return self.check_number(float(value), path, positive=positive, non_negative=non_negative, below=below)

    def optional_number(
        self, value: Any, path: str, *, non_negative: bool = False, below: float | None = None
    ) -> float | None:
        return None if value is None else self.number(value, path, non_negative=non_negative, below=below)

    def check_number(
        self,
        value: float,
        path: str,
        *,
        positive: bool = False,
        non_negative: bool = False,
        below: float | None = None,
    ) -> float:
        if not math.isfinite(value):
            raise self.error(path, f"expected a finite number, got {value!r}")
        if positive and value <= 0:
            raise self.error(path, f"expected a positive number, got {value!r}")
        if non_negative and value < 0:
            raise self.error(path, f"expected a number >= 0, got {value!r}")
        if below is not None and value >= below:
            raise self.error(path, f"{value!r} is not below the plausible maximum {below:g}")
        return value

    def csv_number(self, text: str, path: str, *, positive: bool = False, non_negative: bool = False) -> float:
        stripped = text.strip()
        if len(stripped) > _MAX_NUMBER_TEXT:
            raise self.error(path, f"a number written with {len(stripped)} characters is out of range")
        try:
            value = float(stripped)
        except ValueError:
            raise self.error(path, f"expected a number, got {_show(text)}") from None
        return self.check_number(value, path, positive=positive, non_negative=non_negative)

    def price(self, value: Any, path: str) -> float:
        """A plausible price (see :func:`actors.core.plausible.price_problem`)."""
        number = self.number(value, path)
        problem = price_problem(number)
        if problem is not None:
            raise self.error(path, problem)
        return number

    def quote_price(self, value: Any, path: str) -> float:
        """A bid, ask or last price: ``0 <= value < MAX_PRICE`` (a zero bid means no bid)."""
        return self.number(value, path, non_negative=True, below=MAX_PRICE)

    def contracts(self, value: Any, path: str) -> float:
        """A contract volume or open interest: a whole number, ``0 <= n < MAX_CONTRACTS``."""
        number = self.number(value, path, non_negative=True, below=MAX_CONTRACTS)
        if number != math.floor(number):
            raise self.error(path, f"expected a whole number of contracts, got {number!r}")
        return number

    def in_range(
        self, date: dt.date, path: str, *, latest: dt.date | None = None, earliest: dt.date = EARLIEST_DATE
    ) -> dt.date:
        """``date`` itself when ``earliest <= date <= latest`` (default: today + FUTURE_SLACK)."""
        if latest is None:
            latest = self.today + FUTURE_SLACK
        if date < earliest:
            raise self.error(path, f"date {date.isoformat()} is before {earliest.isoformat()}")
        if date > latest:
            today = self.today.isoformat()
            raise self.error(path, f"date {date.isoformat()} is after {latest.isoformat()} (today {today})")
        return date

    def string(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(path, f"expected a non-empty string, got {_show(value)}")
        return value

    def optional_string(self, value: Any, path: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(path, f"expected a string, got {_show(value)}")
        return value or None

    def iso_date(self, value: Any, path: str) -> dt.date:
        """A ``YYYY-MM-DD`` date within the range of :meth:`in_range` (default bounds)."""
        if not isinstance(value, str) or len(value) > 32:
            raise self.error(path, f"expected a date YYYY-MM-DD, got {_show(value)}")
        try:
            date = dt.date.fromisoformat(value)
        except ValueError:
            raise self.error(path, f"expected a date YYYY-MM-DD, got {_show(value)}") from None
        return self.in_range(date, path)

    def unix(self, value: Any, path: str, *, latest: dt.date | None = None) -> dt.datetime:
        """A unix timestamp in seconds as an aware UTC datetime, dated no later than ``latest``
        (default today + FUTURE_SLACK; pass a later bound for future events such as expiries)."""
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < _MAX_UNIX:
            raise self.error(path, f"expected a unix timestamp in seconds, got {_show(value)}")
        moment = dt.datetime.fromtimestamp(value, dt.timezone.utc)
        self.in_range(moment.date(), path, latest=latest)
        return moment

    def symbol(self, value: Any, path: str) -> str:
        """The document's symbol, which must be the ticker asked for."""
        got = self.string(value, path)
        if got.strip().upper().lstrip("^_") != self.ticker.upper().lstrip("^_"):
            raise self.error(path, f"expected symbol {self.ticker!r}, got {got!r}")
        return got


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: f"a string {_show(value)}", bool: f"{value}"}.get(
        type(value), _show(value)
    )


def parse_occ_symbol(symbol: str) -> tuple[str, dt.date, OptionType, float]:
    """``"AAPL260724C00110000"`` → ``("AAPL", date(2026, 7, 24), CALL, 110.0)``.

    Raises:
        ValueError: when ``symbol`` is not an OCC option symbol.
    """
    match = _OCC.match(symbol)
    if match is None:
        raise ValueError(f"not an OCC option symbol: {symbol!r}")
    root, yy, mm, dd, kind, strike = match.groups()
    try:
        expiry = dt.date(2000 + int(yy), int(mm), int(dd))
    except ValueError:
        raise ValueError(f"bad expiry date in OCC symbol {symbol!r}") from None
    if int(strike) == 0:
        raise ValueError(f"zero strike in OCC symbol {symbol!r}")
    return root, expiry, OptionType.CALL if kind == "C" else OptionType.PUT, int(strike) / 1000.0


def expiry_window(as_of: dt.datetime) -> tuple[dt.date, dt.date]:
    """Expiries a chain stamped ``as_of`` may list: from a week before it to MAX_EXPIRY_YEARS after."""
    day = as_of.date()
    return day - dt.timedelta(days=7), day.replace(year=day.year + MAX_EXPIRY_YEARS, day=min(day.day, 28))


_NAMES = ("date", "open", "high", "low", "close", "volume")


class BarBuilder:
    """Collects validated bars: plausible prices (:func:`~actors.core.plausible.price_problem`),
    high >= low, a plausible volume, dates from 1970 to today and strictly increasing.

    A bad bar fails the whole history (see the module docstring): the error names its field.
    """

    __slots__ = ("_last", "_latest", "bars", "reader")

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.bars: list[Bar] = []
        self._last: dt.date | None = None
        self._latest = reader.today + FUTURE_SLACK

    def add(
        self, path: str, date: dt.date, o: float, h: float, l: float, c: float, v: float,
        names: tuple[str, str, str, str, str, str] = _NAMES,
    ) -> None:
        """Add one bar read from ``path``; ``names`` are its fields (date, open, high, low, close, volume)."""
        reader = self.reader
        plausible = (  # one chained test for the common case (NaN fails every comparison)
            MIN_PRICE <= o < MAX_PRICE
            and MIN_PRICE <= h < MAX_PRICE
            and MIN_PRICE <= l < MAX_PRICE
            and MIN_PRICE <= c < MAX_PRICE
            and 0 <= v < MAX_VOLUME
            and EARLIEST_DATE <= date <= self._latest
        )
        if not plausible:  # find and name the field
            for name, value in zip(names[1:5], (o, h, l, c)):
                problem = price_problem(value)
                if problem is not None:
                    raise reader.error(join(path, name), problem)
            problem = volume_problem(v)
            if problem is not None:
                raise reader.error(join(path, names[5]), problem)
            reader.in_range(date, join(path, names[0]))
        if h < l:
            raise reader.error(join(path, names[2]), f"high {h!r} is below low {l!r}")
        last = self._last
        if last is not None and date <= last:
            why = "duplicate date" if date == last else "bars out of order"
            raise reader.error(join(path, names[0]), f"{why}: {date.isoformat()} after {last.isoformat()}")
        self._last = date
        self.bars.append(Bar(date, o, h, l, c, v))


class Dropped:
    """Independent items of one document (contracts, headlines) read one by one: a bad item is
    dropped and counted instead of failing the document; :meth:`report` logs the count at INFO
    with the first reason, and fails the document when nothing was left."""

    __slots__ = ("count", "first", "reader", "what")

    def __init__(self, reader: Reader, what: str) -> None:
        self.reader = reader
        self.what = what
        self.count = 0
        self.first: str | None = None

    def read(self, parse: Callable[..., _T], *args: Any) -> _T | None:
        """``parse(*args)``, or None (counted) when it raises MalformedData."""
        try:
            return parse(*args)
        except MalformedData as exc:
            self.count += 1
            if self.first is None:
                self.first = exc.message
            return None

    def report(self, total: int, path: str, *, allow_empty: bool = False) -> None:
        """Log what was dropped of ``total`` items at ``path``.

        Raises:
            MalformedData: every one of ``total`` (> 0) items was dropped and ``allow_empty`` is False.
        """
        if not self.count:
            return
        r = self.reader
        if self.count == total and not allow_empty:
            raise r.error(path, f"every one of the {total} {self.what} has a bad value; first: {self.first}")
        logger.info(
            "%s %s: dropped %d of %d %s with a bad value; first: %s",
            r.ticker, r.piece, self.count, total, self.what, self.first,
        )
