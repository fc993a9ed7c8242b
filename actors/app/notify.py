"""systemd's notify protocol (``sd_notify``) over ``$NOTIFY_SOCKET``: a few datagrams, no library.

``$NOTIFY_SOCKET`` is a filesystem path of a unix datagram socket, or an abstract socket name
written with a leading ``@`` (sent as a leading NUL byte). Unset: every call does nothing, so
the daemon runs the same outside systemd. A send that fails (systemd gone, socket full) is
logged at DEBUG and never raises: notifying is never worth stopping the service for.

Messages the daemon sends: ``READY=1`` (store open, recovery done, actors up), ``STATUS=...``
(what it does), ``WATCHDOG=1`` (every actor's heartbeat is fresh), ``STOPPING=1``.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

__all__ = ["Notifier", "watchdog_interval"]

logger = logging.getLogger(__name__)


class Notifier:
    """Sends ``KEY=VALUE`` lines to systemd's notify socket (or nowhere when there is none)."""

    def __init__(self, address: str | None) -> None:
        self.address = address or None
        self.sent = 0
        self._sock: socket.socket | None = None
        if self.address is not None:
            self._target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.setblocking(False)

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> Notifier:
        """The notifier for ``$NOTIFY_SOCKET`` (a no-op one when unset)."""
        env = os.environ if env is None else env
        return cls(env.get("NOTIFY_SOCKET"))

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def notify(self, *lines: str) -> bool:
        """Send ``lines`` as one datagram (``READY=1``, ``STATUS=...``); True if it was sent."""
        if self._sock is None:
            return False
        text = "\n".join(line.replace("\n", " ") for line in lines)
        try:
            self._sock.sendto(text.encode("utf-8", "replace"), self._target)
        except OSError as exc:
            logger.debug("sd_notify to %s failed: %s", self.address, exc)
            return False
        self.sent += 1
        return True

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def watchdog_interval(env: Mapping[str, str] | None = None) -> float | None:
    """Seconds between ``WATCHDOG=1`` pings: half of ``$WATCHDOG_USEC``, or None when not asked for.

    ``$WATCHDOG_PID``, when set, must be this process (systemd sets it for the main process).
    """
    env = os.environ if env is None else env
    usec, pid = env.get("WATCHDOG_USEC"), env.get("WATCHDOG_PID")
    if not usec:
        return None
    if pid and pid.strip() != str(os.getpid()):
        return None
    try:
        value = int(usec)
    except ValueError:
        logger.warning("WATCHDOG_USEC=%r is not a number of microseconds; no watchdog pings", usec)
        return None
    return value / 2e6 if value > 0 else None
