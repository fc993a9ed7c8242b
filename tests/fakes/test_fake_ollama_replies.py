"""Reply bodies: content by format, malformed content, chunking, and the Ollama shapes."""

import json
import random

import pytest

from actors.fakes.ollama_replies import chat_final, reply_content, split_content, tags_body
from actors.fakes.ollama_schema import violations

from .test_fake_ollama_schema import THESIS


def _request(fmt=None, prompt="Bull case for $AMD please"):
    request = {"model": "m", "messages": [{"role": "user", "content": prompt}]}
    if fmt is not None:
        request["format"] = fmt
    return request


def _fits(content: str, schema) -> bool:
    try:
        document = json.loads(content)
    except ValueError:
        return False
    return violations(document, schema) == []


@pytest.mark.parametrize("seed", range(30))
def test_malformed_content_never_fits_the_schema(seed):
    """A malformed reply is invalid JSON or breaks the schema, whatever the draw."""
    content = reply_content(_request(THESIS), rng=random.Random(seed), number=seed, malformed=True)
    assert not _fits(content, THESIS)


def test_good_content_fits_and_is_about_the_ticker():
    """A schema reply is JSON fitting the schema, about the prompt's ticker."""
    content = reply_content(_request(THESIS), rng=random.Random(1), number=0, malformed=False)
    assert _fits(content, THESIS)
    assert "AMD" in json.loads(content)["summary"]


def test_json_format_gives_an_object_and_plain_gives_text():
    """'format: json' gives a JSON object; no format gives prose naming the subject."""
    as_json = json.loads(reply_content(_request("json"), rng=random.Random(1), number=4, malformed=False))
    assert as_json == {"reply": "Synthetic reply 5 about AMD", "subject": "AMD"}
    text = reply_content(_request(), rng=random.Random(1), number=0, malformed=False)
    assert text.startswith("Synthetic reply 1 about AMD. ")


def test_malformed_json_format_is_not_json():
    """With 'format: json', a malformed reply does not parse."""
    for seed in range(10):
        content = reply_content(_request("json"), rng=random.Random(seed), number=0, malformed=True)
        with pytest.raises(ValueError):
            json.loads(content)


@pytest.mark.parametrize(("length", "pieces", "expected"), [(10, 4, 4), (3, 8, 3), (0, 4, 1)])
def test_split_content_keeps_every_character(length, pieces, expected):
    """The pieces join back to the content; there are at most as many as characters."""
    content = "abcdefghij"[:length]
    parts = split_content(content, pieces)
    assert "".join(parts) == content
    assert len(parts) == expected


def test_tags_entries_have_the_real_fields():
    """Each model in /api/tags has name, model, modified_at, size, digest and details."""
    (entry,) = tags_body(["llama3.1:8b"])["models"]
    assert set(entry) == {"name", "model", "modified_at", "size", "digest", "details"}
    assert entry["name"] == entry["model"] == "llama3.1:8b"
    assert entry["details"]["family"] == "llama"
    assert len(entry["digest"]) == 64


def test_final_chat_object_carries_done_fields():
    """The last chat object says done, why, and the counts and durations in nanoseconds."""
    final = chat_final("m", content="", generated="x" * 40, prompt="y" * 80, total=1.5, load=0.25, evaluating=1.0)
    assert final["done"] is True and final["done_reason"] == "stop"
    assert final["total_duration"] == 1_500_000_000
    assert final["load_duration"] == 250_000_000
    assert (final["prompt_eval_count"], final["eval_count"]) == (20, 10)
    assert final["message"] == {"role": "assistant", "content": ""}
