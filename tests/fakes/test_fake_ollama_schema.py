"""Schema samples: they fit the schema, read plausibly, and repeat for the same seed."""

import random

import pytest
from hypothesis import given, strategies as st

from actors.fakes.ollama_schema import find_subject, sample, violations

THESIS = {
    "type": "object",
    "properties": {
        "stance": {"type": "string", "enum": ["bullish", "bearish", "neutral"]},
        "conviction": {"type": "number", "minimum": 0, "maximum": 1},
        "key_points": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 8},
        "summary": {"type": "string"},
    },
    "required": ["stance", "conviction", "key_points", "summary"],
}

PYDANTIC_STYLE = {
    "$defs": {
        "Risk": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 5, "maxLength": 40},
                "severity": {"type": "integer", "minimum": 1, "maximum": 5},
            },
            "required": ["name", "severity"],
        }
    },
    "type": "object",
    "properties": {
        "verdict": {"enum": ["take", "adjust", "avoid"]},
        "risks": {"type": "array", "items": {"$ref": "#/$defs/Risk"}, "minItems": 2, "maxItems": 2},
        "hedge": {"anyOf": [{"$ref": "#/$defs/Risk"}, {"type": "null"}]},
        "as_of": {"type": "string", "format": "date-time"},
        "score": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "flag": {"type": ["boolean", "null"]},
        "rank": {"type": "integer", "exclusiveMinimum": 0, "maximum": 3},
        "kind": {"const": "risk"},
    },
    "required": ["verdict", "risks", "hedge", "as_of", "score", "flag", "rank", "kind"],
}


@given(st.integers(min_value=0, max_value=10_000))
def test_samples_fit_the_thesis_schema(seed):
    """Every seed gives a thesis that fits its schema."""
    document = sample(THESIS, rng=random.Random(seed), subject="AAPL")
    assert violations(document, THESIS) == []


@given(st.integers(min_value=0, max_value=10_000))
def test_samples_follow_refs_anyof_and_bounds(seed):
    """$defs/$ref, anyOf with null, exclusive bounds, type lists and const are honoured."""
    document = sample(PYDANTIC_STYLE, rng=random.Random(seed))
    assert violations(document, PYDANTIC_STYLE) == []
    assert len(document["risks"]) == 2
    assert document["kind"] == "risk"


def test_text_fields_name_the_subject_and_number_points():
    """Array items read 'Synthetic key point N about <ticker>'."""
    document = sample(THESIS, rng=random.Random(3), subject="NVDA")
    assert document["key_points"][0] == "Synthetic key point 1 about NVDA"
    assert "NVDA" in document["summary"]


def test_same_seed_same_document_other_seed_differs():
    """The document depends only on the random source's seed."""
    first = [sample(THESIS, rng=random.Random(s)) for s in range(5)]
    again = [sample(THESIS, rng=random.Random(s)) for s in range(5)]
    assert first == again
    assert len({repr(d) for d in first}) > 1


def test_violations_name_each_problem_with_its_path():
    """A wrong document is reported field by field."""
    problems = violations({"stance": "up", "conviction": 1.5, "key_points": []}, THESIS)
    assert "$: missing required field 'summary'" in problems
    assert any(p.startswith("$.stance: 'up' is not one of") for p in problems)
    assert any(p.startswith("$.conviction: 1.5 is above the maximum") for p in problems)
    assert any(p.startswith("$.key_points: expected at least 1") for p in problems)


def test_bad_ref_is_a_clear_error():
    """A $ref to nowhere raises ValueError naming the reference."""
    with pytest.raises(ValueError, match=r"\$ref '#/\$defs/Nope' points at nothing"):
        sample({"$ref": "#/$defs/Nope"}, rng=random.Random(0))


@pytest.mark.parametrize(
    ("prompt", "subject"),
    [
        ("Make the bull case for $TSLA.", "TSLA"),
        ("Ticker: MSFT. Give JSON.", "MSFT"),
        ("Is AAPL a buy? Answer in JSON.", "AAPL"),
        ("nothing in capitals here", "the market"),
    ],
)
def test_find_subject_picks_the_ticker(prompt, subject):
    """The ticker is found in $X, 'ticker: X' or a capitalised word that is not a common acronym."""
    assert find_subject(prompt) == subject
