"""The CLI's one error boundary, in-process: each failure is one line on stderr and an exit code, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import apsw
import pytest
import trio

from actors.cli import main
from actors.cli_boundary import exit_for
from actors.errors import ConfigError, StoreError
from tests.cli.cli_run import run

QUICK = ("--source", "sim", "--universe-size", "5", "--no-debate")


pytestmark = pytest.mark.usefixtures("clean_env")


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    assert len(lines) == 1, err
    return lines[0]


def make_db(path: Path) -> None:
    """A real, migrated database (a --no-debate scan)."""
    assert main([*QUICK, "--db", str(path)]) == 0


class TestDatabaseOpenFailures:
    def test_a_directory_as_db_path_is_a_configuration_error(self, capsys, tmp_path):
        """--db pointing at a directory: exit 2, the line says it is a directory."""
        code, _, err = run(capsys, *QUICK, "--db", str(tmp_path))
        assert code == 2
        assert one_line(err) == f"error: db_path: {tmp_path} is a directory; give the path of a database file (--db FILE)"

    def test_a_missing_parent_directory_is_a_configuration_error(self, capsys, tmp_path):
        """--db in a directory that does not exist: exit 2, names the directory."""
        code, _, err = run(capsys, *QUICK, "--db", str(tmp_path / "nope" / "x.db"))
        assert code == 2 and f"the directory {tmp_path / 'nope'} does not exist" in one_line(err)

    def test_a_garbage_file_is_a_database_error(self, capsys, tmp_path):
        """A file of random bytes: exit 1, 'file is not a database'."""
        db = tmp_path / "garbage.db"
        db.write_bytes(bytes(range(256)) * 40)
        code, _, err = run(capsys, *QUICK, "--db", str(db))
        assert code == 1 and one_line(err).startswith("error: database: ") and "not a database" in err

    def test_a_truncated_database_is_a_database_error(self, capsys, tmp_path):
        """A real database cut in half: exit 1, one line naming the file."""
        db = tmp_path / "cut.db"
        make_db(db)
        capsys.readouterr()
        data = db.read_bytes()
        db.write_bytes(data[: len(data) // 2])
        code, _, err = run(capsys, *QUICK, "--db", str(db))
        assert code == 1 and one_line(err).startswith("error: database: ") and str(db) in err

    def test_a_schema_from_the_future_is_refused(self, capsys, tmp_path):
        """user_version newer than this code: exit 1, says to upgrade."""
        db = tmp_path / "future.db"
        make_db(db)
        capsys.readouterr()
        apsw.Connection(str(db)).execute("PRAGMA user_version = 999")
        code, _, err = run(capsys, *QUICK, "--db", str(db))
        assert code == 1 and "schema version 999 is newer" in one_line(err)

    def test_a_lock_held_by_another_process_is_a_database_error(self, capsys, tmp_path):
        """Another connection holds an exclusive lock for the whole run: exit 1 after the busy timeout."""
        db = tmp_path / "locked.db"
        make_db(db)
        capsys.readouterr()
        holder = apsw.Connection(str(db))
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE scan_runs SET status = status")
        try:
            code, _, err = run(capsys, *QUICK, "--db", str(db))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert code == 1 and one_line(err).startswith("error: database: ") and "locked" in err.lower()

    def test_a_read_only_directory_is_a_database_error(self, capsys, read_only_dir):
        """A new database in a directory that cannot be written: exit 1, one 'error: database:' line."""
        code, _, err = run(capsys, *QUICK, "--db", str(read_only_dir / "x.db"))
        assert code == 1 and one_line(err).startswith("error: database: ")


@pytest.fixture
def read_only_dir(tmp_path):
    """A directory we cannot write to: mode 0555, or (root ignores modes) a read-only tmpfs."""
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o555)
    if os.geteuid() != 0:
        yield ro
        return
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(ro)], capture_output=True).returncode:
        pytest.skip("root writes into 0555 directories and cannot mount a read-only tmpfs here")
    try:
        yield ro
    finally:
        subprocess.run(["umount", str(ro)], check=False)


class TestClaudeKeyErrors:
    def test_a_key_with_a_second_line_in_the_environment_is_refused_without_showing_it(self, capsys, monkeypatch,
                                                                                       tmp_path):
        """ANTHROPIC_API_KEY with a newline and a comment: exit 2 naming the source, never the value."""
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-SECRET-123\n# my key")
        code, out, err = run(capsys, *QUICK[:-1], "--ai-backend", "claude", "--db", str(tmp_path / "k.db"))
        assert code == 2
        assert "env ANTHROPIC_API_KEY" in one_line(err) and "whitespace" in err
        assert "SECRET" not in out + err and "my key" not in out + err

    def test_a_key_file_with_a_comment_line_is_refused_naming_the_file(self, capsys, tmp_path):
        """A key file `sk-ant-...\\n# comment`: exit 2 naming the file; the content is not shown."""
        key_file = tmp_path / "key"
        key_file.write_text("sk-ant-SECRET-456\n# rotated monthly\n")
        code, out, err = run(capsys, *QUICK[:-1], "--ai-backend", "claude", "--db", str(tmp_path / "k.db"),
                             "--set", f"anthropic_api_key_file={key_file}")
        assert code == 2 and f"file {key_file}" in one_line(err)
        assert "SECRET" not in out + err and "rotated" not in out + err

    def test_a_key_file_with_only_a_trailing_newline_is_fine(self, tmp_path):
        """`sk-ant-...\\n` is one token: the key is read without the newline."""
        from actors.config import load_settings

        key_file = tmp_path / "key"
        key_file.write_text("sk-ant-OK-789\n")
        settings = load_settings(env={}, flags={"anthropic_api_key_file": str(key_file)})
        assert settings.api_key().reveal() == "sk-ant-OK-789"

    def test_claude_without_a_key_is_a_configuration_error(self, capsys, tmp_path):
        """--ai-backend claude with no key anywhere: exit 2, says where to put it."""
        code, _, err = run(capsys, *QUICK[:-1], "--ai-backend", "claude", "--db", str(tmp_path / "k.db"))
        assert code == 2 and "needs an API key" in one_line(err)


class TestConfigurationEdges:
    def test_a_non_utf8_config_file_is_a_configuration_error(self, capsys, tmp_path):
        """A TOML file in Latin-1: exit 2, names the file and the encoding."""
        config = tmp_path / "c.toml"
        config.write_bytes("universe = ['CAFÉ']\n".encode("latin-1"))
        code, _, err = run(capsys, *QUICK, "--config", str(config))
        assert code == 2 and f"config file {config} is not UTF-8" in one_line(err)

    def test_a_non_utf8_universe_file_is_a_usage_error(self, capsys, tmp_path):
        """--universe-file with a byte that is not UTF-8: exit 2, names the file."""
        universe = tmp_path / "u.txt"
        universe.write_bytes(b"AAPL\n\xff\xfeMSFT\n")
        code, _, err = run(capsys, *QUICK, "--universe-file", str(universe))
        assert code == 2 and f"--universe-file {universe}: not UTF-8" in one_line(err)

    @pytest.mark.parametrize("override", ["env", "flag"])
    def test_a_bad_config_file_value_is_reported_even_when_overridden(self, capsys, monkeypatch, tmp_path,
                                                                      override):
        """top_n_options = -3 in the file is an error although env/--set gives a good value."""
        config = tmp_path / "c.toml"
        config.write_text("top_n_options = -3\n")
        extra: tuple[str, ...] = ()
        if override == "env":
            monkeypatch.setenv("OPTION_ALPHA_TOP_N_OPTIONS", "10")
        else:
            extra = ("--set", "top_n_options=10")
        code, _, err = run(capsys, *QUICK, "--config", str(config), *extra)
        assert code == 2
        assert one_line(err) == f"error: top_n_options: expected a value >= 0, got -3 (from config file {config})"


class TestExitFor:
    """exit_for unwraps (nested) exception groups and picks the error that explains the failure."""

    def test_a_store_error_inside_nested_groups_is_one_line_and_exit_1(self, capsys):
        """ExceptionGroup(ExceptionGroup(StoreError), Cancelled) → the StoreError's line, exit 1."""
        group = BaseExceptionGroup("outer", [ExceptionGroup("inner", [StoreError("opening x: locked")]),
                                             trio.Cancelled._create()])
        assert exit_for(group, stderr=sys.stderr) == 1
        assert capsys.readouterr().err == "error: database: opening x: locked\n"

    def test_a_configuration_error_wins_over_a_runtime_fault(self, capsys):
        """Configuration (exit 2) explains a failure better than a consequent runtime error."""
        group = ExceptionGroup("g", [RuntimeError("later"), ExceptionGroup("i", [ConfigError("ai_backend: bad")])])
        assert exit_for(group, stderr=sys.stderr) == 2
        assert capsys.readouterr().err == "error: ai_backend: bad (and 1 other error; --debug shows them)\n"

    def test_an_unexpected_error_is_an_internal_error_and_debug_shows_the_traceback(self, capsys):
        """A bug: 'internal error: Type: message', exit 1; with debug the traceback comes first."""
        try:
            raise ExceptionGroup("g", [ZeroDivisionError("division by zero")])
        except ExceptionGroup as exc:
            assert exit_for(exc, stderr=sys.stderr) == 1
            assert capsys.readouterr().err == ("internal error: ZeroDivisionError: division by zero "
                                               "(run with --debug for the traceback)\n")
            assert exit_for(exc, stderr=sys.stderr, debug=True) == 1
        err = capsys.readouterr().err
        assert "Traceback" in err and err.rstrip().endswith("(run with --debug for the traceback)")

    def test_an_interrupt_anywhere_in_the_group_is_exit_130(self, capsys):
        """A KeyboardInterrupt beside other errors: 'interrupted', exit 130."""
        group = BaseExceptionGroup("g", [ValueError("x"), KeyboardInterrupt()])
        assert exit_for(group, stderr=sys.stderr) == 130
        assert capsys.readouterr().err == "interrupted\n"

    def test_the_scrubber_sees_every_line(self, capsys):
        """Whatever the error says passes through the scrubber before it is printed."""
        exit_for(StoreError("key sk-ant-LEAK in a message"), stderr=sys.stderr,
                 scrub=lambda text: text.replace("sk-ant-LEAK", "***"))
        assert capsys.readouterr().err == "error: database: key *** in a message\n"


