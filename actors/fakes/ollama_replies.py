"""The bodies the fake Ollama server sends, in the real Ollama API's shapes.

Chat chunks look like ``{"model", "created_at", "message": {"role": "assistant", "content"},
"done": false}`` and the last one adds ``done_reason`` and the timing/count fields; generate
chunks carry ``response`` instead of ``message``. ``reply_content`` decides the text: JSON
fitting the request's ``format`` schema, some JSON object for ``"format": "json"``, plain
prose otherwise, and for a ``malformed`` outcome something that is not valid JSON or does not
fit the schema. Pure apart from reading the wall clock for ``created_at``.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from typing import Any

from actors.fakes.debate_replies import debate_document, debate_role, parse_setup
from actors.fakes.news_replies import news_reply
from actors.fakes.ollama_schema import find_subject, sample

__all__ = [
    "chat_chunk",
    "chat_final",
    "error_body",
    "generate_chunk",
    "generate_final",
    "prompt_text",
    "load_body",
    "reply_content",
    "runaway_opening",
    "runaway_piece",
    "split_content",
    "tags_body",
    "ps_body",
    "created_at",
]

_MODIFIED_AT = "2025-01-06T09:12:44.123456789Z"
_SENTENCES = (
    "Momentum has been steady over the last month.",
    "Implied volatility sits near its one-year median.",
    "The next earnings date is a known catalyst.",
    "Options volume is concentrated in near-dated calls.",
    "Support held twice at the 50-day moving average.",
    "Sector peers have moved in the same direction.",
)
_BROKEN_TAILS = ("<|im_end|>", "\ufffd\ufffd", "[truncated]")


def created_at(now: datetime.datetime | None = None) -> str:
    """An RFC 3339 UTC timestamp as Ollama writes it (``2025-01-06T09:12:44.123456Z``)."""
    now = now or datetime.datetime.now(datetime.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def prompt_text(request: Mapping[str, Any]) -> str:
    """All the text the model was given: chat messages' contents, or generate's system + prompt."""
    parts: list[str] = []
    messages = request.get("messages")
    if isinstance(messages, Sequence) and not isinstance(messages, str):
        for message in messages:
            if isinstance(message, Mapping) and isinstance(message.get("content"), str):
                parts.append(message["content"])
    for key in ("system", "prompt"):
        if isinstance(request.get(key), str):
            parts.append(request[key])
    return "\n".join(parts)


def reply_content(request: Mapping[str, Any], *, rng: random.Random, number: int, malformed: bool) -> str:
    """The assistant's whole reply text for request ``number`` (raises ``ValueError`` for a bad schema)."""
    subject = find_subject(prompt_text(request))
    fmt = request.get("format")
    if isinstance(fmt, Mapping):
        text = prompt_text(request)
        news = news_reply(fmt, text)  # the news scorer's schemas: plausible, deterministic
        # A malformed reply breaks the generic sample, drawn as before (the same seed breaks it the same way).
        debate = None if malformed or news is not None else _debate_reply(fmt, text, rng)
        document = news if news is not None else (debate or sample(fmt, rng=rng, subject=subject))
        good = json.dumps(document)
        return _break(good, rng, wrong_shape=_wrong_shape(fmt, subject)) if malformed else good
    if fmt == "json":
        good = json.dumps({"reply": f"Synthetic reply {number + 1} about {subject}", "subject": subject})
        return _break(good, rng, wrong_shape=None) if malformed else good
    sentences = rng.sample(_SENTENCES, k=3)
    text = f"Synthetic reply {number + 1} about {subject}. " + " ".join(sentences)
    if malformed:
        return text[: len(text) // 2] + rng.choice(_BROKEN_TAILS)
    return text


def _debate_reply(schema: Mapping[str, Any], prompt: str, rng: random.Random) -> dict[str, Any] | None:
    """A bull, bear or risk reply about the prompt's ticker and numbers; None for other schemas."""
    role = debate_role(schema, prompt)
    setup = parse_setup(prompt) if role else None
    return debate_document(role, setup, rng) if role and setup else None


def _wrong_shape(schema: Mapping[str, Any], subject: str) -> str | None:
    """Valid JSON that cannot fit ``schema`` (None when the schema accepts anything)."""
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return json.dumps([f"Synthetic answer about {subject}"])
    if kind is not None or "enum" in schema:
        return json.dumps({"answer": f"Synthetic answer about {subject}"})
    return None


def _break(good: str, rng: random.Random, *, wrong_shape: str | None) -> str:
    """A reply a small model might give instead of ``good``: cut short, chatty, or the wrong shape."""
    choices = ["truncated", "chatty"] + (["wrong_shape"] if wrong_shape else [])
    how = rng.choice(choices)
    if how == "truncated":
        return good[: max(1, len(good) // 2)]
    if how == "chatty":
        return f"Sure! Here is the JSON you asked for:\n{good}\nLet me know if you need anything else."
    assert wrong_shape is not None
    return wrong_shape


def split_content(content: str, pieces: int) -> list[str]:
    """``content`` cut into ``pieces`` consecutive parts of near-equal length (fewer if it is short)."""
    pieces = max(1, min(pieces, len(content)))
    size, extra = divmod(len(content), pieces)
    out, start = [], 0
    for i in range(pieces):
        end = start + size + (1 if i < extra else 0)
        out.append(content[start:end])
        start = end
    return out


def chat_chunk(model: str, piece: str) -> dict[str, Any]:
    """One streamed chat chunk (``done: false``)."""
    return {
        "model": model,
        "created_at": created_at(),
        "message": {"role": "assistant", "content": piece},
        "done": False,
    }


def generate_chunk(model: str, piece: str) -> dict[str, Any]:
    """One streamed generate chunk (``done: false``)."""
    return {"model": model, "created_at": created_at(), "response": piece, "done": False}


#: Filler a runaway model repeats, one token per word (a looping small model under a grammar).
_RUNAWAY_WORD = " and"


def runaway_opening(request: Mapping[str, Any]) -> str:
    """How a runaway reply starts: an open JSON string when a format is asked for, else prose."""
    fmt = request.get("format")
    if isinstance(fmt, Mapping) or fmt == "json":
        return '{"summary": "It goes up'
    return "It goes up"


def runaway_piece(tokens: int) -> str:
    """``tokens`` tokens of filler (a runaway reply streams these until the cap, or for ever)."""
    return _RUNAWAY_WORD * tokens


def _done_fields(*, prompt: str, content: str, total: float, load: float, evaluating: float,
                 eval_count: int | None = None, done_reason: str = "stop") -> dict[str, Any]:
    prompt_tokens = max(1, len(prompt) // 4)
    return {
        "done": True,
        "done_reason": done_reason,
        "total_duration": int(total * 1e9),
        "load_duration": int(load * 1e9),
        "prompt_eval_count": prompt_tokens,
        "prompt_eval_duration": int(prompt_tokens * 2e5),
        "eval_count": max(1, len(content) // 4) if eval_count is None else eval_count,
        "eval_duration": int(evaluating * 1e9),
    }


def chat_final(model: str, *, content: str, generated: str, prompt: str, total: float, load: float,
               evaluating: float, eval_count: int | None = None, done_reason: str = "stop") -> dict[str, Any]:
    """The last chat object: ``content`` is the whole reply when not streaming, empty after a stream;
    ``generated`` is the whole reply either way (it sets ``eval_count`` unless given);
    ``done_reason`` is ``"length"`` when the output cap stopped the reply."""
    return {
        "model": model,
        "created_at": created_at(),
        "message": {"role": "assistant", "content": content},
        **_done_fields(prompt=prompt, content=generated, total=total, load=load, evaluating=evaluating,
                       eval_count=eval_count, done_reason=done_reason),
    }


def generate_final(model: str, *, content: str, generated: str, prompt: str, total: float, load: float,
                   evaluating: float, eval_count: int | None = None, done_reason: str = "stop") -> dict[str, Any]:
    """The last generate object, with the ``context`` token list the real API returns."""
    return {
        "model": model,
        "created_at": created_at(),
        "response": content,
        **_done_fields(prompt=prompt, content=generated, total=total, load=load, evaluating=evaluating,
                       eval_count=eval_count, done_reason=done_reason),
        "context": [1, 2, 3],
    }


def load_body(model: str, *, load: float, chat: bool) -> dict[str, Any]:
    """The answer to a request with nothing to generate (Ollama's "load the model" call)."""
    body: dict[str, Any] = {"model": model, "created_at": created_at(), "done": True, "done_reason": "load",
                            "total_duration": int(load * 1e9), "load_duration": int(load * 1e9)}
    if chat:
        body["message"] = {"role": "assistant", "content": ""}
    else:
        body["response"] = ""
    return body


def error_body(message: str) -> dict[str, str]:
    """Ollama's error document."""
    return {"error": message}


def _model_entry(name: str) -> dict[str, Any]:
    digest = hashlib.sha256(name.encode()).hexdigest()
    family = name.split(":")[0].rstrip("0123456789.") or "llama"
    return {
        "name": name,
        "model": name,
        "modified_at": _MODIFIED_AT,
        "size": 4_920_753_328,
        "digest": digest,
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": family,
            "families": [family],
            "parameter_size": "8.0B",
            "quantization_level": "Q4_K_M",
        },
    }


def tags_body(models: Sequence[str]) -> dict[str, Any]:
    """``GET /api/tags``: the pulled models."""
    return {"models": [_model_entry(m) for m in models]}


def ps_body(models: Sequence[str]) -> dict[str, Any]:
    """``GET /api/ps``: the loaded models (all of them, resident for five more minutes)."""
    expires = created_at(datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5))
    return {
        "models": [
            {**_model_entry(m), "expires_at": expires, "size_vram": 4_920_753_328}
            for m in models
        ]
    }
