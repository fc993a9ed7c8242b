"""Shared validation for the parsers: field paths, typed reads, JSON decoding and bar checks.

Every problem becomes :class:`~actors.errors.MalformedData` whose message starts with the
field path and says why, e.g. ``data.options[3].bid: expected a number, got 'x'``. Paths use
dots for object keys and ``[i]`` for array items; ``$`` is the whole document; CSV rows are
``line 57.Close``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any

from actors.errors import MalformedData
from messages.market import Bar, OptionType

__all__ = ["BarBuilder", "Reader", "join", "parse_occ_symbol"]

#: Unix timestamps outside 1970..2100 are certainly wrong (ms instead of s, garbage).
_MAX_UNIX = 4_102_444_800

_OCC = re.compile(r"^([A-Z0-9.]{1,6}?)(\d{2})(\d{2})(\d{2})([CP])(\d{8})$")


def join(path: str, key: str | int) -> str:
    """``join("data", "options") == "data.options"``; ``join("data.options", 3) == "data.options[3]"``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path and path != "$" else key


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class Reader:
    """Typed reads of a decoded document on behalf of one ticker and one data piece."""

    __slots__ = ("piece", "ticker")

    def __init__(self, ticker: str, piece: str) -> None:
        self.ticker = ticker
        self.piece = piece

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
            return json.loads(text)
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

    def number(self, value: Any, path: str, *, positive: bool = False, non_negative: bool = False) -> float:
        """A finite JSON number (bools and numeric strings are rejected)."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(path, f"expected a number, got {_show(value)}")
        return self.check_number(float(value), path, positive=positive, non_negative=non_negative)

    def optional_number(self, value: Any, path: str, *, non_negative: bool = False) -> float | None:
        return None if value is None else self.number(value, path, non_negative=non_negative)

    def check_number(self, value: float, path: str, *, positive: bool = False, non_negative: bool = False) -> float:
        if not math.isfinite(value):
            raise self.error(path, f"expected a finite number, got {value!r}")
        if positive and value <= 0:
            raise self.error(path, f"expected a positive number, got {value!r}")
        if non_negative and value < 0:
            raise self.error(path, f"expected a number >= 0, got {value!r}")
        return value

    def csv_number(self, text: str, path: str, *, positive: bool = False, non_negative: bool = False) -> float:
        try:
            value = float(text)
        except ValueError:
            raise self.error(path, f"expected a number, got {_show(text)}") from None
        return self.check_number(value, path, positive=positive, non_negative=non_negative)

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
        if not isinstance(value, str):
            raise self.error(path, f"expected a date YYYY-MM-DD, got {_show(value)}")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise self.error(path, f"expected a date YYYY-MM-DD, got {_show(value)}") from None

    def unix(self, value: Any, path: str) -> dt.datetime:
        """A unix timestamp in seconds as an aware UTC datetime."""
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < _MAX_UNIX:
            raise self.error(path, f"expected a unix timestamp in seconds, got {_show(value)}")
        return dt.datetime.fromtimestamp(value, dt.timezone.utc)

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


_NAMES = ("date", "open", "high", "low", "close", "volume")


class BarBuilder:
    """Collects validated bars: positive finite prices, high >= low, volume >= 0, dates strictly increasing."""

    __slots__ = ("_last", "bars", "reader")

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.bars: list[Bar] = []
        self._last: dt.date | None = None

    def add(
        self, path: str, date: dt.date, o: float, h: float, l: float, c: float, v: float,
        names: tuple[str, str, str, str, str, str] = _NAMES,
    ) -> None:
        """Add one bar read from ``path``; ``names`` are its fields (date, open, high, low, close, volume)."""
        reader = self.reader
        for name, value in zip(names[1:5], (o, h, l, c)):
            if not (value > 0 and math.isfinite(value)):
                why = "finite" if value > 0 or math.isnan(value) else "positive"
                raise reader.error(join(path, name), f"expected a {why} price, got {value!r}")
        if not (v >= 0 and math.isfinite(v)):
            raise reader.error(join(path, names[5]), f"expected a finite volume >= 0, got {v!r}")
        if h < l:
            raise reader.error(join(path, names[2]), f"high {h!r} is below low {l!r}")
        last = self._last
        if last is not None and date <= last:
            why = "duplicate date" if date == last else "bars out of order"
            raise reader.error(join(path, names[0]), f"{why}: {date.isoformat()} after {last.isoformat()}")
        self._last = date
        self.bars.append(Bar(date, o, h, l, c, v))
