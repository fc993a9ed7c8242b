"""``bin/fake-anthropic``: a real HTTP server on 127.0.0.1 that speaks the Anthropic Messages API and fails on purpose.

Receives: HTTP/1.1 on ``POST /v1/messages`` (streamed server-sent events, or ``"stream": false``)
and ``GET /v1/models/{model}`` (what ``ClaudeChat.probe`` calls), both checking the key
(``x-api-key``, or ``Authorization: Bearer`` as the SDK 2.x sends it) when the server was given one; and the control endpoints of fake-ollama:
``POST /_fake/config`` (JSON with the profile keys below; keys not given take their launch
values; numbering restarts), ``POST /_fake/reset``, ``GET /_fake/config`` and
``GET /_fake/requests`` (the request log: id, method, path, model, start, end, status, outcome).

Sends: replies in the Messages API's shapes (``anthropic_replies``): a forced tool call is
answered with a ``tool_use`` block streamed as ``input_json_delta``, JSON fitting the tool's
``input_schema``, deterministic per seed and request number.

Owns: the profile and the request log. Each ``/v1/messages`` request is numbered from 0 and
gets the outcome its ``script`` entry names (``"ok*3,overloaded,ok*"``; after a finite script,
``ok``): ``ok``; ``unauthorized`` (401); ``rate_limited`` (429 with ``retry-after``);
``overloaded`` (529 ``overloaded_error``); ``server_error`` (500); ``hang`` (read, never
answered); ``malformed`` (a reply whose JSON is broken or does not fit the schema);
``max_tokens`` (cut half-way, ``stop_reason: "max_tokens"``); ``drop`` (the connection is
closed mid-stream); ``echo_key`` (400 whose message repeats the key it was sent, as is, URL-encoded
and base64, like a proxy that echoes request headers: for testing the scrubbing). A wrong key
is always 401. ``hang_all`` makes both API endpoints
hang. The HTTP plumbing (h11 over trio, the log record) is shared: ``actors.fakes.h11_server``.

Failure and cancellation: a client that leaves ends only its exchange (logged
``cancelled_by_client`` unless it was a hang). SIGINT/SIGTERM stop the server with exit 0.
"""

from __future__ import annotations

import argparse
import collections
import functools
import hmac
import json
import logging
import sys
import time
from collections.abc import Mapping
from typing import Any

import attrs
import h11
import trio

from actors.errors import ConfigError
from actors.fakes import anthropic_replies as replies
from actors.fakes.h11_server import ClientGone, Exchange, Record, answer_watching, run_server_cli, serve_keep_alive
from actors.fakes.ollama_profile import ScriptEntry, parse_script, request_rng
from actors.secrets import Secret, SecretFormatError

__all__ = ["AnthropicProfile", "FakeAnthropicServer", "OUTCOMES", "main"]

logger = logging.getLogger(__name__)

OUTCOMES = ("ok", "unauthorized", "rate_limited", "overloaded", "server_error", "hang", "malformed", "max_tokens",
            "drop", "echo_key")
READY = "fake-anthropic listening on "


def _script(value: Any) -> tuple[ScriptEntry, ...]:
    if isinstance(value, str):
        return parse_script(value, outcomes=OUTCOMES, tool="fake-anthropic")
    return tuple(value)


def _non_negative(_inst: object, attribute: attrs.Attribute, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"fake-anthropic {attribute.name}: expected a number >= 0, got {value!r}")


@attrs.frozen(kw_only=True)
class AnthropicProfile:
    """What the fake server does: its key, models, pacing and the outcome script."""

    api_key: str | None = None
    models: tuple[str, ...] = ()  # empty: every model name exists
    seed: int = 0
    latency_first: float = attrs.field(default=0.0, validator=_non_negative)
    chunk_interval: float = attrs.field(default=0.0, validator=_non_negative)
    chunks: int = attrs.field(default=6, validator=_non_negative)
    retry_after: float = attrs.field(default=1.0, validator=_non_negative)
    script: tuple[ScriptEntry, ...] = attrs.field(default=(), converter=_script)
    hang_all: bool = False

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, base: AnthropicProfile | None = None) -> AnthropicProfile:
        """A profile from JSON or flags; unknown keys and bad values are ``ConfigError``s."""
        known = {a.name for a in attrs.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"fake-anthropic: unknown profile keys {unknown}; known: {sorted(known)}")
        values = {k: (tuple(v) if k == "models" else v) for k, v in data.items()}
        try:
            return attrs.evolve(base, **values) if base is not None else cls(**values)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"fake-anthropic: {exc}") from None

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self, recurse=False)
        data["script"] = ",".join(e.render() for e in self.script)
        data["models"] = list(self.models)
        data["api_key"] = None if self.api_key is None else "***"
        return data

    def plan(self, number: int) -> str:
        """The outcome of ``/v1/messages`` request ``number`` (0-based)."""
        left = number
        for entry in self.script:
            if entry.count is None or left < entry.count:
                return entry.outcome
            left -= entry.count
        return "ok"


