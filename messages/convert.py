"""The one cattrs converter, and error reports that say *where* a document is wrong.

``structure(data, cls)`` turns JSON-shaped data (provider payloads, LLM replies) into our
attrs classes. It raises :class:`DocumentError` listing every bad field with its path
(``$.data.options[3].bid: expected a number, got 'x'``). It never lets a bare ``KeyError`` or
``TypeError`` escape to callers.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import ForbiddenExtraKeysError
from cattrs.v import transform_error

T = TypeVar("T")

__all__ = ["DocumentError", "converter", "lenient_converter", "structure", "unstructure"]


class DocumentError(ValueError):
    """A JSON document does not fit the schema; ``problems`` lists each bad field and its path."""

    def __init__(self, what: str, problems: list[str]) -> None:
        self.what = what
        self.problems = tuple(problems)
        shown = "; ".join(self.problems[:8])
        more = f" (+{len(self.problems) - 8} more)" if len(self.problems) > 8 else ""
        super().__init__(f"{what}: {shown}{more}")


def _structure_float(value: Any, _type: type) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {value!r:.40}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"expected a finite number, got {value!r}")
    return result


def _structure_int(value: Any, _type: type) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise ValueError(f"expected an integer, got {value!r:.40}")
    return int(value)


def _structure_str(value: Any, _type: type) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r:.40}")
    return value


def _structure_date(value: Any, _type: type) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO date (YYYY-MM-DD), got {value!r:.40}")
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise ValueError(f"expected an ISO date (YYYY-MM-DD), got {value!r:.40}") from None


def _structure_datetime(value: Any, _type: type) -> dt.datetime:
    if isinstance(value, dt.datetime):
        result = value
    elif isinstance(value, str):
        try:
            result = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"expected an ISO timestamp, got {value!r:.40}") from None
    else:
        raise ValueError(f"expected an ISO timestamp, got {value!r:.40}")
    return result if result.tzinfo else result.replace(tzinfo=dt.timezone.utc)


def _structure_enum(value: Any, type_: type[enum.Enum]) -> enum.Enum:
    if isinstance(value, str):
        lowered = value.strip().lower()
        for member in type_:
            if str(member.value).lower() == lowered:
                return member
    allowed = ", ".join(repr(m.value) for m in type_)
    raise ValueError(f"expected one of {allowed}, got {value!r:.40}")


def _format_exception(exc: BaseException, type_: Any) -> str:
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, ForbiddenExtraKeysError):
        return f"unexpected field(s) {', '.join(sorted(exc.extra_fields))}"
    if isinstance(exc, (ValueError, TypeError)) and str(exc):
        name = getattr(type_, "__name__", None)
        if isinstance(exc, TypeError) and name:
            return f"expected {name}: {exc}"
        return str(exc)
    name = getattr(type_, "__name__", repr(type_))
    return f"invalid value for {name}"


def _make(forbid_extra_keys: bool) -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=forbid_extra_keys, detailed_validation=True)
    conv.register_structure_hook(float, _structure_float)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(dt.date, _structure_date)
    conv.register_structure_hook(dt.datetime, _structure_datetime)
    conv.register_structure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, enum.Enum), _structure_enum
    )
    conv.register_unstructure_hook(dt.date, lambda d: d.isoformat())
    conv.register_unstructure_hook(dt.datetime, lambda d: d.isoformat())
    return conv


#: Our own schemas (LLM replies, config): extra keys are errors.
converter = _make(forbid_extra_keys=True)
#: Other people's schemas (provider payloads): extra keys are ignored.
lenient_converter = _make(forbid_extra_keys=False)


def structure(data: Any, cls: type[T], *, what: str | None = None, strict: bool = True) -> T:
    """Turn JSON-shaped ``data`` into ``cls``.

    Raises:
        DocumentError: listing every bad field as ``$.path: reason``.
    """
    conv = converter if strict else lenient_converter
    label = what or getattr(cls, "__name__", str(cls))
    if attrs.has(cls) and not isinstance(data, dict):
        raise DocumentError(label, [f"$: expected a JSON object, got {type(data).__name__}"])
    try:
        return conv.structure(data, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError, AttributeError) as exc:
        if isinstance(exc, cattrs.BaseValidationError):
            problems = [_swap(m) for m in transform_error(exc, path="$", format_exception=_format_exception)]
        else:
            problems = [f"$: {_format_exception(exc, cls)}"]
        raise DocumentError(label, problems) from exc


def _swap(message: str) -> str:
    # cattrs says "reason @ $.path"; we say "$.path: reason".
    reason, sep, path = message.rpartition(" @ ")
    return f"{path}: {reason}" if sep else message


def unstructure(value: Any) -> Any:
    """The JSON-shaped form of a message (enums as values, dates as ISO strings)."""
    return converter.unstructure(value)
