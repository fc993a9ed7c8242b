"""An Ollama server as an ``httpx.MockTransport`` handler whose every reply's summary carries a <script>.

The replies are the fake-ollama's own (``reply_content``, valid for the schema asked); each
``summary`` gets :data:`INJECTED` appended: untrusted LLM text the dashboard must show as text.
The real :class:`~actors.llm.ollama_client.OllamaChat` talks to it, so the theses go through the
product's client, pool and persister.
"""

from __future__ import annotations

import json
import random

import httpx
import trio

from actors.fakes.ollama_replies import chat_chunk, chat_final, ps_body, reply_content, tags_body

INJECTED = "<script>window.__owned = 1</script>"
MODEL = "llama3.1:8b"


class InjectingOllama:
    """``/api/tags``, ``/api/ps`` and streaming ``/api/chat``; each reply takes ``latency`` seconds."""

    def __init__(self, *, latency: float = 0.25) -> None:
        self.latency = latency
        self.chats = 0

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/tags":
            return httpx.Response(200, json=tags_body([MODEL]))
        if request.url.path == "/api/ps":
            return httpx.Response(200, json=ps_body([MODEL]))
        body = json.loads(request.content)
        self.chats += 1
        await trio.sleep(self.latency)
        document = json.loads(reply_content(body, rng=random.Random(self.chats), number=self.chats, malformed=False))
        if isinstance(document, dict) and isinstance(document.get("summary"), str):
            document["summary"] += " " + INJECTED
        content = json.dumps(document)
        lines = [chat_chunk(MODEL, content), chat_final(MODEL, content="", generated=content, prompt="",
                                                        total=self.latency, load=0.0, evaluating=self.latency)]
        return httpx.Response(200, content="".join(json.dumps(line) + "\n" for line in lines).encode())
