"""``bin/scan``: parse arguments, run the package, turn exceptions into exit codes.

Exit codes: 0 the run is saved (COMPLETED, or PARTIAL: scores and contracts saved, debates
incomplete), and also when the reader of our output closed the pipe (``| head``: we stop
writing quietly, as git does; the run is saved all the same); 3 PARTIAL with
``--fail-on-partial``; 1 FAILED; 2 usage or configuration error; 130 interrupted (Ctrl-C /
SIGTERM: whatever was checkpointed stays, the run is INTERRUPTED).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from actors.cli_boundary import (
    EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, NOISY_LOGGERS, exit_for, leaves, silence_stdout,
)
from actors.cli_types import positive_int, set_overrides
from actors.config import Settings, load_settings, settings_snapshot
from actors.errors import UsageError
from actors.secrets import ScrubbingFilter, Secret, known_secrets, scrub_all

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_PARTIAL", "EXIT_USAGE", "main"]

logger = logging.getLogger("actors.cli")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 itself; we raise to keep control
        raise UsageError(f"{self.prog}: {message}")


def package_version() -> str:
    """The installed package's version (``pip install .`` or the editable install ``bin/scan`` makes)."""
    import importlib.metadata  # here, not at the top: it costs start-up time that only --version needs

    try:
        return importlib.metadata.version("option-alpha")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed; run bin/scan or pip install .)"


