"""The browser-facing guard: allowed ``Host`` values, same-origin writes, and security headers on every response.

Without a token file the service is open to anything that can reach it, and a web page a developer visits can
reach ``127.0.0.1`` too: by DNS rebinding (a name of the attacker's that resolves to 127.0.0.1, so the browser
sends that name as ``Host``) or by a cross-site form post. So a request whose ``Host`` is not one of the allowed
names is refused (400), and a state-changing request (POST, PUT, PATCH, DELETE) that a browser marks as coming
from another origin (``Origin``, or ``Sec-Fetch-Site`` without one) is refused (403) unless that origin is one
of the CORS origins. Clients that are not browsers (curl, the CLI, CI) send neither header and are not affected.
"""

from __future__ import annotations

import json
import socket
from typing import TYPE_CHECKING

from .problems import MEDIA_TYPE, PROBLEM_TYPE_BASE

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
_WILDCARDS = {"0.0.0.0", "::", ""}  # the wildcard addresses, as `--host` may name them
_UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# The viewer is a same-origin module script and a module worker; its stylesheet is a file; the icon is `data:,`.
# Nothing is inline and nothing comes from another origin, so the policy can name only 'self'.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "font-src 'self'; connect-src 'self'; worker-src 'self'; object-src 'none'; "
                           "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)


def default_allowed_hosts(bound: str) -> list[str]:
    """The bound address, the loopback names, and this machine's name when the server listens on every address."""
    hosts = [bound.strip("[]").lower(), *LOCAL_HOSTS]
    if bound.strip("[]") in _WILDCARDS:
        hosts.append(socket.gethostname().lower())
    return list(dict.fromkeys(h for h in hosts if h and h not in _WILDCARDS))


def host_name(value: str) -> str:
    """The name of a ``Host`` header or an origin's authority, without the port or IPv6 brackets, lowercased."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    return value.rpartition(":")[0] if value.count(":") == 1 else value


def _problem(status: int, slug: str, title: str, detail: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    body = json.dumps({"type": PROBLEM_TYPE_BASE + slug, "title": title, "status": status,
                       "detail": detail}).encode()
    headers = [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    return status, headers, body


class GuardMiddleware:
    """Pure ASGI middleware: refuses foreign hosts and cross-site writes, adds the security headers."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: list[str], trusted_origins: list[str]) -> None:
        self.app = app
        self.any_host = "*" in allowed_hosts
        self.hosts = frozenset(host_name(h) for h in allowed_hosts)
        self.any_origin = "*" in trusted_origins
        self.origins = frozenset(o.rstrip("/").lower() for o in trusted_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            status, headers, body = refusal
            await send({"type": "http.response.start", "status": status,
                        "headers": [*headers, *SECURITY_HEADERS]})
            await send({"type": "http.response.body", "body": body})
            return

        async def _send(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                extra = [h for h in SECURITY_HEADERS if h[0] not in present]
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, _send)

    def _refusal(self, scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        """A problem response for a request that must not be served, else None."""
        host: str | None = None
        origin: str | None = None
        fetch_site: str | None = None
        for name, value in scope.get("headers", ()):
            if name == b"host":
                host = value.decode("latin-1")
            elif name == b"origin":
                origin = value.decode("latin-1")
            elif name == b"sec-fetch-site":
                fetch_site = value.decode("latin-1").strip().lower()
        if host is not None and not self.any_host and host_name(host) not in self.hosts:
            return _problem(400, "host-not-allowed", "Host not allowed",
                            f"this server does not answer for the host `{host[:100]}`; allowed: "
                            f"{', '.join(sorted(self.hosts))} (set GRAPHLINT_ALLOWED_HOSTS)")
        if scope.get("method") not in _UNSAFE_METHODS:
            return None
        if origin is not None:
            if self._same_origin(origin, host) or self.any_origin or origin.rstrip("/").lower() in self.origins:
                return None
            return _problem(403, "cross-site", "Cross-site request refused",
                            f"a {scope['method']} from the origin `{origin[:100]}` is not accepted: only pages "
                            "served by this server (or a --cors-origin) may change its state")
        if fetch_site in ("cross-site", "same-site"):
            return _problem(403, "cross-site", "Cross-site request refused",
                            f"a {fetch_site} {scope['method']} is not accepted: only pages served by this server "
                            "may change its state")
        return None

    @staticmethod
    def _same_origin(origin: str, host: str | None) -> bool:
        """True when the origin's authority is the request's ``Host`` (the scheme may differ behind a proxy)."""
        scheme, sep, authority = origin.strip().lower().partition("://")
        return bool(sep) and scheme in ("http", "https") and host is not None and authority == host.strip().lower()
