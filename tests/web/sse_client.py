"""A minimal SSE client over a raw trio socket (httpx's nested stream generators are not closed on early exit)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import trio


class SSEStream:
    """Reads events from one open ``/events`` response."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self._stream = stream
        self._buffer = b""
        self.headers = ""

    async def _fill(self) -> bool:
        chunk = await self._stream.receive_some(65536)
        self._buffer += chunk
        return bool(chunk)

    async def read_headers(self) -> str:
        while b"\r\n\r\n" not in self._buffer:
            if not await self._fill():
                raise EOFError("connection closed before the headers")
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        self.headers = head.decode("latin-1")
        return self.headers

    async def next_block(self) -> str | None:
        """The next blank-line-separated block of the body (chunked framing stripped), None at the end."""
        while True:
            text, rest, ended = _dechunk(self._buffer)
            if "\n\n" in text:
                block, _, after = text.partition("\n\n")
                self._buffer = _rechunk(after) + rest
                return block
            if ended or not await self._fill():
                return None

    async def events(self, count: int) -> list[dict[str, str]]:
        """The next ``count`` events (comments and ``retry`` lines skipped)."""
        found: list[dict[str, str]] = []
        while len(found) < count:
            block = await self.next_block()
            if block is None:
                break
            fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
            if "data" in fields:
                found.append(fields)
        return found


def _dechunk(raw: bytes) -> tuple[str, bytes, bool]:
    """(body decoded so far, undecoded remainder, whether the last chunk came) of HTTP/1.1 chunked data."""
    out, rest = b"", raw
    while b"\r\n" in rest:
        size_text, _, after = rest.partition(b"\r\n")
        size = int(size_text.split(b";")[0] or b"0", 16)
        if size == 0:
            return out.decode(), rest, True
        if len(after) < size + 2:
            break
        out, rest = out + after[:size], after[size + 2:]
    return out.decode(), rest, False


def _rechunk(text: str) -> bytes:
    data = text.encode()
    return b"" if not data else f"{len(data):x}\r\n".encode() + data + b"\r\n"


@asynccontextmanager
async def open_events(url: str, *, last_event_id: str | None = None, path: str = "/events") -> AsyncIterator[SSEStream]:
    """GET ``path`` on ``url`` and yield the stream after its headers; the socket is closed on exit."""
    parts = urlsplit(url)
    stream = await trio.open_tcp_stream(parts.hostname, parts.port)
    async with stream:
        extra = f"Last-Event-ID: {last_event_id}\r\n" if last_event_id is not None else ""
        await stream.send_all(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: text/event-stream\r\n{extra}\r\n"
                              .encode())
        sse = SSEStream(stream)
        await sse.read_headers()
        yield sse
