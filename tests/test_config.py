"""Settings: defaults ← TOML ← environment ← flags, with errors that name field and source."""

import re
from pathlib import Path

import pytest

from actors.config import Settings, load_settings, settings_snapshot
from actors.errors import ConfigError


def test_defaults_carry_the_names_the_product_is_known_by():
    """Defaults match the documented values."""
    s = load_settings(env={})
    assert s.top_n_ai_debate == 10
    assert s.fetch_retry_delays == (1.0, 2.0, 4.0)
    assert s.ai_backend == "ollama"
    assert s.ollama_host == "http://127.0.0.1:11434"
    assert s.ollama_model == "llama3.1:8b"
    assert s.ai_request_timeout == 120.0
    assert s.ai_retry_delays == (2.0, 4.0, 8.0)
    assert s.ai_debate_phase_timeout == 600.0
    assert s.ai_debate_concurrency == 3
    assert s.db_path is None


def test_precedence_file_then_env_then_flags(tmp_path: Path):
    """Each layer overrides the one before it."""
    cfg = tmp_path / "config.toml"
    cfg.write_text('top_n_ai_debate = 4\nai_backend = "claude"\nollama_model = "qwen2.5:7b"\n')
    env = {"OPTION_ALPHA_TOP_N_AI_DEBATE": "6", "OPTION_ALPHA_AI_BACKEND": "none"}
    s = load_settings(config_file=cfg, env=env, flags={"top_n_ai_debate": 8})
    assert s.top_n_ai_debate == 8
    assert s.ai_backend == "none"
    assert s.ollama_model == "qwen2.5:7b"


def test_xdg_config_file_is_used_when_present(tmp_path: Path):
    """$XDG_CONFIG_HOME/option-alpha/config.toml is read without --config."""
    (tmp_path / "option-alpha").mkdir()
    (tmp_path / "option-alpha" / "config.toml").write_text("ai_debate_concurrency = 5\n")
    assert load_settings(env={"XDG_CONFIG_HOME": str(tmp_path)}).ai_debate_concurrency == 5


def test_env_lists_are_comma_separated():
    """OPTION_ALPHA_AI_RETRY_DELAYS=2,4,8 becomes a tuple of floats."""
    s = load_settings(env={"OPTION_ALPHA_AI_RETRY_DELAYS": "1, 3,9", "OPTION_ALPHA_UNIVERSE": "aapl,msft"})
    assert s.ai_retry_delays == (1.0, 3.0, 9.0)
    assert s.universe == ("AAPL", "MSFT")


@pytest.mark.parametrize(
    ("env", "flags", "message"),
    [
        ({"OPTION_ALPHA_AI_RETRY_DELAYS": "2,x"}, {}, r"ai_retry_delays: expected a list of numbers >= 0, got '2,x' \(from env OPTION_ALPHA_AI_RETRY_DELAYS\)"),
        ({"OPTION_ALPHA_AI_BACKEND": "gpt"}, {}, r"ai_backend: expected one of ollama, claude, none, got 'gpt' \(from env OPTION_ALPHA_AI_BACKEND\)"),
        ({}, {"ai_debate_concurrency": "0"}, r"ai_debate_concurrency: expected a value >= 1, got '0' \(from flag --ai-debate-concurrency\)"),
        ({}, {"ai_request_timeout": "-1"}, r"ai_request_timeout: expected a value > 0"),
        ({"OPTION_ALPHA_NOPE": "1"}, {}, r"unknown setting 'nope' \(from env OPTION_ALPHA_NOPE\)"),
        ({"OPTION_ALPHA_DTE_TARGET": "90"}, {}, r"dte_min <= dte_target <= dte_max must hold.*dte_target from env OPTION_ALPHA_DTE_TARGET"),
        ({"OPTION_ALPHA_OLLAMA_HOST": "localhost:11434"}, {}, r"ollama_host: expected an http:// or https:// URL"),
        ({"OPTION_ALPHA_AI_CONCURRENCY_MIN": "4"}, {},
         r"ai_concurrency_min \(4\) must not exceed ai_debate_concurrency \(3\).*pin.*ai_concurrency_min from env"),
        ({}, {"ai_first_chunk_timeout": "4.5"}, r"ai_connect_timeout \(5.0\) must not exceed ai_first_chunk_timeout \(4.5\).*from flag --ai-first-chunk-timeout"),
        ({}, {"ai_first_chunk_timeout": "200"}, r"ai_first_chunk_timeout \(200.0\) must not exceed ai_request_timeout \(120.0\)"),
    ],
)
def test_bad_values_name_field_source_and_allowed(env, flags, message):
    """A bad value names the field, where it came from, and what is allowed."""
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(env=env, flags=flags)
    assert info.value.exit_code == 2


