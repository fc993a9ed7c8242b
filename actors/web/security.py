"""The dashboard's guard (ASGI middleware): security headers, Host check, token, same-origin POSTs.

- **Headers** on every response: a Content-Security-Policy that allows scripts, styles and
  connections from this origin only (no inline script, no ``eval``, nothing from elsewhere;
  the exported report, which inlines its stylesheet, gets :data:`REPORT_CSP`: no script at all),
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``, ``X-Frame-Options: DENY``.
- **Host**: while listening on loopback, only loopback host names are served, so a web page on
  another site cannot reach the dashboard through DNS rebinding.
- **Token** (required when listening beyond loopback): ``Authorization: Bearer TOKEN``, or the
  ``oa_dashboard`` cookie, which ``?token=TOKEN`` sets once (HttpOnly, SameSite=Strict) before
  redirecting to the same URL without it. Compared in constant time; never logged. ``/healthz``
  and ``/static/`` need none: they show nothing of the data.
- **Same origin** for every request that is not GET or HEAD: its ``Origin`` (else its
  ``Referer``) must be this server's own origin; a request with neither is refused. With the
  SameSite=Strict cookie this is the CSRF defence: a form posted from another site carries
  another Origin and, beyond loopback, no token.
"""

from __future__ import annotations

import hmac
import logging
import urllib.parse
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from actors.secrets import Secret

__all__ = ["CSP", "COOKIE", "REPORT_CSP", "DashboardGuard", "LOOPBACK_HOSTS", "host_name"]

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
#: The exported report's policy: its own inline stylesheet, and no script at all.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'"
COOKIE = "oa_dashboard"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
_OPEN_PATHS = ("/healthz", "/static/")


def host_name(host: str) -> str:
    """The name part of a Host header (``[::1]:8787`` → ``[::1]``, ``example:80`` → ``example``)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return urllib.parse.unquote(value)
    return None


class DashboardGuard:
    """Wraps the app; see the module docstring for what it refuses and why."""

    def __init__(self, app: ASGIApp, *, token: Secret | None, loopback_only: bool) -> None:
        self._app = app
        self._token = token.reveal().encode() if token else None
        self._loopback_only = loopback_only

    def _token_ok(self, candidate: str | None) -> bool:
        if self._token is None:
            return True
        return candidate is not None and hmac.compare_digest(candidate.encode(), self._token)

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":  # a route's own header (the report's CSP) wins
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [(name, value) for name, value in _HEADERS if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        headers = _headers(scope)
        host = headers.get("host", "")
        if self._loopback_only and host_name(host) not in LOOPBACK_HOSTS:
            await _plain(send_with_headers, 400, "unexpected Host header: this dashboard answers on loopback only")
            return
        path = scope.get("path", "")
        if self._token is not None and not path.startswith(_OPEN_PATHS):
            query = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))
            given = query.get("token", [None])[-1]
            if given is not None and scope["method"] == "GET":
                if not self._token_ok(given):
                    await _plain(send_with_headers, 401, "wrong dashboard token")
                    return
                rest = [(k, v) for k, vs in query.items() if k != "token" for v in vs]
                location = path + ("?" + urllib.parse.urlencode(rest) if rest else "")
                await _redirect_with_cookie(send_with_headers, location, given)
                return
            auth = headers.get("authorization", "")
            bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else None
            if not (self._token_ok(bearer) or self._token_ok(_cookie(headers.get("cookie", ""), COOKIE))):
                await _plain(send_with_headers, 401,
                             "dashboard token required: open the dashboard once with ?token=TOKEN "
                             "(dashboard_token), or send Authorization: Bearer TOKEN")
                return
        if scope["method"] not in ("GET", "HEAD"):
            own = f"{scope.get('scheme', 'http')}://{host}".lower()
            origin = headers.get("origin")
            if origin is None or origin == "null":
                referer = headers.get("referer")
                origin = None if referer is None else "://".join(urllib.parse.urlsplit(referer)[:2]).lower()
            if origin is None or origin.lower() != own:
                logger.info("dashboard: refused a %s to %s from origin %r", scope["method"], path, origin)
                await _plain(send_with_headers, 403, "refused: the request did not come from this dashboard's own pages")
                return
        await self._app(scope, receive, send_with_headers)


async def _plain(send: Callable[[Any], Awaitable[None]], status: int, text: str) -> None:
    body = (text + "\n").encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _redirect_with_cookie(send: Callable[[Any], Awaitable[None]], location: str, token: str) -> None:
    cookie = f"{COOKIE}={urllib.parse.quote(token, safe='')}; Path=/; HttpOnly; SameSite=Strict"
    await send({"type": "http.response.start", "status": 303, "headers": [
        (b"location", location.encode("latin-1")), (b"set-cookie", cookie.encode("latin-1")),
        (b"content-length", b"0"), (b"cache-control", b"no-store"),
    ]})
    await send({"type": "http.response.body", "body": b""})
