"""The fake Ollama server's fault profile: what it is, how it is checked, and which fault a request gets.

A ``Profile`` comes from command-line flags (``--http-500 0.1``), from the JSON body of
``POST /_fake/config`` (``{"http_500": 0.1}``) or from keyword arguments of the test helper; all
three use the same keys. Each generation request (``/api/chat``, ``/api/generate``) is numbered
from 0 since the last reset or config change, and ``plan_outcome(profile, n)`` decides its fate:

- a ``script`` (``"ok*3,http_500,malformed,ok*"``) gives request *n* the *n*-th entry;
  ``name*K`` repeats an entry K times, ``name*`` repeats it forever (last entry only). Once a
  finite script is used up, requests fall back to the probabilities;
- otherwise one draw from ``request_rng(seed, n)`` against the fault probabilities
  (``http_500`` ... ``runaway``; their sum is at most 1, the rest is ``ok``).

``runaway`` is a model that never stops: filler streams until the request's
``options.num_predict`` tokens (then ``done_reason: "length"``), or for ever when none is sent.
``load_time`` is a cold model load: the first request after start, or after the request's
``keep_alive`` ran out, waits that long before its first chunk
(:func:`actors.llm.keep_alive.keep_alive_seconds`).

The same ``request_rng(seed, n)`` drives the reply text, so a seed and a request number always
give the same outcome and the same content. Pure: no I/O, no trio.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import attrs

from actors.errors import ConfigError

__all__ = [
    "FAULTS",
    "OUTCOMES",
    "Profile",
    "ScriptEntry",
    "parse_script",
    "plan_outcome",
    "request_rng",
]

#: Faults that have a probability, in the order a draw tests them.
#: New faults go at the end, so a seed keeps drawing the same outcomes for the older ones.
FAULTS = ("http_500", "http_503", "http_429", "malformed", "stall", "drop", "hang", "model_missing", "runaway")
#: Everything a script entry may name.
OUTCOMES = ("ok", *FAULTS)
DEFAULT_MODEL = "llama3.1:8b"


@attrs.frozen
class ScriptEntry:
    """One step of a script: ``outcome`` for ``count`` requests (``None``: forever)."""

    outcome: str
    count: int | None = 1

    def render(self) -> str:
        if self.count is None:
            return f"{self.outcome}*"
        return self.outcome if self.count == 1 else f"{self.outcome}*{self.count}"


def parse_script(text: str, *, outcomes: tuple[str, ...] = OUTCOMES, tool: str = "fake-ollama") -> tuple[ScriptEntry, ...]:
    """``"ok*3,http_500,ok*"`` → entries; raises ``ConfigError`` naming the bad entry.

    ``outcomes`` are the names allowed (another fake server passes its own), ``tool`` names it in errors.
    """
    entries: list[ScriptEntry] = []
    parts = [p.strip() for p in text.split(",")] if text.strip() else []
    for i, part in enumerate(parts, start=1):
        name, star, count_text = part.partition("*")
        name = name.strip()
        if name not in outcomes:
            raise ConfigError(
                f"{tool} script entry {i} {part!r}: unknown outcome {name!r}; "
                f"allowed: {', '.join(outcomes)}"
            )
        count: int | None = 1
        if star:
            count_text = count_text.strip()
            if not count_text:
                count = None
            elif count_text.isdigit() and int(count_text) > 0:
                count = int(count_text)
            else:
                raise ConfigError(
                    f"{tool} script entry {i} {part!r}: the count after '*' must be a "
                    f"positive integer or nothing (forever), got {count_text!r}"
                )
        if count is None and i != len(parts):
            raise ConfigError(
                f"{tool} script entry {i} {part!r} repeats forever, so it must be the last entry"
            )
        entries.append(ScriptEntry(name, count))
    return tuple(entries)


def _probability(_inst: object, attribute: attrs.Attribute, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"fake-ollama {attribute.name} must be a probability from 0 to 1, got {value}")


def _non_negative(_inst: object, attribute: attrs.Attribute, value: float) -> None:
    if value < 0:
        raise ConfigError(f"fake-ollama {attribute.name} must be >= 0 seconds, got {value}")


def _at_least_one(_inst: object, attribute: attrs.Attribute, value: int) -> None:
    if value < 1:
        raise ConfigError(f"fake-ollama {attribute.name} must be >= 1, got {value}")


def _not_negative_count(_inst: object, attribute: attrs.Attribute, value: int) -> None:
    if value < 0:
        raise ConfigError(f"fake-ollama {attribute.name} must be an integer >= 0 (0: no limit), got {value}")


def _models(_inst: object, attribute: attrs.Attribute, value: tuple[str, ...]) -> None:
    if not value or not all(isinstance(m, str) and m.strip() for m in value):
        raise ConfigError(f"fake-ollama models must be a non-empty list of model names, got {list(value)}")


def _script(value: Any) -> tuple[ScriptEntry, ...]:
    if isinstance(value, str):
        return parse_script(value)
    if isinstance(value, tuple) and all(isinstance(e, ScriptEntry) for e in value):
        return value
    raise ConfigError(f"fake-ollama script must be a string like 'ok*3,hang*', got {value!r}")


def _float_field(validator: Any, default: float = 0.0) -> Any:
    return attrs.field(default=default, converter=float, validator=validator)


@attrs.frozen(kw_only=True)
class Profile:
    """Everything that shapes the fake server's answers; see the module docstring."""

    models: tuple[str, ...] = attrs.field(
        default=(DEFAULT_MODEL,), converter=lambda v: (v,) if isinstance(v, str) else tuple(v), validator=_models
    )
    seed: int = attrs.field(default=0, converter=int)
    latency_first: float = _float_field(_non_negative)  # before the response head / first chunk
    load_time: float = _float_field(_non_negative)  # a cold model load before the first chunk
    chunk_interval: float = _float_field(_non_negative)  # between streamed chunks
    chunks: int = attrs.field(default=4, converter=int, validator=_at_least_one)  # content pieces
    stall_after: int = attrs.field(default=1, converter=int, validator=_at_least_one)  # chunks before stall/drop
    retry_after: int = attrs.field(default=1, converter=int, validator=_at_least_one)  # 429/503 Retry-After
    #: Generation requests served at once (OLLAMA_NUM_PARALLEL); the rest wait their turn. 0: no limit.
    parallel: int = attrs.field(default=0, converter=int, validator=_not_negative_count)
    http_500: float = _float_field(_probability)
    http_503: float = _float_field(_probability)
    http_429: float = _float_field(_probability)
    malformed: float = _float_field(_probability)
    stall: float = _float_field(_probability)
    drop: float = _float_field(_probability)
    hang: float = _float_field(_probability)
    model_missing: float = _float_field(_probability)
    runaway: float = _float_field(_probability)
    script: tuple[ScriptEntry, ...] = attrs.field(default=(), converter=_script)
    hang_all: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    tags_hang: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))

    def __attrs_post_init__(self) -> None:
        total = sum(getattr(self, f) for f in FAULTS)
        if total > 1.0 + 1e-9:
            raise ConfigError(f"fake-ollama fault probabilities add up to {total:g}; at most 1 is allowed")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, base: Profile | None = None) -> Profile:
        """``base`` with the keys of ``data`` replaced; unknown keys and bad values raise ``ConfigError``."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"fake-ollama config must be a JSON object, got {type(data).__name__}")
        known = {a.name for a in attrs.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"fake-ollama config: unknown key(s) {unknown}; allowed: {sorted(known)}")
        try:
            return attrs.evolve(base or cls(), **data)
        except ConfigError:
            raise
        except (TypeError, ValueError) as exc:
            bad = ", ".join(f"{k}={v!r}" for k, v in data.items())
            raise ConfigError(f"fake-ollama config: bad value in {bad}: {exc}") from None

    def to_json(self) -> dict[str, Any]:
        """The profile as the JSON that ``from_mapping`` accepts."""
        out = attrs.asdict(self, recurse=False)
        out["models"] = list(self.models)
        out["script"] = ",".join(e.render() for e in self.script)
        return out

    def to_argv(self) -> list[str]:
        """The profile as ``fake-ollama`` command-line flags (only what differs from the defaults)."""
        argv: list[str] = []
        default = Profile()
        for name, value in self.to_json().items():
            if value == default.to_json()[name]:
                continue
            flag = "--" + name.replace("_", "-")
            if name == "models":
                for model in value:
                    argv += ["--model", model]
            elif isinstance(value, bool):
                argv.append(flag)
            else:
                argv += [flag, str(value)]
        return argv


def request_rng(seed: int, request_number: int, purpose: str = "outcome") -> random.Random:
    """The random source for one request and purpose: the same seed and number give the same draws."""
    return random.Random(f"{seed}:{request_number}:{purpose}")


def plan_outcome(profile: Profile, request_number: int) -> str:
    """What generation request ``request_number`` (0-based) gets: ``ok`` or one of ``FAULTS``."""
    left = request_number
    for entry in profile.script:
        if entry.count is None or left < entry.count:
            return entry.outcome
        left -= entry.count
    draw = request_rng(profile.seed, request_number).random()
    edge = 0.0
    for fault in FAULTS:
        edge += getattr(profile, fault)
        if draw < edge:
            return fault
    return "ok"