class FakeAnthropicServer:
    """The server's state and request handling; ``serve`` runs it on a loopback port."""

    def __init__(self, profile: AnthropicProfile | None = None, *, log_limit: int = 10_000) -> None:
        self.launch_profile = profile or AnthropicProfile()
        self.profile = self.launch_profile
        self._log: collections.deque[Record] = collections.deque(maxlen=log_limit)
        self._next_id = 0
        self._number = 0

    def reset(self) -> None:
        self.profile, self._number, self._next_id = self.launch_profile, 0, 0
        self._log.clear()

    async def serve(self, *, port: int = 0, host: str = "127.0.0.1",
                    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            listeners = await nursery.start(functools.partial(trio.serve_tcp, self._connection, port, host=host))
            task_status.started(listeners[0].socket.getsockname()[1])

    async def _connection(self, stream: trio.SocketStream) -> None:
        await serve_keep_alive(stream, self._exchange, name="fake-anthropic")

    async def _exchange(self, stream: trio.SocketStream, conn: h11.Connection, request: h11.Request,
                        body: bytes) -> bool:
        """Answer one request; False: close the connection."""
        method = request.method.decode("ascii", "replace")
        path = request.target.decode("ascii", "replace").split("?")[0]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in request.headers}
        control = path.startswith("/_fake/")
        record = Record(id=self._next_id, method=method, path=path, start=time.monotonic())
        if not control:
            self._next_id += 1
            self._log.append(record)
        exchange = Exchange(stream, conn, record)
        if control:
            client_left = await answer_watching(stream, conn, lambda: self._control(exchange, method, path, body))
        else:
            client_left = await answer_watching(stream, conn, lambda: self._route(exchange, method, path, headers, body))
        if client_left and not exchange.finished:
            if record.outcome != "hang":
                record.outcome = "cancelled_by_client"
            record.end = time.monotonic()
        if not control:
            logger.info("%s %s model=%s status=%s outcome=%s", method, path, record.model, record.status, record.outcome)
        return exchange.finished and not client_left and record.outcome != "drop"

    async def _error(self, ex: Exchange, outcome: str, *, message: str | None = None) -> None:
        status, kind, default = replies.ERRORS[outcome]
        extra: tuple[tuple[str, str], ...] = (("request-id", f"req_fake_{ex.record.id:06d}"),)
        if outcome == "rate_limited":
            extra += (("retry-after", f"{self.profile.retry_after:g}"),)
        await ex.json(status, replies.error_body(kind, message or default), outcome, extra=extra)

    def _authorised(self, headers: Mapping[str, str]) -> bool:
        """The key from ``x-api-key`` or ``Authorization: Bearer`` (the SDK 2.x sends the latter)."""
        expected = self.profile.api_key
        if expected is None:
            return True
        bearer = headers.get("authorization", "")
        given = headers.get("x-api-key") or (bearer[len("Bearer "):] if bearer.startswith("Bearer ") else "")
        return hmac.compare_digest(given.encode(), expected.encode())

    async def _route(self, ex: Exchange, method: str, path: str, headers: Mapping[str, str], body: bytes) -> None:
        profile = self.profile
        if profile.hang_all:
            ex.record.outcome = "hang"
            await trio.sleep_forever()
        if method == "GET" and path.startswith("/v1/models/"):
            model = path[len("/v1/models/"):]
            ex.record.model = model
            if not self._authorised(headers):
                await self._error(ex, "unauthorized")
            elif profile.models and model not in profile.models:
                await ex.json(404, replies.error_body("not_found_error", f"model: {model}"), "model_missing")
            else:
                await ex.json(200, replies.model_body(model), "ok")
        elif (method, path) == ("POST", "/v1/messages"):
            await self._messages(ex, headers, body)
        else:
            await ex.json(404, replies.error_body("not_found_error", f"{method} {path} not found"), "not_found")

    async def _messages(self, ex: Exchange, headers: Mapping[str, str], body: bytes) -> None:
        profile = self.profile
        try:
            request = json.loads(body)
            if not isinstance(request, dict) or not isinstance(request.get("model"), str):
                raise ValueError("the body must be a JSON object with a string 'model'")
            if not isinstance(request.get("max_tokens"), int):
                raise ValueError("max_tokens: Field required")
        except ValueError as exc:
            await ex.json(400, replies.error_body("invalid_request_error", str(exc)), "bad_request")
            return
        ex.record.model = request["model"]
        if not self._authorised(headers):
            await self._error(ex, "unauthorized")
            return
        if profile.models and request["model"] not in profile.models:
            await ex.json(404, replies.error_body("not_found_error", f"model: {request['model']}"), "model_missing")
            return
        number = self._number
        self._number += 1
        outcome = profile.plan(number)
        ex.record.outcome = outcome
        if outcome == "hang":
            await trio.sleep_forever()
        await trio.sleep(profile.latency_first)
        if outcome in replies.ERRORS:
            await self._error(ex, outcome)
            return
        if outcome == "echo_key":
            await ex.json(400, replies.error_body("invalid_request_error", replies.echo_key_message(headers)),
                          outcome)
            return
        rng = request_rng(profile.seed, number, "content")
        try:
            if request.get("stream") is not True:
                await ex.json(200, replies.message_body(request, rng=rng, number=number,
                                                        malformed=outcome == "malformed"), outcome)
                return
            events = replies.reply_events(request, rng=rng, number=number, chunks=max(1, profile.chunks),
                                          malformed=outcome == "malformed", max_tokens_cut=outcome == "max_tokens")
        except ValueError as exc:
            await ex.json(400, replies.error_body("invalid_request_error", str(exc)), "bad_request")
            return
        await ex.head(200, "text/event-stream; charset=utf-8", first=events[0],
                      extra=(("request-id", f"req_fake_{ex.record.id:06d}"), ("cache-control", "no-cache")))
        for i, event in enumerate(events[1:-1], start=1):
            if outcome == "drop" and i == len(events) // 2:
                ex.done("drop")
                await ex.stream.aclose()
                raise ClientGone("dropped on purpose")
            await trio.sleep(profile.chunk_interval)
            await ex.data(event)
        await ex.data(events[-1], last=outcome)

    async def _control(self, ex: Exchange, method: str, path: str, body: bytes) -> None:
        if (method, path) == ("GET", "/_fake/requests"):
            await ex.json(200, {"requests": [attrs.asdict(r) for r in self._log]}, "ok")
        elif (method, path) == ("GET", "/_fake/config"):
            await ex.json(200, self.profile.to_json(), "ok")
        elif (method, path) == ("POST", "/_fake/reset"):
            self.reset()
            await ex.json(200, self.profile.to_json(), "ok")
        elif (method, path) == ("POST", "/_fake/config"):
            try:
                data = json.loads(body or b"{}")
                if not isinstance(data, dict):
                    raise ConfigError("fake-anthropic: the config body must be a JSON object")
                self.profile = AnthropicProfile.from_mapping(data, base=self.launch_profile)
            except (ConfigError, ValueError) as exc:
                await ex.json(400, {"error": str(exc)}, "bad_request")
                return
            self._number = 0
            await ex.json(200, self.profile.to_json(), "ok")
        else:
            await ex.json(404, {"error": f"{method} {path} not found"}, "not_found")


