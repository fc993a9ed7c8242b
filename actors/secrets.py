"""A secret value (API key) that cannot leak through repr, str, logs or JSON by accident."""

from __future__ import annotations

from pathlib import Path

from attrs import frozen, field

__all__ = ["Secret"]


@frozen
class Secret:
    """Wraps a secret string. ``repr``/``str`` show ``'***'``; call :meth:`reveal` at the last moment."""

    _value: str = field(repr=False, alias="value")

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "***"

    def __repr__(self) -> str:
        return "Secret('***')"

    def __bool__(self) -> bool:
        return bool(self._value)

    @classmethod
    def from_file(cls, path: str | Path) -> "Secret":
        """Read a secret from a file (systemd credentials): surrounding whitespace is stripped.

        Raises:
            OSError: the file cannot be read (the message names the path, never the content).
        """
        return cls(Path(path).read_text(encoding="utf-8").strip())
