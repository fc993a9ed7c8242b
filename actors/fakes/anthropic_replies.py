"""The bodies the fake Anthropic server sends, in the Messages API's shapes (pure: no I/O, no trio).

A streamed reply is server-sent events: ``message_start``, ``content_block_start`` (a
``tool_use`` block when the request forces a tool, else ``text``), ``ping``, one
``content_block_delta`` per piece (``input_json_delta`` / ``text_delta``),
``content_block_stop``, ``message_delta`` (``stop_reason``, output tokens) and ``message_stop``.
Errors are ``{"type": "error", "error": {"type": ..., "message": ...}}``. The reply's content is
JSON fitting the forced tool's ``input_schema``, drawn like fake-ollama's (same sampler, same
``malformed`` breakage), so a seed and a request number always give the same reply.
"""

from __future__ import annotations

import base64
import json
import random
import urllib.parse
from collections.abc import Mapping
from typing import Any

from actors.fakes.ollama_replies import reply_content, split_content

__all__ = ["ERRORS", "echo_key_message", "error_body", "forced_tool", "message_body", "model_body", "reply_events", "sse"]

#: Fault outcome → (HTTP status, error type, message), as the real API answers them.
ERRORS = {
    "unauthorized": (401, "authentication_error", "invalid x-api-key"),
    "rate_limited": (429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
    "overloaded": (529, "overloaded_error", "Overloaded"),
    "server_error": (500, "api_error", "Internal server error"),
}


def sse(event: str, data: Mapping[str, Any]) -> bytes:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def echo_key_message(headers: Mapping[str, str]) -> str:
    """An error message that repeats the request's key: plain, URL-encoded and base64 (``echo_key``)."""
    bearer = headers.get("authorization", "")
    key = headers.get("x-api-key") or (bearer[len("Bearer "):] if bearer.startswith("Bearer ") else "")
    raw = key.encode()
    return (f"header x-api-key={key!r} is not allowed here; url={urllib.parse.quote(key, safe='')} "
            f"b64={base64.b64encode(raw).decode()} auth={base64.b64encode(b'Bearer ' + raw).decode()}")


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


def model_body(model: str) -> dict[str, Any]:
    """``GET /v1/models/{model}``."""
    return {"type": "model", "id": model, "display_name": f"Fake {model}", "created_at": "2025-09-29T00:00:00Z"}


def forced_tool(request: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The tool the request forces with ``tool_choice`` (``{"type": "tool", "name": ...}``), if any."""
    choice = request.get("tool_choice")
    tools = request.get("tools")
    if not isinstance(choice, Mapping) or choice.get("type") != "tool" or not isinstance(tools, list):
        return None
    for tool in tools:
        if isinstance(tool, Mapping) and tool.get("name") == choice.get("name"):
            return tool
    raise ValueError(f"tool_choice names {choice.get('name')!r}, which is not in tools")


def _content(request: Mapping[str, Any], tool: Mapping[str, Any] | None, *, rng: random.Random, number: int,
             malformed: bool) -> str:
    as_ollama: dict[str, Any] = {"messages": request.get("messages") or [], "system": request.get("system")}
    if tool is not None:
        schema = tool.get("input_schema")
        if not isinstance(schema, Mapping):
            raise ValueError(f"tools[{tool.get('name')!r}].input_schema must be a JSON schema object")
        as_ollama["format"] = schema
    return reply_content(as_ollama, rng=rng, number=number, malformed=malformed)


def reply_events(request: Mapping[str, Any], *, rng: random.Random, number: int, chunks: int, malformed: bool = False,
                 max_tokens_cut: bool = False) -> list[bytes]:
    """The events of one streamed reply; ``max_tokens_cut`` stops it half-way with ``stop_reason: max_tokens``.

    Raises:
        ValueError: the request's tools are not usable (the server answers 400).
    """
    tool = forced_tool(request)
    model = str(request.get("model"))
    content = _content(request, tool, rng=rng, number=number, malformed=malformed)
    if max_tokens_cut:
        content = content[: max(1, len(content) // 2)]
    pieces = split_content(content, chunks)
    prompt = json.dumps(request.get("messages") or [])
    if tool is not None:
        block = {"type": "tool_use", "id": f"toolu_fake_{number:06d}", "name": tool["name"], "input": {}}
        delta_type, field = "input_json_delta", "partial_json"
    else:
        block = {"type": "text", "text": ""}
        delta_type, field = "text_delta", "text"
    events = [
        sse("message_start", {"type": "message_start", "message": {
            "id": f"msg_fake_{number:06d}", "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": max(1, len(prompt) // 4), "output_tokens": 1}}}),
        sse("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}),
        sse("ping", {"type": "ping"}),
    ]
    for piece in pieces:
        events.append(sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                  "delta": {"type": delta_type, field: piece}}))
    stop = "max_tokens" if max_tokens_cut else ("tool_use" if tool is not None else "end_turn")
    events += [
        sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
        sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                              "usage": {"output_tokens": max(1, len(content) // 4)}}),
        sse("message_stop", {"type": "message_stop"}),
    ]
    return events


def message_body(request: Mapping[str, Any], *, rng: random.Random, number: int, malformed: bool = False) -> dict[str, Any]:
    """A whole (``"stream": false``) reply."""
    tool = forced_tool(request)
    content = _content(request, tool, rng=rng, number=number, malformed=malformed)
    if tool is not None:
        try:
            value: Any = json.loads(content)
        except ValueError:
            value = {"_unparsable": content}
        block: dict[str, Any] = {"type": "tool_use", "id": f"toolu_fake_{number:06d}", "name": tool["name"],
                                 "input": value}
    else:
        block = {"type": "text", "text": content}
    return {"id": f"msg_fake_{number:06d}", "type": "message", "role": "assistant", "model": request.get("model"),
            "content": [block], "stop_reason": "tool_use" if tool is not None else "end_turn",
            "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": max(1, len(content) // 4)}}
