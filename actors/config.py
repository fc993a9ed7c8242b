"""Settings: defaults ← TOML file ← environment ``OPTION_ALPHA_<FIELD>`` ← command-line flags.

One frozen :class:`Settings`. Every value remembers where it came from, so a bad value is
reported as ``ai_retry_delays: expected a list of numbers >= 0, got 'x,2' (from env
OPTION_ALPHA_AI_RETRY_DELAYS)``. List values from the environment are comma-separated.
Secrets (the Anthropic key) are :class:`~actors.secrets.Secret` and print as ``***``.
"""

from __future__ import annotations

import os
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
from attrs import field, frozen

from actors.app.timespec import CLOCK_EXPECTED, DURATION_EXPECTED, parse_clock_time, parse_duration
from actors.core.news.prompts import DEFAULT_CATEGORIES
from actors.errors import ConfigError
from actors.secrets import Secret, SecretFormatError

__all__ = ["Settings", "load_settings", "default_config_path", "settings_snapshot", "ENV_PREFIX"]

ENV_PREFIX = "OPTION_ALPHA_"

AI_BACKENDS = ("ollama", "claude", "none")
SOURCES = ("live", "snapshot", "sim")
CACHE_MODES = ("use", "refresh", "off")


def _choice(*allowed: str) -> dict[str, Any]:
    return {"choices": allowed}


