"""Plausible, deterministic JSON documents for a JSON schema, and a checker for the same subset.

The fake Ollama server answers ``"format": {schema}`` requests with ``sample(schema, ...)``.
Supported: ``type`` (one or a list), ``properties``/``required``, ``enum``, ``const``,
``minimum``/``maximum`` (and the exclusive forms), ``minLength``/``maxLength``, ``format``
(``date-time``, ``date``), ``items``/``minItems``/``maxItems``, ``anyOf``/``oneOf``/``allOf``,
``nullable`` and local ``$ref`` (``#/$defs/...``, ``#/definitions/...``). Anything else is
ignored, as a small model would ignore it.

``violations(value, schema)`` checks a document against the same subset and returns one line
per problem (``$.key_points: expected at least 1 item``); tests use it to prove that good
replies fit and malformed ones do not. Pure: no I/O, no trio.
"""

from __future__ import annotations

import datetime
import math
import random
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["sample", "violations", "find_subject"]

_MAX_DEPTH = 8
_TYPE_ORDER = ("object", "array", "string", "number", "integer", "boolean", "null")
_NOT_TICKERS = frozenset(
    "A I AN AND ARE AS AT BE BUT BY FOR IF IN IS IT JSON NO NOT OF ON OR SO THE TO UP US USD "
    "WE API LLM CEO CFO ETF IPO EPS DTE IV OK EST UTC AI".split()
)


def find_subject(prompt: str) -> str:
    """The ticker a prompt is about (``$AAPL``, ``ticker: AAPL`` or a capitalised word), else ``the market``."""
    for pattern in (r"\$([A-Z]{1,5})\b", r"(?i:ticker)\W{0,3}([A-Z]{1,5})\b"):
        found = re.search(pattern, prompt)
        if found:
            return found.group(1)
    for word in re.findall(r"\b[A-Z]{2,5}\b", prompt):
        if word not in _NOT_TICKERS:
            return word
    return "the market"


def sample(schema: Mapping[str, Any], *, rng: random.Random, subject: str = "the market") -> Any:
    """A document that fits ``schema``, drawn from ``rng`` (same seed, same document)."""
    if not isinstance(schema, Mapping):
        raise ValueError(f"format: a JSON schema must be an object, got {type(schema).__name__}")
    return _Sampler(schema, rng, subject).value(schema, "reply", 0)


class _Sampler:
    def __init__(self, root: Mapping[str, Any], rng: random.Random, subject: str) -> None:
        self.root = root
        self.rng = rng
        self.subject = subject
        self.points = 0

    def value(self, schema: Any, name: str, depth: int) -> Any:
        if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
            return None if depth > _MAX_DEPTH else self.text(name)
        schema = _resolve(self.root, schema)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema and schema["enum"]:
            return self.rng.choice(list(schema["enum"]))
        if "allOf" in schema:
            return self.value(_merge(self.root, schema), name, depth + 1)
        for key in ("anyOf", "oneOf"):
            if schema.get(key):
                branches = [_resolve(self.root, b) for b in schema[key]]
                not_null = [b for b in branches if b.get("type") != "null"]
                pick = self.rng.choice(not_null or branches)
                return self.value(pick, name, depth + 1)
        kind = self.pick_type(schema)
        if kind == "object":
            return self.object(schema, depth)
        if kind == "array":
            return self.array(schema, name, depth)
        if kind == "string":
            return self.string(schema, name)
        if kind in ("number", "integer"):
            return self.number(schema, integer=kind == "integer")
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "null":
            return None
        return self.text(name)

    def pick_type(self, schema: Mapping[str, Any]) -> str:
        kind = schema.get("type")
        if isinstance(kind, list):
            real = [k for k in kind if k != "null"]
            return self.rng.choice(real) if real else "null"
        if isinstance(kind, str):
            return kind
        if "properties" in schema:
            return "object"
        if "items" in schema:
            return "array"
        return "string"

    def object(self, schema: Mapping[str, Any], depth: int) -> dict[str, Any]:
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        out: dict[str, Any] = {}
        for key, sub in properties.items():
            if key in required or self.rng.random() < 0.7:
                out[key] = self.value(sub, key, depth + 1)
        for key in sorted(required - set(properties)):
            out[key] = self.text(key)
        return out

    def array(self, schema: Mapping[str, Any], name: str, depth: int) -> list[Any]:
        low = int(schema.get("minItems", 1))
        high = int(schema.get("maxItems", max(low, 3)))
        count = self.rng.randint(low, max(low, min(high, low + 3)))
        items = schema.get("items", {"type": "string"})
        return [self.value(items, _singular(name), depth + 1) for _ in range(count)]

    def string(self, schema: Mapping[str, Any], name: str) -> str:
        fmt = schema.get("format")
        moment = datetime.datetime(2025, 1, 2, 15, 30, tzinfo=datetime.UTC)
        moment += datetime.timedelta(minutes=self.rng.randint(0, 60 * 24 * 30))
        if fmt == "date-time":
            return moment.isoformat().replace("+00:00", "Z")
        if fmt == "date":
            return moment.date().isoformat()
        text = self.text(name)
        low = int(schema.get("minLength", 0))
        high = schema.get("maxLength")
        while len(text) < low:
            text += f" {self.subject}"
        return text[: int(high)] if high is not None else text

    def text(self, name: str) -> str:
        if name in ("point", "key_point", "risk", "main_risk", "item", "reason"):
            self.points += 1
            return f"Synthetic {name.replace('_', ' ')} {self.points} about {self.subject}"
        return f"Synthetic {name.replace('_', ' ')} about {self.subject}"

    def number(self, schema: Mapping[str, Any], *, integer: bool) -> int | float:
        low, high, low_open, high_open = _limits(schema)
        if integer:
            a = None if low is None else (math.floor(low) + 1 if low_open else math.ceil(low))
            b = None if high is None else (math.ceil(high) - 1 if high_open else math.floor(high))
            a = a if a is not None else (0 if b is None or b >= 0 else b - 100)
            b = b if b is not None else a + 100
            return self.rng.randint(a, max(a, b))
        lo = float(low) if low is not None else (0.0 if high is None or high >= 0 else high - 100.0)
        hi = float(high) if high is not None else lo + 100.0
        value = round(self.rng.uniform(lo, hi), 2)
        if (low_open and value <= lo) or (high_open and value >= hi) or not lo <= value <= hi:
            value = lo + (hi - lo) / 2
        return value


