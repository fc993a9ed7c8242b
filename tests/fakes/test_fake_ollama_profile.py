"""The fault profile: script parsing, validation, and which outcome each request gets."""

import collections

import pytest

from actors.errors import ConfigError
from actors.fakes.ollama import _parser, profile_values
from actors.fakes.ollama_profile import Profile, ScriptEntry, parse_script, plan_outcome


def test_script_counts_and_forever():
    """'name*K' repeats K times, 'name*' forever, a bare name once."""
    assert parse_script("ok*3,http_500,malformed,ok*") == (
        ScriptEntry("ok", 3),
        ScriptEntry("http_500", 1),
        ScriptEntry("malformed", 1),
        ScriptEntry("ok", None),
    )


def test_script_gives_outcomes_in_request_order():
    """Request n gets the n-th script step; the forever entry repeats."""
    profile = Profile(script="ok*2,http_500,hang*")
    assert [plan_outcome(profile, n) for n in range(6)] == ["ok", "ok", "http_500", "hang", "hang", "hang"]


def test_finished_script_falls_back_to_probabilities():
    """After a finite script, the probabilities decide."""
    profile = Profile(script="ok", http_429=1.0)
    assert [plan_outcome(profile, n) for n in range(3)] == ["ok", "http_429", "http_429"]


def test_script_overrides_probabilities():
    """While a script runs, the probabilities are not used."""
    profile = Profile(script="ok*", http_500=1.0)
    assert {plan_outcome(profile, n) for n in range(20)} == {"ok"}


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("ok*,hang", "entry 1 'ok\\*' repeats forever, so it must be the last entry"),
        ("ok,explode", "entry 2 'explode': unknown outcome 'explode'"),
        ("ok*0", "count after '\\*' must be a positive integer"),
        ("ok*x", "count after '\\*' must be a positive integer"),
    ],
)
def test_bad_script_names_the_entry(script, message):
    """A bad script entry is reported by position and text."""
    with pytest.raises(ConfigError, match=message):
        parse_script(script)


def test_probabilities_are_seeded_and_roughly_honoured():
    """The same seed gives the same outcomes; frequencies follow the probabilities."""
    profile = Profile(seed=11, http_500=0.2, hang=0.1)
    outcomes = [plan_outcome(profile, n) for n in range(2000)]
    assert outcomes == [plan_outcome(Profile(seed=11, http_500=0.2, hang=0.1), n) for n in range(2000)]
    counts = collections.Counter(outcomes)
    assert 300 < counts["http_500"] < 500
    assert 120 < counts["hang"] < 280
    assert outcomes != [plan_outcome(Profile(seed=12, http_500=0.2, hang=0.1), n) for n in range(2000)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"http_500": 1.5}, "http_500 must be a probability from 0 to 1, got 1.5"),
        ({"http_500": 0.7, "drop": 0.7}, "fault probabilities add up to 1.4"),
        ({"latency_first": -1}, "latency_first must be >= 0 seconds"),
        ({"chunks": 0}, "chunks must be >= 1"),
        ({"models": []}, "models must be a non-empty list"),
        ({"stal": 0.1}, r"unknown key\(s\) \['stal'\]"),
        ({"hang_all": "yes"}, "bad value in hang_all='yes'"),
        ({"latency_first": "soon"}, "bad value in latency_first='soon'"),
    ],
)
def test_bad_config_names_the_field(data, message):
    """Bad values and unknown keys raise ConfigError naming the key."""
    with pytest.raises(ConfigError, match=message):
        Profile.from_mapping(data)


def test_from_mapping_replaces_only_given_keys_of_the_base():
    """Keys not given keep the base profile's values."""
    base = Profile(models=("a", "b"), latency_first=0.5)
    profile = Profile.from_mapping({"http_503": 0.25}, base=base)
    assert (profile.models, profile.latency_first, profile.http_503) == (("a", "b"), 0.5, 0.25)


def test_argv_round_trips_through_the_command_line():
    """Profile.to_argv() parsed by the CLI gives back the same profile."""
    profile = Profile(models=("m1", "m2:7b"), seed=5, latency_first=0.25, chunks=7, http_503=0.1,
                      script="ok*2,drop,ok*", hang_all=True)
    values = profile_values(_parser().parse_args(profile.to_argv()))
    assert Profile.from_mapping(values) == profile
