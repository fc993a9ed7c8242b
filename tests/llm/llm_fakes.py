"""Scripted fake transports for the LLM clients (httpx/httpx2 MockTransport handlers).

Each script step answers one request, in order; the handler records every request with its
trio-clock time so tests can assert the retry schedule exactly.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import attrs
import httpx
import httpx2
import trio

VALID_THESIS = {"stance": "bullish", "conviction": 0.7, "key_points": ["momentum"], "summary": "up"}
VALID_TEXT = json.dumps(VALID_THESIS)


@attrs.define
class Seen:
    """One request the fake received."""

    at: float
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


@attrs.define
class Closed:
    """Counts response bodies the client closed before the end."""

    closed_early: int = 0
    finished: int = 0


def ollama_line(content: str = "", *, done: bool = False, **extra: Any) -> bytes:
    part: dict[str, Any] = {"model": "m", "created_at": "2025-01-01T00:00:00Z",
                            "message": {"role": "assistant", "content": content}, "done": done}
    part.update(extra)
    return (json.dumps(part) + "\n").encode()


def _chunks(text: str, pieces: int) -> list[str]:
    size = max(1, -(-len(text) // pieces))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


class Script:
    """Handler for ``httpx.MockTransport`` (Ollama) or ``httpx2.MockTransport`` (Claude)."""

    def __init__(self, *steps: Callable[..., Any], http: Any = httpx) -> None:
        self.steps = list(steps)
        self.seen: list[Seen] = []
        self.closed = Closed()
        self.http = http

    @property
    def times(self) -> list[float]:
        return [s.at for s in self.seen]

    async def __call__(self, request: Any) -> Any:
        body = json.loads(request.content) if request.content else {}
        self.seen.append(Seen(trio.current_time(), request.url.path, body, dict(request.headers)))
        if not self.steps:
            raise AssertionError(f"unexpected request #{len(self.seen)} to {request.url.path}")
        step = self.steps.pop(0)
        return await step(self, request)

    async def body(self, parts: list[tuple[float, bytes]], *, then_hang: bool = False,
                   then_raise: BaseException | None = None) -> AsyncIterator[bytes]:
        try:
            for gap, data in parts:
                if gap:
                    await trio.sleep(gap)
                yield data
            if then_hang:
                await trio.sleep_forever()
            if then_raise is not None:
                raise then_raise
            self.closed.finished += 1
        except GeneratorExit:
            self.closed.closed_early += 1
            raise
        except trio.Cancelled:
            self.closed.closed_early += 1
            raise


# --- Ollama steps -------------------------------------------------------------------------


def reply(text: str = VALID_TEXT, *, pieces: int = 2, gap: float = 0.0, prompt_tokens: int = 12,
          eval_tokens: int = 7) -> Callable[..., Any]:
    async def step(script: Script, request: Any) -> Any:
        parts = [(gap, ollama_line(c)) for c in _chunks(text, pieces)]
        parts.append((0.0, ollama_line("", done=True, done_reason="stop", prompt_eval_count=prompt_tokens,
                                       eval_count=eval_tokens)))
        return script.http.Response(200, content=script.body(parts))

    return step


def status(code: int, error: str = "boom", headers: dict[str, str] | None = None) -> Callable[..., Any]:
    async def step(script: Script, request: Any) -> Any:
        return script.http.Response(code, json={"error": error}, headers=headers or {})

    return step


def raises(exc_factory: Callable[[Any], BaseException]) -> Callable[..., Any]:
    async def step(script: Script, request: Any) -> Any:
        raise exc_factory(request)

    return step


def connect_error() -> Callable[..., Any]:
    return raises(lambda request: httpx.ConnectError("Connection refused", request=request))


def hang() -> Callable[..., Any]:
    async def step(script: Script, request: Any) -> Any:
        await trio.sleep_forever()

    return step


def stall_after(first: str = '{"stance": ', *, gap: float = 1.0) -> Callable[..., Any]:
    async def step(script: Script, request: Any) -> Any:
        return script.http.Response(200, content=script.body([(gap, ollama_line(first))], then_hang=True))

    return step


def trickle(every: float, count: int = 1000) -> Callable[..., Any]:
    """A stream that never stalls and never finishes: one space every ``every`` seconds."""

    async def step(script: Script, request: Any) -> Any:
        return script.http.Response(200, content=script.body([(every, ollama_line(" "))] * count))

    return step


def raw_lines(*lines: bytes) -> Callable[..., Any]:
    async def step(script: Script, request: Any) -> Any:
        return script.http.Response(200, content=script.body([(0.0, line) for line in lines]))

    return step


def tags(*names: str) -> Callable[..., Any]:
    async def step(script: Script, request: Any) -> Any:
        return script.http.Response(200, json={"models": [{"model": n, "name": n} for n in names]})

    return step


# --- Claude (SSE) steps -------------------------------------------------------------------


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def claude_events(text: str, *, pieces: int = 3, input_tokens: int = 20, output_tokens: int = 9,
                  gap: float = 0.0) -> list[tuple[float, bytes]]:
    events = [
        (0.0, sse("message_start", {"type": "message_start", "message": {
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test", "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": input_tokens, "output_tokens": 1}}})),
        (0.0, sse("content_block_start", {"type": "content_block_start", "index": 0,
                                          "content_block": {"type": "text", "text": ""}})),
        (0.0, sse("ping", {"type": "ping"})),
    ]
    for piece in _chunks(text, pieces):
        events.append((gap, sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                        "delta": {"type": "text_delta", "text": piece}})))
    events += [
        (0.0, sse("content_block_stop", {"type": "content_block_stop", "index": 0})),
        (0.0, sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                    "usage": {"output_tokens": output_tokens}})),
        (0.0, sse("message_stop", {"type": "message_stop"})),
    ]
    return events


def claude_reply(text: str = VALID_TEXT, **kwargs: Any) -> Callable[..., Any]:
    async def step(script: Script, request: Any) -> Any:
        return httpx2.Response(200, content=script.body(claude_events(text, **kwargs)),
                               headers={"content-type": "text/event-stream"})

    return step


def claude_error(code: int, kind: str, message: str = "nope", headers: dict[str, str] | None = None) -> Callable[..., Any]:
    async def step(script: Script, request: Any) -> Any:
        return httpx2.Response(code, json={"type": "error", "error": {"type": kind, "message": message}},
                               headers=headers or {})

    return step


def claude_stream_then(*extra: bytes, hang_after: bool = False) -> Callable[..., Any]:
    """message_start, then the given raw events, then (optionally) silence."""

    async def step(script: Script, request: Any) -> Any:
        head = claude_events("")[:1]
        parts = head + [(0.0, e) for e in extra]
        return httpx2.Response(200, content=script.body(parts, then_hang=hang_after),
                               headers={"content-type": "text/event-stream"})

    return step
