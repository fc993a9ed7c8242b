"""A secret value (API key) that cannot leak through repr, str, logs, JSON or error details by accident.

A key is one token: printable, with no whitespace and no control characters. Anything else (a
key file with a second line, ``sk-ant-...\\n# comment``) is refused when the key is read, with
a message that names where it came from and never shows the value; such a value would otherwise
end up whole in an "Illegal header value" error.

:meth:`Secret.scrub` replaces the key in a text in every form a library may print it: as is,
``repr``/JSON-escaped, URL-encoded, base64 (alone, or of ``x-api-key: KEY`` / ``Bearer KEY``
headers, as HTTP libraries and proxies log them), and hex.
"""

from __future__ import annotations

import base64
import json
import logging
import traceback
import urllib.parse
from collections.abc import Iterable
from pathlib import Path

from attrs import field, frozen

__all__ = ["Secret", "SecretFormatError", "ScrubbingFilter", "check_token", "known_secrets"]

MASK = "***"


class SecretFormatError(ValueError):
    """A secret is not one token (whitespace, control characters); the message never shows it."""


def check_token(value: str, source: str, *, what: str = "API key") -> None:
    """Refuse a secret that is not one printable token without whitespace (``what`` names it in messages).

    Raises:
        SecretFormatError: naming ``source`` and what is wrong (never the value).
    """
    if not value:
        raise SecretFormatError(f"the {what} from {source} is empty")
    for i, ch in enumerate(value):
        if ch.isspace():
            raise SecretFormatError(
                f"the {what} from {source} is not one token: whitespace at character {i + 1} "
                "(a key file must hold the key alone, on one line)")
        if not ch.isprintable():
            raise SecretFormatError(f"the {what} from {source} holds a control character at character {i + 1}")


@frozen
class Secret:
    """Wraps a secret string. ``repr``/``str`` show ``'***'``; call :meth:`reveal` at the last moment."""

    _value: str = field(repr=False, alias="value")

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return "Secret('***')"

    def __bool__(self) -> bool:
        return bool(self._value)

    @classmethod
    def from_text(cls, text: str, *, source: str, what: str = "API key") -> "Secret":
        """A key from a setting's text: surrounding whitespace (a trailing newline) is dropped.

        Raises:
            SecretFormatError: what is left is not one token (names ``source``, never the value).
        """
        value = text.strip()
        check_token(value, source, what=what)
        return cls(value)

    @classmethod
    def from_file(cls, path: str | Path) -> "Secret":
        """Read a secret from a file (systemd credentials); a trailing newline is fine.

        Raises:
            OSError: the file cannot be read (the message names the path, never the content).
            SecretFormatError: the file holds more than one token (a second line, a comment).
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise SecretFormatError(f"the API key file {path} is not UTF-8 text") from None
        return cls.from_text(text, source=f"file {path}")

    def forms(self) -> tuple[str, ...]:
        """Every encoding of the key :meth:`scrub` removes, longest first."""
        return _forms(self._value)

    def scrub(self, text: str) -> str:
        """``text`` with the key, in any of its :meth:`forms`, replaced by ``***``."""
        return scrub_all(text, (self,))


def _forms(key: str) -> tuple[str, ...]:
    if not key:
        return ()
    raw = key.encode("utf-8", "surrogatepass")
    found = {key, repr(key)[1:-1], json.dumps(key)[1:-1], urllib.parse.quote(key, safe=""),
             urllib.parse.quote_plus(key), raw.hex(), raw.hex().upper()}
    for payload in (raw, b"x-api-key: " + raw, b"Bearer " + raw, b"Authorization: Bearer " + raw):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(payload).decode("ascii")
            found.add(encoded)
            found.add(encoded.rstrip("="))
    # base64 of a key inside a longer text shifts with its offset: the three alignments'
    # stable middle parts are what a log could contain.
    for shift in (0, 1, 2):
        encoded = base64.b64encode(b"\0" * shift + raw).decode("ascii")
        middle = encoded[4 if shift else 0:-4]
        if len(middle) >= 12:
            found.add(middle)
    return tuple(sorted((f for f in found if f), key=len, reverse=True))


def scrub_all(text: str, secrets: Iterable[Secret | None]) -> str:
    """``text`` with every form of every given secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            for form in secret.forms():
                if form in text:
                    text = text.replace(form, MASK)
    return text


class ScrubbingFilter(logging.Filter):
    """A logging filter that scrubs the secrets from every record's message and arguments.

    Install it on the handlers (``handler.addFilter``) so records from every library pass
    through it before they are formatted.
    """

    def __init__(self, secrets: Iterable[Secret | None]) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        scrubbed = scrub_all(message, self._secrets)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub_all("".join(traceback.format_exception(*record.exc_info)), self._secrets)
            record.exc_info = None
        if scrubbed != message or record.args:
            record.msg, record.args = scrubbed, None
        return True


def known_secrets(settings: object | None, environ: dict[str, str] | None = None) -> tuple[Secret | None, ...]:
    """Every secret a message could hold, for :class:`ScrubbingFilter`: the Anthropic key from the
    environment, the settings' key (or its key file) and the dashboard token.

    ``settings`` is an :class:`~actors.config.Settings` (duck-typed: this module is below config).
    A key file that cannot be read contributes nothing (its error names the file, not a key).
    """
    import os

    from actors.errors import ConfigError

    env = os.environ if environ is None else environ
    found: list[Secret | None] = []
    env_key = env.get("ANTHROPIC_API_KEY", "").strip()
    if env_key:
        found.append(Secret(env_key))
    if settings is not None:
        found.append(getattr(settings, "anthropic_api_key", None))
        found.append(getattr(settings, "dashboard_token", None))
        try:
            found.append(settings.api_key())  # type: ignore[attr-defined]
        except (ConfigError, SecretFormatError):
            pass
    return tuple(found)
