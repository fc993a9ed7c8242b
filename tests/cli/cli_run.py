"""Running ``bin/scan``'s ``main`` in process with captured output."""

from __future__ import annotations

from actors.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """``main(argv)``: (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