@frozen(kw_only=True)
class Settings:
    """The effective settings of a run. Construct with :func:`load_settings`."""

    # what to scan
    source: str = field(default="live", metadata=_choice(*SOURCES))
    #: A recording to replay with ``source = snapshot`` (``--source snapshot:DIR``); None: the packaged one.
    snapshot_dir: Path | None = None
    #: Tickers, or one shipped list name (``sp100``, ``liquid``: see ``bin/scan universes``).
    universe: tuple[str, ...] = ()
    universe_size: int = field(default=200, metadata={"min": 1})
    seed: int = 7
    top_n_options: int = field(default=50, metadata={"min": 0})
    top_n_ai_debate: int = field(default=10, metadata={"min": 0})
    #: Debate slots go to the best tickers that have a contract; true lets tickers without one in.
    debate_without_contract: bool = False

    # fetching
    fetch_concurrency: int = field(default=8, metadata={"min": 1})
    fetch_timeout: float = field(default=20.0, metadata={"min_exclusive": 0})
    fetch_retry_delays: tuple[float, ...] = (1.0, 2.0, 4.0)
    #: Worker processes that generate and score sim data: -1 auto (one per core from 2,500
    #: tickers), 0 in-process, N pinned. See actors.fetch_score.
    scan_workers: int = field(default=-1, metadata={"min": -1, "max": 64})

    # live sources (source = live): where, how fast, the cache, recording
    cboe_base_url: str = "https://cdn.cboe.com"
    nasdaq_base_url: str = "https://api.nasdaq.com"
    #: A URL template with ``{symbol}``: one RSS/Atom feed per ticker.
    news_feed_url: str = "https://feeds.finance.yahoo.com/rss/2.0/headline?s={symbol}&region=US&lang=en-US"
    #: Requests per second per host (token bucket; the burst is the rate rounded up).
    cboe_rate: float = field(default=4.0, metadata={"min_exclusive": 0, "max": 100})
    nasdaq_rate: float = field(default=1.0, metadata={"min_exclusive": 0, "max": 100})
    news_rate: float = field(default=2.0, metadata={"min_exclusive": 0, "max": 100})
    #: SEC EDGAR 8-K filings as a second headline source, on when set: the SEC requires a declared
    #: User-Agent naming you and a contact, e.g. "Jane Doe jane@example.com".
    edgar_user_agent: str = ""
    edgar_feed_url: str = ("https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany&CIK={symbol}"
                           "&type=8-K&dateb=&owner=include&count=20&output=atom")
    #: The SEC allows at most 10 requests per second.
    edgar_rate: float = field(default=5.0, metadata={"min_exclusive": 0, "max": 10})
    #: Consecutive transport failures that open a host's breaker, and how long it stays open.
    host_breaker_failures: int = field(default=3, metadata={"min": 1})
    host_breaker_cooldown: float = field(default=60.0, metadata={"min_exclusive": 0})
    #: None: ``$CACHE_DIRECTORY`` or ``$XDG_CACHE_HOME/option-alpha`` (``~/.cache/option-alpha``).
    cache_dir: Path | None = None
    #: use (read and write), refresh (``--refresh``: write only), off.
    cache_mode: str = field(default="use", metadata=_choice(*CACHE_MODES))
    news_cache_ttl: float = field(default=900.0, metadata={"min": 0})
    #: ``--record DIR``: save the live run's raw answers there in the snapshot layout.
    record_dir: Path | None = None

    # option selection
    dte_min: int = field(default=30, metadata={"min": 0})
    dte_max: int = field(default=60, metadata={"min": 1})
    dte_target: int = field(default=45, metadata={"min": 0})
    delta_target: float = field(default=0.35, metadata={"min_exclusive": 0, "max_exclusive": 1})
    delta_min: float = field(default=0.25, metadata={"min_exclusive": 0, "max_exclusive": 1})
    delta_max: float = field(default=0.50, metadata={"min_exclusive": 0, "max_exclusive": 1})
    min_open_interest: float = field(default=100.0, metadata={"min": 0})
    min_volume: float = field(default=1.0, metadata={"min": 0})
    max_spread_pct: float = field(default=0.10, metadata={"min_exclusive": 0})
    risk_free_rate: float = field(default=0.045, metadata={"min": -0.05, "max": 0.5})

    # LLM
    ai_backend: str = field(default="ollama", metadata=_choice(*AI_BACKENDS))
    ollama_host: str = "http://127.0.0.1:11434"
    ollama_model: str = "llama3.1:8b"
    ollama_num_ctx: int = field(default=8192, metadata={"min": 512})
    ollama_keep_alive: str = "5m"
    #: Output cap on every LLM call: Ollama's ``num_predict``, and Claude's ``max_tokens``.
    #: Sized by bench/ollama_client.py: the largest debate reply (~855 tokens) + 25 %, rounded up.
    ollama_num_predict: int = field(default=1280, metadata={"min": 16, "max": 32768})
    ai_temperature: float = field(default=0.0, metadata={"min": 0, "max": 2})
    anthropic_model: str = "claude-sonnet-4-5"
    #: The Messages API's base URL: a gateway or proxy, or a local fake (``bin/fake-anthropic``).
    anthropic_base_url: str = "https://api.anthropic.com"
    anthropic_api_key: Secret | None = field(default=None, metadata={"secret": True})
    anthropic_api_key_file: Path | None = None
    ai_connect_timeout: float = field(default=5.0, metadata={"min_exclusive": 0})
    ai_first_chunk_timeout: float = field(default=90.0, metadata={"min_exclusive": 0})
    #: Budget of a cold model load, done once before the first call (Ollama), not per call.
    ai_load_timeout: float = field(default=300.0, metadata={"min_exclusive": 0})
    ai_stall_timeout: float = field(default=20.0, metadata={"min_exclusive": 0})
    ai_request_timeout: float = field(default=120.0, metadata={"min_exclusive": 0})
    ai_retry_delays: tuple[float, ...] = (2.0, 4.0, 8.0)
    ai_debate_phase_timeout: float = field(default=600.0, metadata={"min_exclusive": 0})
    ai_debate_concurrency: int = field(default=3, metadata={"min": 1, "max": 64})
    #: The adaptive LLM concurrency stays in [ai_concurrency_min, ai_debate_concurrency]; equal pins it.
    ai_concurrency_min: int = field(default=1, metadata={"min": 1, "max": 64})

    # health and breaker
    health_timeout: float = field(default=3.0, metadata={"min_exclusive": 0})
    health_interval: float = field(default=60.0, metadata={"min_exclusive": 0})
    health_in_flight_interval: float = field(default=2.0, metadata={"min_exclusive": 0})
    breaker_failures: int = field(default=3, metadata={"min": 1})
    breaker_window: float = field(default=30.0, metadata={"min_exclusive": 0})
    breaker_min_calls: int = field(default=20, metadata={"min": 1})
    breaker_failure_rate: float = field(default=0.5, metadata={"min_exclusive": 0, "max": 1})
    breaker_cooldown: float = field(default=30.0, metadata={"min_exclusive": 0})

    # news (issue 12): the article queue, the news scorer and the news catalyst rule
    #: Claims of one article before it is ``failed`` (an expired lease counts as one).
    news_max_attempts: int = field(default=3, metadata={"min": 1, "max": 100})
    #: Seconds an article may stay ``scoring`` before its lease expires (covers both stages).
    news_lease: float = field(default=300.0, metadata={"min_exclusive": 0})
    #: Seconds between the daemon's drains of the queue.
    news_interval: float = field(default=30.0, metadata={"min_exclusive": 0})
    news_lookback_days: float = field(default=7.0, metadata={"min_exclusive": 0, "max": 3650})
    news_half_life_days: float = field(default=2.0, metadata={"min_exclusive": 0, "max": 3650})
    #: Cap on the news points of one ticker (either way).
    news_max_adjustment: float = field(default=10.0, metadata={"min_exclusive": 0, "max": 50})
    news_categories: tuple[str, ...] = field(default=DEFAULT_CATEGORIES, metadata={"words": True})
    #: The article text in a prompt is cut at a paragraph boundary to at most this many characters.
    news_max_chars: int = field(default=2000, metadata={"min": 200, "max": 50000})
    #: Pause of the news scorer after HTTP 429 / 529 without a Retry-After header (seconds).
    news_rate_limit_cooldown: float = field(default=60.0, metadata={"min": 0})

    # storage and logging
    db_path: Path | None = None
    #: Each wait on a database lock held by another connection (seconds), and the pauses before
    #: each retry of a write that still found it locked; then the write is reported unsaved.
    store_busy_timeout: float = field(default=5.0, metadata={"min": 0})
    store_busy_retry_delays: tuple[float, ...] = (1.0, 2.0, 4.0)
    #: Cap on the database file size in MiB (0 = no cap); writes beyond it fail like a full disk.
    store_max_size_mb: float = field(default=0.0, metadata={"min": 0})
    log_level: str = field(default="INFO", metadata=_choice("DEBUG", "INFO", "WARNING", "ERROR"))

    # the daemon (bin/daemon; README "Running as a service"). Durations: 30m, 2h, 1d, or seconds.
    #: Scan times (HH:MM) on trading days (weekdays minus NYSE holidays), in scan_timezone.
    scan_at: tuple[str, ...] = field(default=("16:30",), metadata={"clock_times": True})
    scan_timezone: str = field(default="America/New_York", metadata={"timezone": True})
    #: A scan every so often on trading days, besides scan_at (0 = off).
    scan_every: float = field(default=0.0, metadata={"duration": True})
    scan_on_start: bool = False
    #: A scheduled scan missed while the daemon was down runs at start if it was due this recently.
    catch_up_window: float = field(default=7200.0, metadata={"duration": True})
    #: Checkpointed runs this recent whose debates did not all finish are resumed when the LLM is healthy.
    resume_window: float = field(default=86400.0, metadata={"duration": True})
    #: On SIGTERM/SIGINT, how long debates in flight may go on before they are cancelled.
    shutdown_grace: float = field(default=20.0, metadata={"duration": True})
    # dashboard (bin/scan serve; the daemon)
    #: Where the dashboard listens (HOST:PORT); beyond loopback it requires dashboard_token; ``off``:
    #: bin/daemon serves none.
    dashboard_listen: str = "127.0.0.1:8787"
    #: The secret a browser must present (?token= once, then a cookie; or Authorization: Bearer).
    dashboard_token: Secret | None = field(default=None, metadata={"secret": True})

    def api_key(self) -> Secret | None:
        """The Anthropic key: the setting, else the file named by ``anthropic_api_key_file``.

        Raises:
            ConfigError: the key file cannot be read (names the path, never the content).
        """
        if self.anthropic_api_key:
            return self.anthropic_api_key
        if self.anthropic_api_key_file is not None:
            try:
                return Secret.from_file(self.anthropic_api_key_file)
            except OSError as exc:
                raise ConfigError(
                    f"anthropic_api_key_file: cannot read {self.anthropic_api_key_file}: {exc.strerror}"
                ) from None
            except SecretFormatError as exc:
                raise ConfigError(f"anthropic_api_key_file: {exc}") from None
        return None


