"""JSON schemas from attrs reply classes, and strict reply parsing (pure, synchronous)."""

from __future__ import annotations

import attrs
import pytest

from actors.llm.structured import ReplyInvalid, json_schema, parse_reply, strict_retry_instruction
from messages.articles import NewsCategories, TickerSentiment
from messages.debate import RiskAssessment, Stance, Thesis

@attrs.frozen
class Inner:
    x: int = attrs.field(validator=attrs.validators.gt(0))


@attrs.frozen
class Outer:
    inner: Inner
    tags: tuple[str, ...] = attrs.field(validator=[attrs.validators.min_len(1), attrs.validators.max_len(3)])
    note: str | None = attrs.field(default=None, metadata={"json_schema": {"description": "free text"}})


GOOD = '{"stance": "bearish", "conviction": 0.25, "key_points": ["rich IV", "weak guide"], "summary": "down"}'


class TestJsonSchema:
    def test_thesis_schema_has_enums_bounds_arrays_and_no_extra_keys(self):
        """Thesis → enum list for stance, 0..1 bounds for conviction, string array, all required."""
        schema = json_schema(Thesis)
        assert schema["type"] == "object" and schema["additionalProperties"] is False
        assert schema["required"] == ["stance", "conviction", "key_points", "summary"]
        props = schema["properties"]
        assert props["stance"] == {"type": "string", "enum": ["bullish", "bearish", "neutral"]}
        assert props["conviction"] == {"type": "number", "minimum": 0.0, "maximum": 1.0}
        assert props["key_points"] == {"type": "array", "items": {"type": "string"}}
        assert props["summary"] == {"type": "string"}

    def test_fields_with_defaults_are_not_required(self):
        """RiskAssessment.stance has a default, so it is optional in the schema."""
        schema = json_schema(RiskAssessment)
        assert "stance" not in schema["required"] and "stance" in schema["properties"]
        assert schema["properties"]["verdict"]["enum"] == ["take", "adjust", "avoid"]

    def test_news_reply_ranges_come_from_the_validators(self):
        """TickerSentiment's sentiment -1..1 and impact 0..10, NewsCategories' 1..4 items, are in the schema."""
        props = json_schema(TickerSentiment)["properties"]
        assert props["sentiment"] == {"type": "number", "minimum": -1.0, "maximum": 1.0}
        assert props["impact"] == {"type": "number", "minimum": 0.0, "maximum": 10.0}
        assert json_schema(NewsCategories)["properties"]["categories"] == {
            "type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 4}

    def test_optional_nested_lengths_and_metadata(self):
        """X | None → anyOf with null; min_len/max_len → minItems/maxItems; metadata merges last."""

        schema = json_schema(Outer)
        assert schema["properties"]["inner"]["properties"]["x"] == {"type": "integer", "exclusiveMinimum": 0}
        assert schema["properties"]["tags"] == {"type": "array", "items": {"type": "string"},
                                                "minItems": 1, "maxItems": 3}
        assert schema["properties"]["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}],
                                                "description": "free text"}
        assert schema["required"] == ["inner", "tags"]

    def test_non_attrs_class_is_refused(self):
        """A plain class has no schema: TypeError naming it."""
        with pytest.raises(TypeError, match="json_schema needs an attrs class"):
            json_schema(dict)


class TestParseReply:
    def test_plain_json_object(self):
        """A bare JSON object parses into the class."""
        assert parse_reply(GOOD, Thesis) == Thesis(Stance.BEARISH, 0.25, ("rich IV", "weak guide"), "down")

    def test_fenced_json_with_prose_around_it(self):
        """```json fences and prose before/after are tolerated."""
        text = f"Here is my analysis:\n```json\n{GOOD}\n```\nLet me know if you need more."
        assert parse_reply(text, Thesis).stance is Stance.BEARISH

    def test_prose_with_braces_before_the_object(self):
        """A brace in the prose that is not JSON is skipped; the real object is found."""
        assert parse_reply("Thinking {briefly}... " + GOOD, Thesis).conviction == 0.25

    def test_enum_case_is_tolerated(self):
        """Enum values are matched case-insensitively (the converter's rule)."""
        assert parse_reply(GOOD.replace("bearish", "BEARISH"), Thesis).stance is Stance.BEARISH

    @pytest.mark.parametrize(
        ("text", "problem"),
        [
            ("I am bullish on this.", "$: expected a JSON object, found none in the reply"),
            ("   ", "$: the reply is empty"),
            ('{"stance": "bullish", "conviction": ', "$: not valid JSON"),
            (GOOD.replace('"bearish"', '"down"'), "$.stance: expected one of 'bullish', 'bearish', 'neutral', got 'down'"),
            (GOOD.replace('"summary": "down"', '"summary": "down", "extra": 1'), "$: unexpected field(s) extra"),
            (GOOD.replace('"conviction": 0.25, ', ""), "$.conviction: required field missing"),
            (GOOD.replace("0.25", "1.5"), "'conviction' must be <= 1.0"),
            (GOOD.replace('["rich IV", "weak guide"]', "[]"), "key_points must list at least one point"),
            ('["a list"]', "$: expected a JSON object, found none in the reply"),
        ],
    )
    def test_problems_are_reported_by_path(self, text, problem):
        """Each way a reply can be wrong raises ReplyInvalid with a path-reporting problem."""
        with pytest.raises(ReplyInvalid) as info:
            parse_reply(text, Thesis)
        assert any(problem in p for p in info.value.problems), info.value.problems
        assert isinstance(info.value, ValueError) and info.value.what == "Thesis"

    def test_risk_assessment_default_stance(self):
        """A risk reply without stance gets the neutral default."""
        value = parse_reply('{"verdict": "avoid", "conviction": 0.9, "main_risks": ["gap"], "summary": "no"}',
                            RiskAssessment)
        assert value.stance is Stance.NEUTRAL


def test_strict_instruction_names_the_rule_and_the_problems():
    """The retry instruction starts from the rule and lists every problem found."""
    text = strict_retry_instruction(("$.stance: bad", "$.summary: required field missing"))
    assert "Reply with only a JSON object matching the schema" in text
    assert "- $.stance: bad\n- $.summary: required field missing" in text
