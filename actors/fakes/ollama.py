"""``bin/fake-ollama``: a real HTTP server on 127.0.0.1 that speaks the Ollama API and fails on purpose.

Receives: HTTP/1.1 requests (keep-alive, several per connection) on ``GET /``,
``GET /api/version``, ``GET /api/tags``, ``GET /api/ps``, ``POST /api/chat`` (streamed NDJSON
or ``"stream": false``) and ``POST /api/generate``; and the control endpoints
``POST /_fake/config`` (JSON with the ``Profile`` keys: replaces the profile, keys not given go
back to their launch values, request numbering and the script start again),
``POST /_fake/reset`` (launch profile, empty request log), ``GET /_fake/config`` and
``GET /_fake/requests`` (the request log: id, method, path, model, start, end, status,
outcome; ``start``/``end`` are ``time.monotonic()`` seconds, which other processes on this
machine can compare with their own). A chat with no messages, or a generate with no prompt, is
Ollama's "load the model" call: it is answered with ``done_reason: "load"`` once the model is
loaded, logged as ``load`` and not numbered.

Sends: replies in the real Ollama shapes (``ollama_replies``); with ``"format": {schema}``
the content is JSON fitting the schema, deterministic per seed and request number.

Owns: the fault profile (``ollama_profile.Profile``), the request counter and the request
log, and the generation slots: with ``parallel`` N (like ``OLLAMA_NUM_PARALLEL``) at most N
chat/generate requests are served at once and the rest wait, first come first served, before
their first byte (the log's ``queued`` says how long). Each chat/generate request gets one
planned outcome: ``ok``, ``http_500``, ``http_503`` /
``http_429`` (with ``Retry-After``), ``malformed``, ``stall`` (some chunks, then silence on an
open socket), ``drop`` (some chunks, then the socket is closed mid-body), ``hang`` (the request
is read and never answered), ``model_missing`` (404), ``runaway`` (filler streams until
``options.num_predict`` tokens, then ``done_reason: "length"``; with no cap, until the client
leaves). With ``load_time`` the model starts unloaded: the first request (and the first after
its ``keep_alive`` ran out) waits for one load of ``load_time`` seconds, shared by the requests
that arrive meanwhile, and reports it as ``load_duration``; ``/api/ps`` lists only loaded
models then (without ``load_time`` every model counts as loaded). Final chunks carry
``prompt_eval_count`` (prompt characters / 4), ``eval_count`` (tokens sent), ``eval_duration``
and ``load_duration`` like Ollama's. ``hang_all`` makes every non-control
endpoint hang, ``tags_hang`` only ``/api/tags``. Control endpoints never hang.

Failure and cancellation: a broken or closed client connection ends that exchange only; the
log records ``cancelled_by_client`` when the client left before an answer that would have
finished (hangs and stalls keep their outcome and get an ``end`` when the client leaves). An
unexpected error in one connection is logged and closes that connection. SIGINT/SIGTERM cancel
everything and the process exits 0.
"""

from __future__ import annotations

import argparse
import collections
import functools
import json
import logging
import os
import signal
import sys
import threading
import time
from typing import Any

import attrs
import h11
import trio

from actors.errors import ConfigError
from actors.fakes import ollama_replies as replies
from actors.fakes.h11_server import ClientGone, Exchange, Record, answer_watching, run_server_cli, serve_keep_alive
from actors.fakes.ollama_model import ModelMemory, load_only, send_runaway
from actors.fakes.ollama_profile import FAULTS, Profile, plan_outcome, request_rng
from actors.llm.keep_alive import keep_alive_seconds

logger = logging.getLogger(__name__)

#: What the server prints once listening, before its URL (``FakeOllama`` waits for it).
READY = "fake-ollama listening on "

__all__ = ["FakeOllamaServer", "FakeOllamaStatistics", "main"]

_ERRORS = {
    "http_500": (500, "llama runner process has terminated: exit status 2"),
    "http_503": (503, "server busy, please try again.  maximum pending requests exceeded"),
    "http_429": (429, "too many requests, please try again later"),
}


