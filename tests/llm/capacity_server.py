"""An Ollama-like server for ``httpx.MockTransport`` in virtual time: P requests at once, the rest queue.

Like Ollama with ``OLLAMA_NUM_PARALLEL=P``: a generation request waits (first come, first
served) for one of ``capacity`` slots before its first byte, then takes ``prefill`` seconds to
its first chunk and ``generation`` more to its last (each scaled per request by a seeded
``uniform(1 - spread, 1 + spread)``). ``capacity`` can change while requests run
(another tenant arriving, a smaller GPU). Replies fit the request's JSON schema (the same
generator as ``bin/fake-ollama``). Every request is recorded with its queueing time.
"""

from __future__ import annotations

import json
import random

import attrs
import httpx
import trio

from actors.fakes import ollama_replies as replies


@attrs.define
class Served:
    """One generation request: when it arrived, how long it queued, when its first chunk left."""

    arrived: float
    queued: float = 0.0
    first_chunk: float | None = None
    done: float | None = None


class CapacityServer:
    """Handler for ``httpx.MockTransport`` (see the module docstring)."""

    def __init__(self, capacity: int, *, prefill: float = 0.05, generation: float = 0.95, chunks: int = 4,
                 rng: random.Random | None = None, spread: float = 0.0) -> None:
        self._capacity = capacity
        self.rng = rng or random.Random(0)
        self.spread = spread  # each request's prefill and generation scaled by uniform(1 - spread, 1 + spread)
        self.prefill = prefill
        self.generation = generation
        self.chunks = chunks
        self.serving = 0
        self.max_serving = 0
        self.served: list[Served] = []
        self._waiting = trio.lowlevel.ParkingLot()

    @property
    def capacity(self) -> int:
        return self._capacity

    @capacity.setter
    def capacity(self, value: int) -> None:
        self._capacity = value
        self._admit()

    def _admit(self) -> None:
        while len(self._waiting) and self.serving < self._capacity:
            self._take()
            self._waiting.unpark(count=1)

    def _take(self) -> None:
        self.serving += 1
        self.max_serving = max(self.max_serving, self.serving)

    def _give(self) -> None:
        self.serving -= 1
        self._admit()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/ps":  # the client's cold-load check: the model is loaded
            return httpx.Response(200, json=replies.ps_body(["m"]))
        body = json.loads(request.content)
        record = Served(arrived=trio.current_time())
        self.served.append(record)
        if self.serving < self._capacity and not len(self._waiting):
            self._take()
        else:
            await self._waiting.park()  # _admit took the slot for us
        record.queued = trio.current_time() - record.arrived
        content = replies.reply_content(body, rng=random.Random(len(self.served)), number=len(self.served),
                                        malformed=False)
        return httpx.Response(200, content=self._stream(record, body["model"], content))

    async def _stream(self, record: Served, model: str, content: str):
        scale = self.rng.uniform(1 - self.spread, 1 + self.spread) if self.spread else 1.0
        prefill, generation = self.prefill * scale, self.generation * self.rng.uniform(1 - self.spread, 1 + self.spread)
        try:
            await trio.sleep(prefill)
            record.first_chunk = trio.current_time()
            pieces = replies.split_content(content, self.chunks)
            for i, piece in enumerate(pieces):
                if i:
                    await trio.sleep(generation / len(pieces))
                yield (json.dumps(replies.chat_chunk(model, piece)) + "\n").encode()
            await trio.sleep(generation / len(pieces))
            final = replies.chat_final(model, content="", generated=content, prompt="", total=0.0, load=0.0,
                                       evaluating=generation)
            record.done = trio.current_time()
            yield (json.dumps(final) + "\n").encode()
        finally:
            self._give()
