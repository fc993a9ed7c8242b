"""Structured output: a JSON schema from an attrs reply class, and strict parsing of the reply.

Pure: imports neither trio nor any client. The schema goes to Ollama's ``format=`` (grammar-
constrained decoding) and into Claude's system prompt; the reply is validated the same way for
both with :func:`messages.convert.structure` (strict: unknown keys are errors).

Schema rules: ``str``/``int``/``float``/``bool`` → JSON types; enums → ``{"type": "string",
"enum": [...]}``; ``tuple[X, ...]`` → arrays; ``X | None`` → ``anyOf``; nested attrs classes →
nested objects; fields without a default are ``required``; ``additionalProperties: false``.
Bounds are read from attrs ``ge``/``le``/``gt``/``lt``/``min_len``/``max_len``/``in_``
validators (also inside ``and_``); anything else can be given as field metadata
``{"json_schema": {...}}``, which is merged last.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
import types
import typing
from typing import Any, TypeVar

import attrs

from messages.convert import DocumentError, structure

__all__ = [
    "ReplyInvalid",
    "json_schema",
    "parse_reply",
    "schema_instruction",
    "strict_retry_instruction",
    "truncated_retry_instruction",
]

T = TypeVar("T")

_NUMBER_KEYS = {">=": "minimum", "<=": "maximum", ">": "exclusiveMinimum", "<": "exclusiveMaximum"}
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


class ReplyInvalid(ValueError):
    """An LLM reply is not a JSON object fitting the schema; ``problems`` lists what is wrong, by path."""

    def __init__(self, what: str, problems: list[str] | tuple[str, ...], excerpt: str = "") -> None:
        self.what = what
        self.problems = tuple(problems)
        self.excerpt = excerpt
        super().__init__(f"{what} reply invalid: {'; '.join(self.problems[:8])}")


def json_schema(cls: type) -> dict[str, Any]:
    """The JSON schema of an attrs class (see the module docstring for the mapping).

    Raises:
        TypeError: ``cls`` is not an attrs class, or a field has a type with no JSON form.
    """
    if not attrs.has(cls):
        raise TypeError(f"json_schema needs an attrs class, got {cls!r}")
    try:
        hints = typing.get_type_hints(cls)
    except NameError as exc:
        raise TypeError(f"cannot resolve the annotations of {cls.__name__}: {exc}") from None
    properties: dict[str, Any] = {}
    required: list[str] = []
    for field in attrs.fields(cls):
        if not field.init:
            continue
        name = field.alias or field.name
        try:
            schema = _type_schema(hints.get(field.name, field.type))
        except TypeError as exc:
            raise TypeError(f"{cls.__name__}.{field.name}: {exc}") from None
        schema.update(_validator_schema(field.validator, schema.get("type")))
        schema.update(field.metadata.get("json_schema", {}))
        properties[name] = schema
        if field.default is attrs.NOTHING:
            required.append(name)
    return {
        "title": cls.__name__,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _type_schema(tp: Any) -> dict[str, Any]:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is str:
        return {"type": "string"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return {"type": "number"}
    if tp is dt.datetime:
        return {"type": "string", "format": "date-time"}
    if tp is dt.date:
        return {"type": "string", "format": "date"}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"type": "string", "enum": [member.value for member in tp]}
    if isinstance(tp, type) and attrs.has(tp):
        return json_schema(tp)
    if origin in (tuple, list, typing.Sequence) or (origin is not None and origin.__name__ == "Sequence"):
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return {"type": "array", "prefixItems": [_type_schema(a) for a in args], "items": False}
        return {"type": "array", "items": _type_schema(args[0]) if args else {}}
    if origin in (typing.Union, types.UnionType):
        options = [_type_schema(a) for a in args if a is not type(None)]
        if type(None) in args:
            options.append({"type": "null"})
        return options[0] if len(options) == 1 else {"anyOf": options}
    if tp is type(None):
        return {"type": "null"}
    raise TypeError(f"no JSON schema for type {tp!r}")


def _validators(validator: Any) -> list[Any]:
    if validator is None:
        return []
    inner = getattr(validator, "_validators", None)
    if inner is not None:  # attrs.validators.and_
        return [v for sub in inner for v in _validators(sub)]
    return [validator]


def _validator_schema(validator: Any, json_type: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {}
    for v in _validators(validator):
        op = getattr(v, "compare_op", None)
        if op in _NUMBER_KEYS and isinstance(getattr(v, "bound", None), (int, float)):
            schema[_NUMBER_KEYS[op]] = v.bound
        elif hasattr(v, "min_length"):
            schema["minItems" if json_type == "array" else "minLength"] = v.min_length
        elif hasattr(v, "max_length"):
            schema["maxItems" if json_type == "array" else "maxLength"] = v.max_length
        elif hasattr(v, "options") and type(v).__name__ == "_InValidator":
            values = [o.value if isinstance(o, enum.Enum) else o for o in v.options]
            if all(isinstance(o, (str, int, float)) for o in values):
                schema["enum"] = values
    return schema


def schema_instruction(cls: type) -> str:
    """The instruction that asks for a JSON reply, with the schema spelled out (for prompts)."""
    schema = json.dumps(json_schema(cls), separators=(",", ":"))
    return (
        "Reply with only a JSON object matching this JSON schema, with no prose and no code "
        f"fences:\n{schema}"
    )


def strict_retry_instruction(problems: tuple[str, ...] | list[str]) -> str:
    """The stricter instruction appended when a reply did not parse (lists the problems found)."""
    listed = "\n".join(f"- {p}" for p in problems[:10])
    return (
        "Your previous reply was not valid. Reply with only a JSON object matching the schema: "
        "no prose before or after it, no code fences, every required field present, no other "
        f"fields, values within their allowed ranges and enums.\nProblems found:\n{listed}"
    )


def truncated_retry_instruction() -> str:
    """The stricter instruction appended when a reply was stopped by the output cap."""
    return (
        "Your previous reply was cut off at the length limit before the JSON object was complete. "
        "Reply again with only a JSON object matching the schema: no prose, no code fences, no "
        "repetition; keep every string short (one sentence) and list only the most important points."
    )


def extract_json_object(text: str) -> Any:
    """The first JSON object in ``text`` (tolerates ```json fences and prose around it).

    Raises:
        ReplyInvalid: no JSON object can be found or decoded.
    """
    stripped = text.strip()
    if not stripped:
        raise ReplyInvalid("reply", ["$: the reply is empty"])
    candidates = [m.group(1) for m in _FENCE.finditer(stripped)] + [stripped]
    decoder = json.JSONDecoder()
    first_error: str | None = None
    for candidate in candidates:
        start = candidate.find("{")
        while start != -1:
            try:
                value, _end = decoder.raw_decode(candidate, start)
            except json.JSONDecodeError as exc:
                first_error = first_error or f"$: not valid JSON: {exc.msg} at char {exc.pos}"
            else:
                if isinstance(value, dict):
                    return value
            start = candidate.find("{", start + 1)
    problem = first_error or "$: expected a JSON object, found none in the reply"
    raise ReplyInvalid("reply", [problem], excerpt=stripped[:200])


def parse_reply(text: str, cls: type[T]) -> T:
    """Parse an LLM reply into ``cls``, strictly (unknown keys, bad enums and ranges are errors).

    Raises:
        ReplyInvalid: with ``problems`` as ``$.path: reason`` strings.
    """
    what = getattr(cls, "__name__", str(cls))
    try:
        data = extract_json_object(text)
    except ReplyInvalid as exc:
        raise ReplyInvalid(what, exc.problems, exc.excerpt) from None
    try:
        return structure(data, cls, what=what, strict=True)
    except DocumentError as exc:
        raise ReplyInvalid(what, exc.problems, text.strip()[:200]) from exc