def _parser() -> argparse.ArgumentParser:
    d = AnthropicProfile()
    p = argparse.ArgumentParser(
        prog="fake-anthropic",
        description="A fake Anthropic Messages API on 127.0.0.1 (streaming SSE, forced tool calls answered with "
        "input_json_delta) with scripted faults. Control it at runtime with POST /_fake/config (the same keys "
        "as these flags, with underscores), POST /_fake/reset and GET /_fake/requests.",
        epilog=f"Script outcomes: {', '.join(OUTCOMES)}. Example: --script 'ok*5,rate_limited,overloaded*2,ok*'.",
    )
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 (default) picks a free one")
    p.add_argument("--api-key-file", help="file holding the only x-api-key accepted (others get 401); "
                   "default: any key is accepted")
    p.add_argument("--model", dest="models", action="append", metavar="NAME",
                   help="a model that exists (repeat for more; default: every name exists)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--latency-first", type=float, default=d.latency_first, metavar="SECONDS",
                   help="wait before the response head")
    p.add_argument("--chunk-interval", type=float, default=d.chunk_interval, metavar="SECONDS",
                   help="wait between events")
    p.add_argument("--chunks", type=int, default=d.chunks, help="input_json_delta pieces per reply")
    p.add_argument("--retry-after", type=float, default=d.retry_after, help="retry-after seconds on 429")
    p.add_argument("--script", default="", help="outcomes in request order, e.g. 'ok*3,overloaded,ok*'")
    p.add_argument("--hang-all", action="store_true", help="every API endpoint hangs (control endpoints answer)")
    p.add_argument("--log-limit", type=int, default=10_000, help="requests kept in the log")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return p


def main(argv: list[str] | None = None) -> int:
    """Run until SIGINT/SIGTERM: 0 on a clean stop, 2 on bad flags, 1 if the port is taken."""
    args = _parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=args.log_level, format="%(asctime)s %(levelname)s %(message)s")
    try:
        key = None
        if args.api_key_file:
            try:
                key = Secret.from_file(args.api_key_file).reveal()
            except (OSError, SecretFormatError) as exc:
                raise ConfigError(f"--api-key-file: {exc}") from None
        values = {k: v for k, v in vars(args).items() if k not in ("port", "log_limit", "log_level", "api_key_file")}
        if values["models"] is None:
            del values["models"]
        profile = AnthropicProfile.from_mapping({**values, "api_key": key})
    except ConfigError as exc:
        print(f"fake-anthropic: {exc}", file=sys.stderr)
        return exc.exit_code
    return run_server_cli(FakeAnthropicServer(profile, log_limit=args.log_limit), args.port, name="fake-anthropic",
                          ready=READY)


if __name__ == "__main__":
    sys.exit(main())