FIELDS: dict[str, attrs.Attribute] = {a.name: a for a in attrs.fields(Settings)}


def default_config_path(env: Mapping[str, str]) -> Path | None:
    """``$XDG_CONFIG_HOME/option-alpha/config.toml`` (or ``~/.config/...``) when it exists."""
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    path = Path(base) / "option-alpha" / "config.toml"
    return path if path.is_file() else None


def load_settings(
    *,
    config_file: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge defaults ← TOML ← environment ← flags into one validated :class:`Settings`.

    ``flags`` holds only the flags the user gave (field name → value, strings or typed), each
    named ``flag --name`` in errors; ``overrides`` the ``--set NAME=VALUE`` ones, named
    ``--set name=...`` (they come last and win).

    Raises:
        ConfigError: naming the field, the source it came from, and what is allowed.
    """
    env = os.environ if env is None else env
    # Every layer's values are checked, also those a later layer overrides: a bad line in the
    # config file is an error even on a run where a flag happens to hide it.
    layers: list[tuple[str, Any, str]] = []

    path = Path(config_file) if config_file is not None else default_config_path(env)
    if path is not None:
        for name, value in _read_toml(path).items():
            layers.append((name, value, f"config file {path}"))
    from_env = {key[len(ENV_PREFIX):].lower() for key in env if key.startswith(ENV_PREFIX)}
    for key, value in env.items():
        if key.startswith(ENV_PREFIX):
            name = key[len(ENV_PREFIX) :].lower()
            if name not in FIELDS:
                raise ConfigError(f"unknown setting {name!r} (from env {key}); {_known()}")
            layers.append((name, value, f"env {key}"))
    if "ANTHROPIC_API_KEY" in env and "anthropic_api_key" not in from_env:
        layers.append(("anthropic_api_key", env["ANTHROPIC_API_KEY"], "env ANTHROPIC_API_KEY"))
    for name, value in (flags or {}).items():
        if name not in FIELDS:
            raise ConfigError(f"unknown setting {name!r} (from the command line)")
        layers.append((name, value, f"flag --{name.replace('_', '-')}"))
    for name, value in (overrides or {}).items():
        if name not in FIELDS:
            raise ConfigError(f"unknown setting {name!r} (from --set {name}=...); {_known()}")
        layers.append((name, value, f"--set {name}=..."))

    raw: dict[str, tuple[Any, str]] = {}
    values: dict[str, Any] = {}
    for name, value, source in layers:
        values[name] = _convert(name, value, source)
        raw[name] = (value, source)
    try:
        settings = Settings(**values)
    except (TypeError, ValueError) as exc:  # pragma: no cover - _convert checks every field
        raise ConfigError(str(exc)) from None
    _check_relations(settings, raw)
    return settings


_WORD = re.compile(r"[a-z0-9][a-z0-9&-]{0,31}")


def _known() -> str:
    return "known settings: " + ", ".join(sorted(FIELDS))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte {exc.start}): TOML files are UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    # Accept a flat file or an [option-alpha] / [option_alpha] table.
    for table in ("option-alpha", "option_alpha"):
        if isinstance(data.get(table), dict):
            data = data[table]
    for name in data:
        if name not in FIELDS:
            raise ConfigError(f"unknown setting {name!r} (from config file {path}); {_known()}")
    return data


def _convert(name: str, value: Any, source: str) -> Any:
    attribute = FIELDS[name]
    type_ = attribute.type
    meta = attribute.metadata

    def bad(expected: str) -> ConfigError:
        shown = "***" if meta.get("secret") else repr(value)
        return ConfigError(f"{name}: expected {expected}, got {shown} (from {source})")

    if meta.get("duration"):
        try:
            result = parse_duration(value)
        except ValueError:
            raise bad(DURATION_EXPECTED) from None
    elif meta.get("clock_times"):
        items = _to_list(value, bad, CLOCK_EXPECTED)
        try:
            times = sorted({parse_clock_time(v) for v in items})
        except ValueError:
            raise bad(CLOCK_EXPECTED) from None
        result = tuple(t.strftime("%H:%M") for t in times)
    elif type_ in ("bool", bool):
        result = _to_bool(value, bad)
    elif type_ in ("int", int):
        result = _to_number(value, int, bad, "an integer")
    elif type_ in ("float", float):
        result = _to_number(value, float, bad, "a number")
    elif type_ in ("str", str):
        if not isinstance(value, str):
            raise bad("a string")
        result = value.strip()
        choices = meta.get("choices")
        if choices:
            normalised = result.upper() if name == "log_level" else result.lower()
            if normalised not in choices:
                raise bad("one of " + ", ".join(choices))
            result = normalised
        elif not result:
            raise bad("a non-empty string")
        elif meta.get("timezone"):
            try:
                zoneinfo.ZoneInfo(result)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise bad("an IANA time zone name such as America/New_York") from None
    elif type_ == "tuple[float, ...]":
        items = _to_list(value, bad, "a list of numbers >= 0")
        result = tuple(_to_number(v, float, bad, "a list of numbers >= 0") for v in items)
        if any(v < 0 for v in result):
            raise bad("a list of numbers >= 0")
    elif type_ == "tuple[str, ...]" and meta.get("words"):
        items = _to_list(value, bad, "a list of words")
        result = tuple(str(v).strip().lower() for v in items if str(v).strip())
        if not 1 <= len(result) <= 32 or any(not _WORD.fullmatch(w) for w in result) or len(set(result)) != len(result):
            raise bad("1 to 32 distinct words of letters, digits, '&' and '-'")
    elif type_ == "tuple[str, ...]":
        items = _to_list(value, bad, "a list of ticker symbols")
        result = tuple(str(v).strip().upper() for v in items if str(v).strip())
        if name == "universe":
            result = _named_universe(result)
    elif type_ == "Path | None":
        if value in (None, ""):
            result = None
        elif isinstance(value, (str, Path)):
            result = Path(value).expanduser()
        else:
            raise bad("a file path")
    elif type_ == "Secret | None":
        if isinstance(value, Secret):
            result = value
        elif isinstance(value, str):
            try:
                what = "token" if name == "dashboard_token" else "API key"
                result = Secret.from_text(value, source=source, what=what) if value.strip() else None
            except SecretFormatError as exc:
                raise ConfigError(f"{name}: {exc}") from None
        else:
            raise bad("a string")
    else:  # pragma: no cover - a new field type needs a branch here
        raise AssertionError(f"no converter for {name}: {type_}")

    if isinstance(result, (int, float)) and not isinstance(result, bool):
        _check_bounds(result, meta, bad)
    return result


def _to_bool(value: Any, bad: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
        return value.strip().lower() in ("true", "yes", "on", "1")
    raise bad("true or false")


def _named_universe(tickers: tuple[str, ...]) -> tuple[str, ...]:
    """One item naming a shipped list (``sp100``) is that list; anything else is tickers."""
    from actors.universes import load_universe, universe_names

    if len(tickers) == 1 and tickers[0].lower() in universe_names():
        return load_universe(tickers[0])
    return tickers


def _to_number(value: Any, kind: type, bad: Any, expected: str) -> Any:
    if isinstance(value, bool):
        raise bad(expected)
    if isinstance(value, str):
        try:
            value = float(value.strip()) if kind is float else int(value.strip())
        except ValueError:
            raise bad(expected) from None
    if not isinstance(value, (int, float)) or value != value or value in (float("inf"), float("-inf")):
        raise bad(expected)
    if kind is int and value != int(value):
        raise bad(expected)
    return kind(value)


def _to_list(value: Any, bad: Any, expected: str) -> list[Any]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise bad(expected)


def _check_bounds(value: float, meta: Mapping[str, Any], bad: Any) -> None:
    if "min" in meta and value < meta["min"]:
        raise bad(f"a value >= {meta['min']}")
    if "max" in meta and value > meta["max"]:
        raise bad(f"a value <= {meta['max']}")
    if "min_exclusive" in meta and value <= meta["min_exclusive"]:
        raise bad(f"a value > {meta['min_exclusive']}")
    if "max_exclusive" in meta and value >= meta["max_exclusive"]:
        raise bad(f"a value < {meta['max_exclusive']}")


def _check_relations(s: Settings, raw: Mapping[str, tuple[Any, str]]) -> None:
    def where(*names: str) -> str:
        found = [f"{n} from {raw[n][1]}" for n in names if n in raw]
        return f" ({'; '.join(found)})" if found else " (defaults)"

    if not s.dte_min <= s.dte_target <= s.dte_max:
        raise ConfigError(
            f"dte_min <= dte_target <= dte_max must hold, got {s.dte_min}, {s.dte_target}, {s.dte_max}"
            + where("dte_min", "dte_target", "dte_max")
        )
    if not s.delta_min <= s.delta_target <= s.delta_max:
        raise ConfigError(
            f"delta_min <= delta_target <= delta_max must hold, got {s.delta_min}, {s.delta_target}, "
            f"{s.delta_max}" + where("delta_min", "delta_target", "delta_max")
        )
    if s.ai_stall_timeout > s.ai_request_timeout:
        raise ConfigError(
            f"ai_stall_timeout ({s.ai_stall_timeout}) must not exceed ai_request_timeout "
            f"({s.ai_request_timeout})" + where("ai_stall_timeout", "ai_request_timeout")
        )
    if s.ai_concurrency_min > s.ai_debate_concurrency:
        raise ConfigError(
            f"ai_concurrency_min ({s.ai_concurrency_min}) must not exceed ai_debate_concurrency "
            f"({s.ai_debate_concurrency}); set both to the same value to pin the LLM concurrency"
            + where("ai_concurrency_min", "ai_debate_concurrency")
        )
    if s.ai_connect_timeout > s.ai_first_chunk_timeout:
        raise ConfigError(
            f"ai_connect_timeout ({s.ai_connect_timeout}) must not exceed ai_first_chunk_timeout "
            f"({s.ai_first_chunk_timeout}): the first chunk's wait includes the connect"
            + where("ai_connect_timeout", "ai_first_chunk_timeout")
        )
    if s.ai_first_chunk_timeout > s.ai_request_timeout:
        raise ConfigError(
            f"ai_first_chunk_timeout ({s.ai_first_chunk_timeout}) must not exceed ai_request_timeout "
            f"({s.ai_request_timeout})" + where("ai_first_chunk_timeout", "ai_request_timeout")
        )
    if 0 < s.scan_every < 60:
        raise ConfigError(f"scan_every: expected 0 (off) or at least 1m, got {s.scan_every:g} s" + where("scan_every"))
    if s.news_lease <= 2 * s.ai_request_timeout:
        raise ConfigError(
            f"news_lease ({s.news_lease}) must exceed two LLM requests (2 x ai_request_timeout = "
            f"{2 * s.ai_request_timeout}): an article is categorized, then scored, under one lease"
            + where("news_lease", "ai_request_timeout")
        )
    for name in ("news_feed_url", "edgar_feed_url"):
        if "{symbol}" not in getattr(s, name):
            raise ConfigError(f"{name}: expected a URL template containing {{symbol}}, got {getattr(s, name)!r}"
                              + where(name))
    if s.edgar_user_agent and "@" not in s.edgar_user_agent:
        raise ConfigError(f"edgar_user_agent: the SEC requires a contact e-mail address in it, got "
                          f"{s.edgar_user_agent!r}" + where("edgar_user_agent"))
    if s.record_dir is not None and s.source != "live":
        raise ConfigError(f"record_dir: only a live scan can be recorded, this one is source = {s.source}"
                          + where("record_dir", "source"))
    if s.snapshot_dir is not None and s.source != "snapshot":
        raise ConfigError(f"snapshot_dir: a recording is replayed with source = snapshot, not {s.source}"
                          + where("snapshot_dir", "source"))
    for name in ("ollama_host", "anthropic_base_url", "cboe_base_url", "nasdaq_base_url", "news_feed_url",
                 "edgar_feed_url"):
        url = getattr(s, name)
        if not url.startswith(("http://", "https://")) or not url.split("://", 1)[1].strip("/"):
            raise ConfigError(f"{name}: expected an http:// or https:// URL, got {url!r}" + where(name))


def settings_snapshot(settings: Settings) -> dict[str, Any]:
    """The settings as JSON-ready values, secrets masked: for ``--print-config`` and ``scan_runs``."""
    out: dict[str, Any] = {}
    for name, attribute in FIELDS.items():
        value = getattr(settings, name)
        if attribute.metadata.get("secret"):
            out[name] = "***" if value else None
        elif isinstance(value, Path):
            out[name] = str(value)
        elif isinstance(value, tuple):
            out[name] = list(value)
        else:
            out[name] = value
    return out