class _VersionAction(argparse.Action):
    """``--version``: looks the version up only when asked."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:  # noqa: ANN001 - argparse's API
        print(f"option-alpha {package_version()}")
        parser.exit(0)


def _scan_parser() -> _Parser:
    p = _Parser(prog="bin/scan", description="Scan a universe, pick option contracts, debate the best with an LLM.",
                epilog="Other commands: `bin/scan runs` lists recent runs; `bin/scan show RUN|latest [TICKER]` "
                "prints one run, or one ticker of it in full; `bin/scan resume RUN_ID` finishes its debates; "
                "`bin/scan news list|retry` the news queue; `bin/scan serve` serves the dashboard over the "
                "database; `bin/scan universes` lists the shipped ticker lists. Installed, the same command is "
                "`option-alpha`.")
    p.add_argument("--version", action=_VersionAction, nargs=0, help="print the version and exit")
    p.add_argument("--demo", action="store_true", help="offline scan of a synthetic 200-ticker market")
    p.add_argument("--source", help="market data: live (default; Cboe, Nasdaq, RSS), snapshot[:DIR] (recorded), "
                                    "or sim (synthetic)")
    p.add_argument("--record", type=Path, metavar="DIR", help="save the live run's raw answers in DIR (replay: "
                                                               "--source snapshot:DIR)")
    p.add_argument("--refresh", action="store_true", help="ask the live sources again, ignoring today's cache")
    p.add_argument("--universe", help="comma-separated tickers (AAPL,MSFT) or a shipped list (see `bin/scan universes`)")
    p.add_argument("--universe-file", type=Path, help="file with one ticker per line (# comments allowed)")
    p.add_argument("--universe-size", help="number of tickers for --source sim")
    p.add_argument("--seed", help="seed of the synthetic market")
    p.add_argument("--top", type=positive_int, metavar="N",
                   help="rows to show in the table and --json (default: 25 / all); debated rows are always shown")
    p.add_argument("--db", type=Path, help="SQLite database path (default: the state directory)")
    p.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")
    p.add_argument("--config", type=Path, help="TOML config file")
    p.add_argument("--print-config", action="store_true", help="show the effective settings (secrets masked)")
    p.add_argument("--no-debate", action="store_true", help="skip the AI debate phase")
    p.add_argument("--score-news", action="store_true", help="score the queued news with the LLM before the catalyst phase")
    p.add_argument("--ai-backend", help="ollama, claude or none")
    p.add_argument("--fail-on-partial", action="store_true", help="exit 3 when the run is PARTIAL")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="any setting, e.g. --set top_n_ai_debate=5")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress, no table: only warnings, errors and the run's status line")
    p.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG on stderr (transport libraries stay quiet)")
    p.add_argument("--debug", action="store_true", help="on an error, print the traceback too")
    return p


def _read_universe_file(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"--universe-file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"--universe-file {path}: not UTF-8 text (byte {exc.start})") from None
    tickers = [line.split("#", 1)[0].strip() for line in lines]
    tickers = [t for t in tickers if t]
    if not tickers:
        raise UsageError(f"--universe-file {path}: no tickers in the file")
    return ",".join(tickers)


def _snapshot_dir(text: str) -> str:
    path = Path(text).expanduser()
    if not text or not path.is_dir():
        raise UsageError(f"--source snapshot:DIR: {text!r} is not a directory (a folder saved by --record DIR)")
    return str(path)


def _flags(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """(settings given by their own flags, settings given with ``--set NAME=VALUE``)."""
    flags: dict[str, Any] = {}
    if args.demo:
        flags["source"] = "sim"
    for name in ("source", "universe", "universe_size", "seed", "ai_backend"):
        value = getattr(args, name)
        if value is not None:
            flags[name] = value
    if args.source is not None and args.source.startswith("snapshot:"):  # a recording: --source snapshot:DIR
        flags["source"], flags["snapshot_dir"] = "snapshot", _snapshot_dir(args.source.partition(":")[2])
    if args.record is not None:
        flags["record_dir"] = str(args.record)
    if args.refresh:
        flags["cache_mode"] = "refresh"
    if args.universe_file is not None:
        if args.universe:
            raise UsageError("give --universe or --universe-file, not both")
        flags["universe"] = _read_universe_file(args.universe_file)
    if args.db is not None:
        flags["db_path"] = str(args.db)
    return flags, set_overrides(args.set)




def _configure_logging(settings: Settings, verbose: bool, *, quiet: bool, interactive: bool,
                       secrets: tuple[Secret | None, ...]) -> None:
    level = logging.DEBUG if verbose else getattr(logging, settings.log_level)
    if quiet:
        level = max(level, logging.WARNING)
    if interactive and not verbose:  # progress bars show what INFO lines would; keep warnings
        level = max(level, logging.WARNING)
    if interactive:
        from rich.logging import RichHandler

        from actors.display import stderr_console

        handler: logging.Handler = RichHandler(console=stderr_console(), show_path=False)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(ScrubbingFilter(secrets))
    logging.basicConfig(level=level, handlers=[handler])  # a no-op when a host (pytest) set logging up
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    if interactive and not verbose:  # the debate bar shows the breaker's state; the status line says why
        logging.getLogger("actors.breaker.actor").setLevel(logging.ERROR)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``bin/scan`` (or ``runs`` / ``show``) and return the exit code; never raises but ``SystemExit``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    settings: Settings | None = None
    try:
        if argv[:1] == ["runs"]:
            from actors.cli_runs import main_runs

            return main_runs(argv[1:])
        if argv[:1] == ["news"]:
            from actors.cli_news import main_news

            return main_news(argv[1:])
        if argv[:1] == ["show"]:
            from actors.cli_runs import main_show

            return main_show(argv[1:])
        if argv[:1] == ["resume"]:  # finish a run's debates (actors.cli_resume)
            from actors.cli_resume import main_resume

            return main_resume(argv[1:])
        if argv[:1] == ["serve"]:
            from actors.cli_serve import main_serve

            return main_serve(argv[1:])
        if argv[:1] == ["universes"]:
            from actors.cli_live import main_universes

            return main_universes(argv[1:])
        args = _scan_parser().parse_args(argv)
        flags, overrides = _flags(args)
        settings = load_settings(config_file=args.config, flags=flags, overrides=overrides)
        if args.print_config:
            print(json.dumps(settings_snapshot(settings), indent=2, sort_keys=True))
            return EXIT_OK
        if args.quiet and args.verbose:
            raise UsageError("give --quiet or --verbose, not both")
        _configure_logging(settings, args.verbose, quiet=args.quiet,
                           interactive=sys.stderr.isatty() and not args.json and not args.quiet,
                           secrets=known_secrets(settings))
        from actors.scan_app import run_scan_command

        return run_scan_command(settings, args)
    except SystemExit:
        raise
    except BaseException as exc:  # the one error boundary: one line, an exit code, no traceback
        if all(isinstance(e, BrokenPipeError) for e in leaves(exc)):
            silence_stdout()  # the reader closed the pipe (`| head`): stop quietly, as git does
            return EXIT_OK
        secrets = known_secrets(settings)
        return exit_for(exc, stderr=sys.stderr, debug=debug, scrub=lambda text: scrub_all(text, secrets))


if __name__ == "__main__":
    sys.exit(main())
