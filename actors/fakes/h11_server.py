"""The HTTP/1.1 side of the fake servers (Ollama, Anthropic): read a request, send a response, log it (h11 over trio).

``Exchange`` is one request/response on a keep-alive connection. Whole responses go out in a
single write and streamed ones as head + first chunk, then one write per chunk, so a fault can
stop at any chunk boundary. The log ``Record`` is completed (``end``, ``outcome``) with no
checkpoint after the last byte, so a client that hangs up right after a complete answer is
not mistaken for one that left early. ``serve_keep_alive`` (the per-connection loop) and
``answer_watching`` (answer while noticing a client that leaves) and ``run_server_cli`` (serve
until SIGINT/SIGTERM, report the address, exit 1 on a port in use) are what both fakes share.
"""

from __future__ import annotations

import functools
import json
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import attrs
import h11
import trio

__all__ = ["ClientGone", "Exchange", "MAX_BODY", "Record", "answer_watching", "next_event", "read_body",
           "run_server_cli", "serve_keep_alive"]

logger = logging.getLogger(__name__)

MAX_BODY = 8 * 1024 * 1024


@attrs.define
class Record:
    """One request in the log; ``end`` and ``outcome`` are filled in as the exchange goes."""

    id: int
    method: str
    path: str
    start: float
    model: str | None = None
    end: float | None = None
    status: int | None = None
    outcome: str = "in_progress"
    queued: float = 0.0  # seconds waited for a free slot (``--parallel``)


class ClientGone(Exception):
    """The client closed or broke the connection while we were answering."""


class Exchange:
    """One request/response on a connection: sends through h11 and keeps the log record current."""

    def __init__(self, stream: trio.SocketStream, conn: h11.Connection, record: Record) -> None:
        self.stream, self.conn, self.record = stream, conn, record
        self.finished = False

    async def _send(self, *events: Any, outcome: str | None = None) -> None:
        """Send ``events`` in one write; with ``outcome`` they end the response and it is recorded."""
        data = b"".join(self.conn.send(e) or b"" for e in events)
        try:
            await self.stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise ClientGone from exc
        if outcome is not None:  # no checkpoint between the last byte and the record
            self.done(outcome)

    async def head(self, status: int, content_type: str, *, length: int | None = None,
                   extra: tuple[tuple[str, str], ...] = (), first: bytes = b"") -> None:
        """The response head, with the first piece of the body in the same write."""
        date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
        headers = [("Content-Type", content_type), ("Date", date), *extra]
        if length is not None:
            headers.append(("Content-Length", str(length)))
        self.record.status = status
        await self._send(h11.Response(status_code=status, headers=headers), h11.Data(data=first))

    async def data(self, payload: bytes, *, last: str | None = None) -> None:
        """More body; ``last`` (the outcome) also ends the response."""
        events: list[Any] = [h11.Data(data=payload)]
        if last is not None:
            events.append(h11.EndOfMessage())
        await self._send(*events, outcome=last)

    def done(self, outcome: str) -> None:
        self.record.outcome = outcome
        self.record.end = time.monotonic()
        self.finished = True

    async def json(self, status: int, body: Any, outcome: str, *, extra: tuple[tuple[str, str], ...] = ()) -> None:
        """A whole JSON response in one write."""
        await self.whole(status, "application/json; charset=utf-8", json.dumps(body).encode(), outcome, extra)

    async def text(self, status: int, body: str, outcome: str) -> None:
        await self.whole(status, "text/plain; charset=utf-8", body.encode(), outcome)

    async def whole(self, status: int, content_type: str, payload: bytes, outcome: str,
                    extra: tuple[tuple[str, str], ...] = ()) -> None:
        """A whole response (head, body, end) in one write."""
        date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
        headers = [("Content-Type", content_type), ("Date", date), *extra, ("Content-Length", str(len(payload)))]
        self.record.status = status
        await self._send(h11.Response(status_code=status, headers=headers), h11.Data(data=payload),
                         h11.EndOfMessage(), outcome=outcome)


