"""Settings of the live source (issue 13): defaults, checks naming the field, named universes, CLI flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.cli import main
from actors.config import load_settings
from actors.errors import ConfigError
from actors.providers.live.settings import live_config
from actors.universes import load_universe


def test_live_is_the_default_source_with_conservative_host_rates():
    s = load_settings(env={})
    assert s.source == "live"
    assert (s.cboe_rate, s.nasdaq_rate, s.news_rate) == (4.0, 1.0, 2.0)
    assert s.cboe_base_url == "https://cdn.cboe.com" and s.nasdaq_base_url == "https://api.nasdaq.com"
    assert "{symbol}" in s.news_feed_url and s.news_feed_url.startswith("https://feeds.finance.yahoo.com/")
    config = live_config(s)
    assert config.cboe.retry_delays == s.fetch_retry_delays and config.news.timeout == s.fetch_timeout
    assert (config.cboe.burst, config.nasdaq.burst) == (4, 1)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"news_feed_url": "https://feeds.example/rss"}, "news_feed_url: expected a URL template containing {symbol}"),
        ({"cboe_base_url": "cdn.cboe.com"}, "cboe_base_url: expected an http:// or https:// URL"),
        ({"cboe_rate": "0"}, "cboe_rate: expected a value > 0"),
        ({"cache_mode": "sometimes"}, "cache_mode: expected one of use, refresh, off"),
        ({"edgar_user_agent": "option-alpha"}, "edgar_user_agent: the SEC requires a contact e-mail address"),
        ({"edgar_rate": "20"}, "edgar_rate: expected a value <= 10"),
        ({"source": "sim", "record_dir": "/tmp/x"}, "record_dir: only a live scan can be recorded"),
        ({"source": "live", "snapshot_dir": "/tmp/x"}, "snapshot_dir: a recording is replayed with source = snapshot"),
    ],
)
def test_bad_live_settings_name_the_field(flags, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("{", r"\{").replace("}", r"\}")):
        load_settings(env={}, flags=flags)


def test_a_shipped_list_name_is_its_tickers_and_anything_else_is_tickers():
    assert load_settings(env={}, flags={"universe": "sp100"}).universe == load_universe("sp100")
    assert load_settings(env={"OPTION_ALPHA_UNIVERSE": "LIQUID"}).universe[:3] == ("SPY", "QQQ", "IWM")
    assert load_settings(env={}, flags={"universe": "aapl,sp100"}).universe == ("AAPL", "SP100")
    assert len(load_universe("sp100")) == len(set(load_universe("sp100"))) >= 100


def test_cli_source_snapshot_dir_and_record_and_refresh(tmp_path: Path, capsys):
    """--source snapshot:DIR sets the recording; a missing folder is a usage error (exit 2) naming it."""
    import json

    assert main(["--source", f"snapshot:{tmp_path}", "--print-config"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["source"], printed["snapshot_dir"]) == ("snapshot", str(tmp_path))
    assert main(["--record", str(tmp_path), "--refresh", "--print-config"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["record_dir"], printed["cache_mode"]) == (str(tmp_path), "refresh")
    assert main(["--source", f"snapshot:{tmp_path / 'nope'}", "--print-config"]) == 2
    assert "is not a directory (a folder saved by --record DIR)" in capsys.readouterr().err


def test_universes_command_lists_the_shipped_lists(capsys):
    assert main(["universes"]) == 0
    out = capsys.readouterr().out
    assert "sp100" in out and "liquid" in out and "S&P" in out
    assert main(["universes", "liquid"]) == 0
    assert capsys.readouterr().out.split()[:2] == ["SPY", "QQQ"]
    assert main(["universes", "nope"]) == 2
