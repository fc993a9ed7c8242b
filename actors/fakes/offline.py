"""Keep tests off the internet: the live sources pointed at a closed local port, and a resolver guard.

``OFFLINE_ENV`` is the environment a test adds to a ``bin/scan`` subprocess (whose environment it
builds from scratch) so that a scan that reaches the live default asks 127.0.0.1:9 (closed: the
connection is refused at once) instead of Cboe, Nasdaq or Yahoo. The pytest plugin sets the same
variables for in-process runs and refuses to resolve any host name that is not local.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

__all__ = ["CLOSED_URL", "OFFLINE_ENV", "local_only_getaddrinfo"]

#: A local port nothing listens on (discard): connections are refused at once.
CLOSED_URL = "http://127.0.0.1:9"

OFFLINE_ENV: dict[str, str] = {
    "OPTION_ALPHA_CBOE_BASE_URL": CLOSED_URL,
    "OPTION_ALPHA_NASDAQ_BASE_URL": CLOSED_URL,
    "OPTION_ALPHA_NEWS_FEED_URL": CLOSED_URL + "/rss?s={symbol}",
}

_LOCAL = {"127.0.0.1", "::1", "localhost", "0.0.0.0", "", None}


def local_only_getaddrinfo(real: Callable[..., Any]) -> Callable[..., Any]:
    """``socket.getaddrinfo`` that refuses every host but the local ones (a test reaching out fails loudly)."""

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in _LOCAL and not str(name).startswith("127."):
            raise socket.gaierror(socket.EAI_NONAME, f"tests do not touch the internet (asked to resolve {name!r})")
        return real(host, *args, **kwargs)

    return getaddrinfo