async def next_event(stream: trio.SocketStream, conn: h11.Connection) -> Any:
    """The next h11 event from the client, reading more bytes as needed."""
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        conn.receive_data(await stream.receive_some(65536))


async def read_body(stream: trio.SocketStream, conn: h11.Connection) -> bytes:
    """The whole request body (at most ``MAX_BODY`` bytes, else ``h11.RemoteProtocolError``)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        event = await next_event(stream, conn)
        if isinstance(event, h11.Data):
            size += len(event.data)
            if size > MAX_BODY:
                raise h11.RemoteProtocolError(f"request body over {MAX_BODY} bytes")
            chunks.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            return b"".join(chunks)
        else:
            raise h11.RemoteProtocolError(f"unexpected {type(event).__name__} in a request body")



#: Answers one request on a connection; returns False to close the connection afterwards.
Answer = Callable[[trio.SocketStream, h11.Connection, h11.Request, bytes], Awaitable[bool]]


async def serve_keep_alive(stream: trio.SocketStream, answer: Answer, *, name: str) -> None:
    """Read requests on one connection and ``answer`` each until the client or ``answer`` ends it.

    A broken or closed connection and protocol errors end it quietly (DEBUG); any other error is
    logged under ``name`` and closes this connection only. The stream is always closed.
    """
    conn = h11.Connection(h11.SERVER)
    try:
        while True:
            request = await next_event(stream, conn)
            if not isinstance(request, h11.Request):
                return
            body = await read_body(stream, conn)
            if not await answer(stream, conn, request, body):
                return
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()
    except (trio.BrokenResourceError, trio.ClosedResourceError, h11.ProtocolError, ClientGone) as exc:
        logger.debug("connection ended: %r", exc)
    except Exception:
        logger.exception("%s: connection failed", name)
    finally:
        await stream.aclose()


async def answer_watching(stream: trio.SocketStream, conn: h11.Connection, respond: Callable[[], Awaitable[None]]) -> bool:
    """Run ``respond()`` while watching for the client leaving; True if it left (``respond`` is then cancelled).

    Bytes the client sends meanwhile (a pipelined request) are kept in ``conn`` for the next cycle.
    """
    client_left = False
    async with trio.open_nursery() as nursery:

        async def watch() -> None:
            nonlocal client_left
            try:
                while data := await stream.receive_some(65536):
                    conn.receive_data(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass
            client_left = True
            nursery.cancel_scope.cancel()

        nursery.start_soon(watch)
        try:
            await respond()
        except ClientGone:
            client_left = True
        nursery.cancel_scope.cancel()
    return client_left


class Server(Protocol):
    async def serve(self, *, port: int = 0, host: str = "127.0.0.1",
                    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None: ...


async def _serve_until_signal(server: Server, port: int, *, name: str, ready: str) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            bound = await nursery.start(functools.partial(server.serve, port=port))
            print(f"{ready}http://127.0.0.1:{bound}", flush=True)
            async for signum in signals:
                logger.info("%s: %s received, stopping", name, signal.Signals(signum).name)
                nursery.cancel_scope.cancel()
                break


def run_server_cli(server: Server, port: int, *, name: str, ready: str) -> int:
    """Serve until SIGINT/SIGTERM, printing ``ready`` + the URL once listening: 0, or 1 if the port is taken."""
    try:
        trio.run(functools.partial(_serve_until_signal, server, port, name=name, ready=ready))
    except Exception as exc:  # trio wraps the bind error in an ExceptionGroup
        bind_error = _find(exc, OSError)
        if bind_error is None:
            raise
        print(f"{name}: cannot listen on 127.0.0.1:{port}: {bind_error}", file=sys.stderr)
        return 1
    return 0


def _find(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """``exc`` or the first ``kind`` inside an exception group."""
    if isinstance(exc, kind):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            if (found := _find(inner, kind)) is not None:
                return found
    return None