def _limits(schema: Mapping[str, Any]) -> tuple[float | None, float | None, bool, bool]:
    """(low, high, low is exclusive, high is exclusive), for draft-4 and later keyword styles."""
    low, high = schema.get("minimum"), schema.get("maximum")
    low_open = schema.get("exclusiveMinimum") is True
    high_open = schema.get("exclusiveMaximum") is True
    ex_low, ex_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if _is_number(ex_low) and (low is None or ex_low >= low):
        low, low_open = ex_low, True
    if _is_number(ex_high) and (high is None or ex_high <= high):
        high, high_open = ex_high, True
    return low, high, low_open, high_open


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") and len(name) > 3 else name


def _resolve(root: Mapping[str, Any], schema: Mapping[str, Any], hops: int = 0) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return schema
    if not ref.startswith("#/") or hops > _MAX_DEPTH:
        raise ValueError(f"format: only local $ref like '#/$defs/Name' is supported, got {ref!r}")
    target: Any = root
    for part in ref[2:].split("/"):
        if not isinstance(target, Mapping) or part not in target:
            raise ValueError(f"format: $ref {ref!r} points at nothing")
        target = target[part]
    merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return _resolve(root, merged, hops + 1)


def _merge(root: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        part = _resolve(root, part)
        for key, value in part.items():
            if key == "properties":
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required":
                merged["required"] = [*merged.get("required", []), *value]
            else:
                merged.setdefault(key, value)
    return merged


_PY_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "null": (type(None),),
}


def violations(value: Any, schema: Mapping[str, Any], *, _root: Mapping[str, Any] | None = None, _path: str = "$") -> list[str]:
    """Every way ``value`` breaks ``schema`` (same subset as ``sample``), one ``path: why`` line each."""
    root = schema if _root is None else _root
    schema = _resolve(root, schema)
    if "allOf" in schema:
        schema = _merge(root, schema)
    problems: list[str] = []
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            if all(violations(value, b, _root=root, _path=_path) for b in schema[key]):
                problems.append(f"{_path}: fits none of the {key} branches")
            return problems
    if "const" in schema and value != schema["const"]:
        return [f"{_path}: expected {schema['const']!r}, got {value!r}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{_path}: {value!r} is not one of {list(schema['enum'])}"]
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    if schema.get("nullable") and kinds:
        kinds.append("null")
    if kinds and not any(_is(value, k) for k in kinds):
        return [f"{_path}: expected {' or '.join(kinds)}, got {type(value).__name__}"]
    if isinstance(value, dict):
        for key in schema.get("required") or ():
            if key not in value:
                problems.append(f"{_path}: missing required field {key!r}")
        for key, sub in (schema.get("properties") or {}).items():
            if key in value:
                problems += violations(value[key], sub, _root=root, _path=f"{_path}.{key}")
    elif isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            problems.append(f"{_path}: expected at least {schema['minItems']} item(s), got {len(value)}")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            problems.append(f"{_path}: expected at most {schema['maxItems']} item(s), got {len(value)}")
        if isinstance(schema.get("items"), Mapping):
            for i, item in enumerate(value):
                problems += violations(item, schema["items"], _root=root, _path=f"{_path}[{i}]")
    elif isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            problems.append(f"{_path}: shorter than {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            problems.append(f"{_path}: longer than {schema['maxLength']} characters")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        problems += _number_problems(value, schema, _path)
    return problems


def _is(value: Any, kind: str) -> bool:
    if isinstance(value, bool):
        return kind == "boolean"
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _PY_TYPES.get(kind, (object,)))


def _number_problems(value: float, schema: Mapping[str, Any], path: str) -> list[str]:
    low, high, low_open, high_open = _limits(schema)
    if low is not None and (value < low or (low_open and value == low)):
        return [f"{path}: {value} is below the {'exclusive ' if low_open else ''}minimum {low}"]
    if high is not None and (value > high or (high_open and value == high)):
        return [f"{path}: {value} is above the {'exclusive ' if high_open else ''}maximum {high}"]
    return []