@attrs.frozen
class FakeOllamaStatistics:
    """A snapshot: requests seen since the last reset, how many are open, and outcomes so far."""

    requests: int
    in_flight: int
    outcomes: tuple[tuple[str, int], ...]


class FakeOllamaServer:
    """The server's state and request handling; ``serve`` runs it on a loopback port."""

    def __init__(self, profile: Profile | None = None, *, log_limit: int = 10_000) -> None:
        self.launch_profile = profile or Profile()
        self.profile = self.launch_profile
        self._log: collections.deque[Record] = collections.deque(maxlen=log_limit)
        self._next_id = 0
        self._number = 0
        self._serving = 0
        self._waiting = trio.lowlevel.ParkingLot()
        self._memory = ModelMemory()

    def statistics(self) -> FakeOllamaStatistics:
        """Counts over the current request log."""
        outcomes = collections.Counter(r.outcome for r in self._log)
        return FakeOllamaStatistics(
            requests=len(self._log),
            in_flight=sum(1 for r in self._log if r.end is None),
            outcomes=tuple(sorted(outcomes.items())),
        )

    def configure(self, data: dict[str, Any]) -> Profile:
        """Replace the profile (unlisted keys take launch values) and restart numbering and script."""
        self.profile = Profile.from_mapping(data, base=self.launch_profile)
        self._number = 0
        self._memory.clear()
        self._admit()
        logger.info("profile replaced: %s", data)
        return self.profile

    def reset(self) -> None:
        """Back to the launch profile with an empty request log."""
        self.profile = self.launch_profile
        self._number = 0
        self._next_id = 0
        self._log.clear()
        self._memory.clear()
        self._admit()

    def _admit(self) -> None:
        """Hand free generation slots to waiting requests, oldest first."""
        while len(self._waiting) and (self.profile.parallel == 0 or self._serving < self.profile.parallel):
            self._serving += 1
            self._waiting.unpark(count=1)

    async def _take_slot(self, record: Record) -> None:
        """Wait for a generation slot (``parallel``); the time waited goes into the log."""
        parallel = self.profile.parallel
        if not len(self._waiting) and (parallel == 0 or self._serving < parallel):
            self._serving += 1
            return
        began = trio.current_time()
        await self._waiting.park()  # _admit took the slot for us
        record.queued = trio.current_time() - began

    def _give_slot(self) -> None:
        self._serving -= 1
        self._admit()

    def request_log(self) -> list[dict[str, Any]]:
        """The log as JSON-ready dicts, oldest first."""
        return [attrs.asdict(r) for r in self._log]

    async def serve(self, *, port: int = 0, host: str = "127.0.0.1",
                    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen on ``host:port`` (0: a free port) and report the bound port through ``task_status``."""
        async with trio.open_nursery() as nursery:
            self._memory.nursery = nursery
            listeners = await nursery.start(functools.partial(trio.serve_tcp, self._connection, port, host=host))
            task_status.started(listeners[0].socket.getsockname()[1])

    async def _connection(self, stream: trio.SocketStream) -> None:
        await serve_keep_alive(stream, self._exchange, name="fake-ollama")

    async def _exchange(self, stream: trio.SocketStream, conn: h11.Connection, request: h11.Request, body: bytes) -> bool:
        """Answer one request while watching for the client leaving; False: close the connection."""
        method = request.method.decode("ascii", "replace")
        path = request.target.decode("ascii", "replace").split("?")[0]
        control = path.startswith("/_fake/")
        record = Record(id=self._next_id, method=method, path=path, start=time.monotonic())
        if not control:
            self._next_id += 1
            self._log.append(record)
        exchange = Exchange(stream, conn, record)
        client_left = await answer_watching(stream, conn, lambda: self._route(exchange, method, path, body, control))
        if client_left and not exchange.finished:
            if record.outcome not in ("hang", "stall", "runaway"):
                record.outcome = "cancelled_by_client"
            record.end = time.monotonic()
        if not control:
            logger.info("%s %s model=%s status=%s outcome=%s %.3fs", method, path, record.model,
                        record.status, record.outcome, (record.end or time.monotonic()) - record.start)
        return exchange.finished and not client_left and record.outcome != "drop"

    async def _route(self, ex: Exchange, method: str, path: str, body: bytes, control: bool) -> None:
        profile = self.profile
        if control:
            await self._control(ex, method, path, body)
            return
        if profile.hang_all or (profile.tags_hang and path == "/api/tags"):
            ex.record.outcome = "hang"
            await trio.sleep_forever()
        if (method, path) == ("GET", "/"):
            await ex.text(200, "Ollama is running", "ok")
        elif (method, path) == ("GET", "/api/version"):
            await ex.json(200, {"version": "0.6.5"}, "ok")
        elif (method, path) == ("GET", "/api/tags"):
            await ex.json(200, replies.tags_body(profile.models), "ok")
        elif (method, path) == ("GET", "/api/ps"):
            await ex.json(200, replies.ps_body(self._memory.loaded(profile)), "ok")
        elif method == "POST" and path in ("/api/chat", "/api/generate"):
            await self._generate(ex, profile, body, chat=path == "/api/chat")
        else:
            await ex.json(404, replies.error_body(f"{method} {path} not found"), "not_found")

    async def _control(self, ex: Exchange, method: str, path: str, body: bytes) -> None:
        if (method, path) == ("GET", "/_fake/requests"):
            await ex.json(200, {"requests": self.request_log()}, "ok")
        elif (method, path) == ("GET", "/_fake/config"):
            await ex.json(200, self.profile.to_json(), "ok")
        elif (method, path) == ("POST", "/_fake/reset"):
            self.reset()
            await ex.json(200, self.profile.to_json(), "ok")
        elif (method, path) == ("POST", "/_fake/config"):
            try:
                profile = self.configure(json.loads(body or b"{}"))
            except (ConfigError, ValueError) as exc:
                await ex.json(400, replies.error_body(str(exc)), "bad_request")
                return
            await ex.json(200, profile.to_json(), "ok")
        else:
            await ex.json(404, replies.error_body(f"{method} {path} not found"), "not_found")

    async def _generate(self, ex: Exchange, profile: Profile, body: bytes, *, chat: bool) -> None:
        try:
            request = json.loads(body)
            if not isinstance(request, dict) or not isinstance(request.get("model"), str) or not request["model"]:
                raise ValueError("the body must be a JSON object with a non-empty string 'model'")
        except ValueError as exc:
            await ex.json(400, replies.error_body(f"invalid request: {exc}"), "bad_request")
            return
        model: str = request["model"]
        ex.record.model = model
        keep_alive = keep_alive_seconds(request.get("keep_alive"))
        if load_only(request, chat=chat):
            if not _listed(model, profile.models):
                await ex.json(404, replies.error_body(f'model "{model}" not found, try pulling it first'),
                              "model_missing")
                return
            load = await self._memory.load(model, profile, keep_alive)
            await ex.json(200, replies.load_body(model, load=load, chat=chat), "load")
            return
        number = self._number
        self._number += 1
        outcome = plan_outcome(profile, number)
        if not _listed(model, profile.models):
            outcome = "model_missing"
        ex.record.outcome = outcome
        if outcome == "model_missing":  # answered before any queue, as Ollama does
            await trio.sleep(profile.latency_first)
            await ex.json(404, replies.error_body(f'model "{model}" not found, try pulling it first'), outcome)
            return
        await self._take_slot(ex.record)
        try:
            await self._serve(ex, profile, request, number, outcome, keep_alive, chat=chat)
        finally:
            self._give_slot()

    async def _serve(self, ex: Exchange, profile: Profile, request: dict[str, Any], number: int, outcome: str,
                     keep_alive: float, *, chat: bool) -> None:
        """One generation request holding a slot: the model loaded if need be, ``latency_first``, the answer."""
        model: str = request["model"]
        if outcome == "hang":
            await trio.sleep_forever()
        load = await self._memory.load(model, profile, keep_alive)
        await trio.sleep(profile.latency_first)
        try:
            await self._answer(ex, profile, request, number, outcome, load, chat=chat)
        finally:
            self._memory.touch(model, keep_alive)  # every answered request restarts the keep_alive clock

    async def _answer(self, ex: Exchange, profile: Profile, request: dict[str, Any], number: int, outcome: str,
                      load: float, *, chat: bool) -> None:
        model: str = request["model"]
        if outcome in _ERRORS:
            status, message = _ERRORS[outcome]
            extra = (("Retry-After", str(profile.retry_after)),) if status in (429, 503) else ()
            await ex.json(status, replies.error_body(message), outcome, extra=extra)
            return
        try:
            content = replies.reply_content(request, rng=request_rng(profile.seed, number, "content"),
                                            number=number, malformed=outcome == "malformed")
        except ValueError as exc:
            await ex.json(400, replies.error_body(str(exc)), "bad_request")
            return
        prompt = replies.prompt_text(request)
        if outcome == "runaway":
            await send_runaway(ex, profile, request, prompt=prompt, load=load, chat=chat)
        elif request.get("stream", True) is False:
            await self._whole(ex, profile, model, content, prompt, outcome, load, chat=chat)
        else:
            await self._stream(ex, profile, model, content, prompt, outcome, load, chat=chat)

    async def _whole(self, ex: Exchange, profile: Profile, model: str, content: str,
                     prompt: str, outcome: str, load: float, *, chat: bool) -> None:
        pieces = replies.split_content(content, profile.chunks)
        await trio.sleep(profile.chunk_interval * len(pieces))
        final = replies.chat_final if chat else replies.generate_final
        elapsed = time.monotonic() - ex.record.start
        payload = json.dumps(final(model, content=content, generated=content, prompt=prompt, total=elapsed,
                                   load=load, evaluating=elapsed - load - profile.latency_first)).encode()
        if outcome in ("stall", "drop"):
            await ex.head(200, "application/json; charset=utf-8", length=len(payload), first=payload[: len(payload) // 2])
            await self._break_off(ex, outcome)
        await ex.whole(200, "application/json; charset=utf-8", payload, outcome)

    async def _stream(self, ex: Exchange, profile: Profile, model: str, content: str,
                      prompt: str, outcome: str, load: float, *, chat: bool) -> None:
        pieces = replies.split_content(content, profile.chunks)
        chunk = replies.chat_chunk if chat else replies.generate_chunk
        began = time.monotonic()
        for i, piece in enumerate(pieces):
            if outcome in ("stall", "drop") and i == profile.stall_after:
                await self._break_off(ex, outcome)
            line = json.dumps(chunk(model, piece)).encode() + b"\n"
            if i == 0:
                await ex.head(200, "application/x-ndjson", first=line)
            else:
                await trio.sleep(profile.chunk_interval)
                await ex.data(line)
        if outcome in ("stall", "drop"):
            await self._break_off(ex, outcome)
        await trio.sleep(profile.chunk_interval)
        final = replies.chat_final if chat else replies.generate_final
        now = time.monotonic()
        last = final(model, content="", generated=content, prompt=prompt, total=now - ex.record.start,
                     load=load, evaluating=now - began)
        await ex.data(json.dumps(last).encode() + b"\n", last=outcome)

    @staticmethod
    async def _break_off(ex: Exchange, outcome: str) -> None:
        """``stall``: go silent with the socket open until the client leaves; ``drop``: close it now."""
        if outcome == "stall":
            await trio.sleep_forever()
        ex.done("drop")
        await ex.stream.aclose()
        raise ClientGone("dropped on purpose")


def _listed(model: str, models: tuple[str, ...]) -> bool:
    def full(name: str) -> str:
        return name if ":" in name else f"{name}:latest"

    return full(model) in {full(m) for m in models}


def _parser() -> argparse.ArgumentParser:
    defaults = Profile()
    parser = argparse.ArgumentParser(
        prog="fake-ollama",
        description="A fake Ollama server on 127.0.0.1 with seeded fault injection. Control it at runtime "
        "with POST /_fake/config (same keys as these flags, with underscores), POST /_fake/reset and "
        "GET /_fake/requests.",
    )
    parser.add_argument("--port", type=int, default=11434, help="port on 127.0.0.1; 0 picks a free one (default 11434)")
    parser.add_argument("--model", dest="models", action="append", metavar="NAME",
                        help=f"a model /api/tags lists and chat accepts; repeat for more (default {defaults.models[0]})")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--latency-first", type=float, default=0.0, metavar="SECONDS",
                        help="wait before the response head / first chunk")
    parser.add_argument("--load-time", type=float, default=0.0, metavar="SECONDS",
                        help="a cold model load: the first request after start or after its keep_alive ran "
                        "out waits this long before the first chunk (reported as load_duration)")
    parser.add_argument("--chunk-interval", type=float, default=0.0, metavar="SECONDS", help="wait between chunks")
    parser.add_argument("--chunks", type=int, default=defaults.chunks, help="pieces the content is streamed in")
    parser.add_argument("--stall-after", type=int, default=defaults.stall_after,
                        help="chunks sent before a stall or drop")
    parser.add_argument("--parallel", type=int, default=defaults.parallel, metavar="N",
                        help="generation requests served at once, the rest wait before their first byte "
                        "(like OLLAMA_NUM_PARALLEL; default 0: no limit)")
    parser.add_argument("--retry-after", type=int, default=defaults.retry_after,
                        help="Retry-After seconds on 429/503")
    for fault in FAULTS:
        parser.add_argument("--" + fault.replace("_", "-"), type=float, default=0.0, metavar="P",
                            help=f"probability of {fault} per chat/generate request")
    parser.add_argument("--script", default="",
                        help='outcomes in request order, e.g. "ok*3,http_500,malformed,ok*" or "runaway*3,ok*"')
    parser.add_argument("--hang-all", action="store_true", help="every endpoint but /_fake/* hangs")
    parser.add_argument("--tags-hang", action="store_true", help="/api/tags hangs")
    parser.add_argument("--log-limit", type=int, default=10_000, help="requests kept in the log")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--exit-on-stdin-close", action="store_true",
                        help="stop (as on SIGTERM) when stdin reaches end of file: a parent holding the pipe's "
                        "other end takes the server with it even when it is killed")
    return parser


#: Command-line flags that run the server rather than shape its answers (not part of the Profile).
SERVER_FLAGS = ("port", "log_limit", "log_level", "exit_on_stdin_close")


def profile_values(args: argparse.Namespace) -> dict[str, Any]:
    """The parsed flags that make up the :class:`Profile` (every flag but :data:`SERVER_FLAGS`)."""
    return {k: v for k, v in vars(args).items() if k not in SERVER_FLAGS}


def _stop_when_stdin_closes() -> None:
    """A daemon thread that reads stdin to its end, then sends this process SIGTERM (a clean stop)."""
    def watch() -> None:
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="stdin-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    """Run the server until SIGINT/SIGTERM; 0 on a clean stop, 2 on bad flags, 1 if the port is taken."""
    args = _parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=args.log_level, format="%(asctime)s %(levelname)s %(message)s")
    values = profile_values(args)
    if values["models"] is None:
        del values["models"]
    try:
        profile = Profile.from_mapping(values)
    except ConfigError as exc:
        print(f"fake-ollama: {exc}", file=sys.stderr)
        return exc.exit_code
    if args.exit_on_stdin_close:
        _stop_when_stdin_closes()
    return run_server_cli(FakeOllamaServer(profile, log_limit=args.log_limit), args.port, name="fake-ollama",
                          ready=READY)


if __name__ == "__main__":
    sys.exit(main())
