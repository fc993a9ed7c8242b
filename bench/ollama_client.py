"""Two client-level measurements behind settings and defaults of the Ollama client.

1. Output cap: the JSON size of the largest valid reply of each debate reply type
   (``actors.core.prompts.REPLY_TYPES``) in tokens (characters / 3.5), and the
   ``ollama_num_predict`` it asks for with 25 % headroom, rounded up to a multiple of 256. The schemas bound list lengths
   (``key_points``/``main_risks``: at most 8) but not string lengths, so "largest" assumes the
   longest text an agent is asked for: points of 240 characters (two full sentences), a summary
   of 900 characters (about 150 words), indented JSON as models write it under a grammar.
2. Transport construction: building ``OllamaChat`` for an ``http://`` host (no CA bundle)
   against the same client with httpx's default transport (which loads certifi's CA bundle),
   median of N constructions each, and the ratio.

    .venv/bin/python bench/ollama_client.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actors.core.prompts import REPLY_TYPES  # noqa: E402
from actors.llm.ollama_client import OllamaChat  # noqa: E402
from actors.llm.structured import json_schema  # noqa: E402

CHARS_PER_TOKEN = 3.5
HEADROOM = 1.25
POINT_CHARS = 240
SUMMARY_CHARS = 900
MAX_POINTS = 8


def _text(length: int) -> str:
    sentence = "Implied volatility sits near its one-year median while earnings approach. "
    return (sentence * (length // len(sentence) + 1))[:length]


def largest_reply(cls: type) -> dict[str, Any]:
    """A valid reply of ``cls`` with every list full and every string as long as asked for."""
    schema = json_schema(cls)
    document: dict[str, Any] = {}
    for name, prop in schema["properties"].items():
        if "enum" in prop:
            document[name] = max(prop["enum"], key=len)
        elif prop.get("type") == "number":
            document[name] = 0.85
        elif prop.get("type") == "array":
            document[name] = [_text(POINT_CHARS) for _ in range(prop.get("maxItems", MAX_POINTS))]
        else:
            document[name] = _text(SUMMARY_CHARS)
    return document


def reply_table() -> int:
    print(f"{'reply type':<16} {'chars':>6} {'tokens':>7} {'x1.25':>7}")
    worst = 0
    for cls in dict.fromkeys(REPLY_TYPES.values()):
        text = json.dumps(largest_reply(cls), indent=2)
        tokens = len(text) / CHARS_PER_TOKEN
        worst = max(worst, int(tokens * HEADROOM))
        print(f"{cls.__name__:<16} {len(text):>6} {tokens:>7.0f} {tokens * HEADROOM:>7.0f}")
    cap = -(-worst // 256) * 256
    print(f"largest x {HEADROOM} = {worst} tokens -> ollama_num_predict {cap} (next multiple of 256)\n")
    return cap


def _median_ms(build: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        build()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def transport_table(repeat: int) -> None:
    before = _median_ms(lambda: OllamaChat(model="m", host="http://127.0.0.1:11434",
                                           transport=httpx.AsyncHTTPTransport()), repeat)
    after = _median_ms(lambda: OllamaChat(model="m", host="http://127.0.0.1:11434"), repeat)
    https = _median_ms(lambda: OllamaChat(model="m", host="https://ollama.example"), repeat)
    print(f"{'OllamaChat(...) construction':<44} {'median ms':>9}")
    print(f"{'http:// host, httpx default transport (before)':<44} {before:>9.2f}")
    print(f"{'http:// host, no CA bundle (after)':<44} {after:>9.2f}")
    print(f"{'https:// host (CA bundle, unchanged)':<44} {https:>9.2f}")
    print(f"after / before = {after / before:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    reply_table()
    transport_table(args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