class TestStoredRunCommands:
    def test_runs_with_a_bad_limit_is_a_usage_error(self, capsys, tmp_path):
        """`runs --limit 0`: exit 2, one line naming the argument."""
        code, _, err = run(capsys, "runs", "--limit", "0", "--db", str(tmp_path / "x.db"))
        assert code == 2 and "argument --limit: expected a whole number >= 1, got '0'" in one_line(err)

    def test_show_on_a_garbage_file_is_a_database_error(self, capsys, tmp_path):
        """`show RUN` on a file that is not a database: exit 1, one line."""
        db = tmp_path / "garbage.db"
        db.write_bytes(b"\x07" * 8192)
        code, _, err = run(capsys, "show", "abc", "--db", str(db))
        assert code == 1 and one_line(err).startswith("error: ")

    def test_a_system_stopped_past_a_restart_limit_is_one_line_naming_the_actor_and_exit_1(self, capsys):
        """SupervisorEscalation (inside groups, beside Cancelled): 'error: actor ... last error: ...', exit 1."""
        from actors.runtime import SupervisorEscalation

        escalation = SupervisorEscalation(
            "fetcher", "exceeded its restart limit (3 restarts within 60s); last error: RuntimeError('bug')",
            RuntimeError("bug"),
        )
        group = BaseExceptionGroup("outer", [ExceptionGroup("inner", [escalation]), trio.Cancelled._create()])
        assert exit_for(group, stderr=sys.stderr) == 1
        assert capsys.readouterr().err == (
            "error: actor 'fetcher' exceeded its restart limit (3 restarts within 60s); last error: RuntimeError('bug')\n"
        )
