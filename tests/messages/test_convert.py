"""The cattrs converter: every bad field reported with its path, nothing else escapes."""

import datetime as dt

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messages.convert import DocumentError, structure, unstructure
from messages.debate import RiskAssessment, Stance, Thesis, Verdict


def test_valid_thesis_is_structured_with_enum_case_folded():
    """Enums accept any case; tuples come from lists."""
    thesis = structure({"stance": "Bullish", "conviction": 0.7, "key_points": ["a", "b"], "summary": "s"}, Thesis)
    assert thesis == Thesis(Stance.BULLISH, 0.7, ("a", "b"), "s")


def test_every_bad_field_is_reported_with_its_path():
    """Several problems in one document are all listed, each with its JSON path."""
    with pytest.raises(DocumentError) as info:
        structure({"stance": "up", "conviction": "high", "key_points": ["a", 3], "summary": "s", "x": 1}, Thesis)
    problems = info.value.problems
    assert "$.stance: expected one of 'bullish', 'bearish', 'neutral', got 'up'" in problems
    assert "$.conviction: expected a number, got 'high'" in problems
    assert "$.key_points[1]: expected a string, got 3" in problems
    assert "$: unexpected field(s) x" in problems


def test_range_checks_apply():
    """Conviction outside 0..1 and empty key points are rejected with the field named."""
    with pytest.raises(DocumentError, match="conviction"):
        structure({"verdict": "take", "conviction": 1.5, "main_risks": ["r"], "summary": "s"}, RiskAssessment)
    with pytest.raises(DocumentError, match="main_risks must list at least one point"):
        structure({"verdict": "take", "conviction": 0.5, "main_risks": [], "summary": "s"}, RiskAssessment)


def test_missing_fields_and_non_objects():
    """A missing field and a non-object document are clear errors."""
    with pytest.raises(DocumentError, match=r"\$\.summary: required field missing"):
        structure({"verdict": "avoid", "conviction": 0.5, "main_risks": ["r"]}, RiskAssessment)
    with pytest.raises(DocumentError, match=r"\$: expected a JSON object, got list"):
        structure([1, 2], Thesis)


def test_nan_and_bool_are_not_numbers():
    """NaN, infinity and booleans are refused where a number is expected."""
    for bad in (float("nan"), float("inf"), True):
        with pytest.raises(DocumentError, match=r"\$\.conviction"):
            structure({"stance": "neutral", "conviction": bad, "key_points": ["a"], "summary": "s"}, Thesis)


def test_lenient_mode_ignores_extra_keys_of_other_peoples_schemas():
    """strict=False is for provider payloads: extra keys are ignored."""
    @attrs.frozen
    class Quote:
        bid: float
        day: dt.date

    assert structure({"bid": 1, "day": "2026-07-24", "extra": 1}, Quote, strict=False) == Quote(1.0, dt.date(2026, 7, 24))


def test_unstructure_round_trips():
    """unstructure gives JSON-ready values that structure reads back."""
    risk = RiskAssessment(Verdict.ADJUST, 0.4, ("iv crush",), "s", Stance.BEARISH)
    assert structure(unstructure(risk), RiskAssessment) == risk


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["stance", "conviction", "key_points", "summary", "verdict", "x"]), json_values))
def test_arbitrary_json_gives_a_value_or_a_document_error(doc):
    """Whatever a small model sends, the caller sees a Thesis or a DocumentError, nothing else."""
    try:
        result = structure(doc, Thesis)
    except DocumentError as exc:
        assert exc.problems and all(p.startswith("$") for p in exc.problems)
    else:
        assert isinstance(result, Thesis)
