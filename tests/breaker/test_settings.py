"""The breaker's settings: validated where they are read, and passed to the breaker the product builds."""

from __future__ import annotations

import pytest

from actors.config import load_settings
from actors.errors import ConfigError
from tests.debate.fakes import MockOllama, debate_phase


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("breaker_failure_rate", "1.5", "a value <= 1"),
        ("breaker_failure_rate", "0", "a value > 0"),
        ("breaker_window", "0", "a value > 0"),
        ("breaker_min_calls", "0", "a value >= 1"),
        ("breaker_min_calls", "ten", "an integer"),
    ],
)
def test_bad_breaker_settings_name_the_field(name, value, expected):
    """A bad value from the environment is refused naming the setting, the value and its source."""
    env = {f"OPTION_ALPHA_{name.upper()}": value}
    with pytest.raises(ConfigError, match=rf"^{name}: expected {expected}.*got '{value}' \(from env OPTION_ALPHA_"):
        load_settings(env=env, config_file=None)


def test_defaults():
    """30 s window, at least 20 answered attempts, over 50 % answered errors."""
    s = load_settings(env={}, config_file=None)
    assert (s.breaker_window, s.breaker_min_calls, s.breaker_failure_rate) == (30.0, 20, 0.5)


async def test_the_wiring_passes_the_window_settings_to_the_breaker(autojump_clock):
    """With breaker_min_calls 3 and rate 0.5, three 500s in a row open it; with the defaults they do not."""
    def server():
        return MockOllama(latency_first=0.2, plan=lambda n: "http_500" if n < 3 else "ok")

    strict = await debate_phase(server(), n=1, breaker_min_calls=3, ai_retry_delays=(0.2, 0.4, 0.8))
    assert [e.reason[:16] for e in strict.openings] == ["answered errors "]
    default = await debate_phase(server(), n=1, ai_retry_delays=(0.2, 0.4, 0.8))
    assert default.openings == [] and default.summary.completed == 1