def test_equal_concurrency_bounds_pin_the_llm_limit():
    """ai_concurrency_min == ai_debate_concurrency is accepted: the way to pin the adaptive limit."""
    s = load_settings(env={}, flags={"ai_concurrency_min": "4", "ai_debate_concurrency": "4"})
    assert (s.ai_concurrency_min, s.ai_debate_concurrency) == (4, 4)


def test_bad_toml_names_the_file(tmp_path: Path):
    """Invalid TOML and unknown keys in the file are reported with the file's path."""
    cfg = tmp_path / "c.toml"
    cfg.write_text("top_n = [\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config_file=cfg, env={})
    cfg.write_text("top_n = 3\n")
    with pytest.raises(ConfigError, match=rf"unknown setting 'top_n' \(from config file {cfg}\)"):
        load_settings(config_file=cfg, env={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(config_file=tmp_path / "missing.toml", env={})


def test_secrets_never_show():
    """The Anthropic key is masked in repr, the snapshot, and error messages."""
    key = "sk-ant-SECRET-123"
    s = load_settings(env={"ANTHROPIC_API_KEY": key})
    assert s.api_key().reveal() == key
    assert key not in repr(s)
    assert settings_snapshot(s)["anthropic_api_key"] == "***"
    assert key not in str(settings_snapshot(s))


def test_api_key_file_is_read_and_unreadable_file_is_named(tmp_path: Path):
    """A key file (systemd credentials) is read; an unreadable one names the path, not content."""
    keyfile = tmp_path / "key"
    keyfile.write_text("sk-from-file\n")
    s = load_settings(env={"OPTION_ALPHA_ANTHROPIC_API_KEY_FILE": str(keyfile)})
    assert s.api_key().reveal() == "sk-from-file"
    s = load_settings(env={"OPTION_ALPHA_ANTHROPIC_API_KEY_FILE": str(tmp_path / "none")})
    with pytest.raises(ConfigError, match="anthropic_api_key_file: cannot read"):
        s.api_key()


def test_settings_are_frozen():
    """Settings cannot be changed after loading."""
    import attrs

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Settings().top_n_ai_debate = 3  # type: ignore[misc]


def test_daemon_settings_defaults_and_forms(tmp_path: Path):
    """Daemon settings: documented defaults; durations and clock times from TOML, env and flags."""
    s = load_settings(env={})
    assert (s.scan_at, s.scan_timezone, s.scan_every, s.scan_on_start) == (("16:30",), "America/New_York", 0.0, False)
    assert (s.catch_up_window, s.resume_window, s.shutdown_grace) == (7200.0, 86400.0, 20.0)
    cfg = tmp_path / "config.toml"
    cfg.write_text('scan_at = ["16:30", "9:45"]\nscan_every = "2h"\nscan_on_start = true\nresume_window = "12h"\n')
    s = load_settings(config_file=cfg, env={"OPTION_ALPHA_SHUTDOWN_GRACE": "45s"})
    assert (s.scan_at, s.scan_every, s.scan_on_start, s.resume_window, s.shutdown_grace) == (
        ("09:45", "16:30"), 7200.0, True, 43200.0, 45.0)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("scan_at", "16:75", "scan_at: expected a list of clock times HH:MM"),
    ("scan_every", "often", "scan_every: expected a duration such as 90s"),
    ("scan_every", "30s", "scan_every: expected 0 (off) or at least 1m"),
    ("scan_timezone", "Mars/Olympus", "scan_timezone: expected an IANA time zone name"),
    ("scan_on_start", "perhaps", "scan_on_start: expected true or false"),
    ("catch_up_window", "-1h", "catch_up_window: expected a duration"),
])
def test_daemon_settings_refuse_bad_values_naming_the_field(name, value, message):
    """A bad daemon setting is a ConfigError naming the field, what is expected and where it came from."""
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        load_settings(env={}, flags={name: value})
    assert "flag --" in str(caught.value)
