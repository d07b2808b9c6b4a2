"""Who may do what on the relay and the hub: scoped tokens, browser origins and CORS.

Three rights, three tokens, so a link handed to viewers never lets anyone publish or host:

- ``publish``: WHIP ingest (the studio pushing the program),
- ``host``: the hub's ``/host`` side (the studio reading danmaku, sending polls),
- ``view``: WHEP playback and joining the hub as a viewer.

``scoped_token(master, scope)`` derives the host and view tokens from the one secret the user
keeps (``studio serve --lan --token-env VAR``), so a restart prints the same viewer link and a
remote studio that knows the master can derive the host token; a view token reveals neither.

Origins: a browser always sends ``Origin`` on a WebSocket handshake and on a cross-origin POST;
non-browser clients (encoders, the studio, the bench) send none. ``OriginPolicy`` lets a browser
through only from the relay's own page or an allow-listed origin, and ``cors_middleware`` answers
WHIP/WHEP preflights and adds ``Access-Control-*`` headers for allow-listed origins only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware

Scope = Literal["publish", "host", "view"]
SCOPES: tuple[Scope, ...] = ("publish", "host", "view")
MIN_TOKEN = 16
CORS_METHODS = "POST, DELETE, PATCH, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type, If-Match"
CORS_EXPOSE = "Location, Link, ETag, Accept-Patch, Retry-After"
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def scoped_token(master: str, scope: Scope) -> str:
    """The token for one right, derived from the master secret (``publish`` is the master itself)."""
    if len(master) < MIN_TOKEN:
        raise ValueError(f"the access token must be at least {MIN_TOKEN} characters")
    if scope == "publish":
        return master
    if scope not in SCOPES:
        raise ValueError(f"unknown access scope {scope!r}")
    digest = hmac.new(master.encode(), f"drama-studio/{scope}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]


@dataclass(frozen=True)
class AccessTokens:
    """The three tokens of a LAN show (``None`` everywhere: loopback, nothing to prove)."""

    publish: str | None = None
    host: str | None = None
    view: str | None = None

    @classmethod
    def from_master(cls, master: str) -> AccessTokens:
        return cls(*(scoped_token(master, scope) for scope in SCOPES))


def bearer(headers: Mapping[str, str], query: Mapping[str, str] | None = None) -> str:
    """The token a request offers: ``Authorization: Bearer`` first, else ``?token=``."""
    header = headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return (query or {}).get("token", "")


def token_matches(offered: str, *expected: str | None) -> bool:
    """Constant-time comparison against any of the expected tokens that are set."""
    ok = False
    for token in expected:
        if token:
            ok |= hmac.compare_digest(offered.encode(), token.encode())
    return ok


# ---- origins ------------------------------------------------------------------------------------


def normalise_origin(origin: str) -> str:
    """``scheme://host[:port]`` in lower case, default ports dropped; ValueError when not an origin."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ValueError(f"{origin[:80]!r} is not an origin (http[s]://host[:port])")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"{origin[:80]!r} is not an origin (http[s]://host[:port])")
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    port = parts.port
    default = 80 if parts.scheme == "http" else 443
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def _split_host(value: str) -> tuple[str, int | None]:
    parts = urlsplit("//" + value)
    try:
        return (parts.hostname or "").lower(), parts.port
    except ValueError:
        return "", None


def _same_machine(a: str, b: str) -> bool:
    return a == b or (a in _LOOPBACK_NAMES and b in _LOOPBACK_NAMES)


class OriginPolicy:
    """Which browser pages may talk to us: the relay's own page, plus an allow-list.

    The relay's page is recognised without knowing every name the machine has: its origin is the
    host the browser used to reach us (the request's ``Host``) on the relay's port.
    """

    def __init__(self, allowed: Iterable[str] = (), *, page_port: int | None = None) -> None:
        entries = [a.strip() for a in allowed if a.strip()]
        self.any = "*" in entries
        self.allowed = frozenset(normalise_origin(a) for a in entries if a != "*")
        self.page_port = page_port

    def with_page_port(self, port: int) -> OriginPolicy:
        policy = OriginPolicy(page_port=port)
        policy.any, policy.allowed = self.any, self.allowed
        return policy

    def allow_listed(self, origin: str | None) -> bool:
        if not origin:
            return False
        try:
            return self.any or normalise_origin(origin) in self.allowed
        except ValueError:
            return False

    def allows(self, origin: str | None, host_header: str | None) -> bool:
        """True for non-browser clients (no Origin), the relay's own page and allow-listed origins."""
        if origin is None:
            return True
        if self.allow_listed(origin):
            return True
        if self.page_port is None or not host_header:
            return False
        try:
            parts = urlsplit(normalise_origin(origin))
            origin_host, origin_port = (parts.hostname or "").lower(), parts.port
        except ValueError:
            return False
        if parts.scheme != "http":
            return False
        host, _ = _split_host(host_header)
        return _same_machine(origin_host, host) and (origin_port or 80) == self.page_port


# ---- CORS for browser players on other origins ------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def cors_headers(policy: OriginPolicy, origin: str | None) -> dict[str, str]:
    if not origin or not policy.allow_listed(origin):
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": CORS_METHODS,
        "Access-Control-Allow-Headers": CORS_HEADERS,
        "Access-Control-Expose-Headers": CORS_EXPOSE,
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }


def cors_middleware(policy: OriginPolicy, prefixes: tuple[str, ...] = ("/whip/", "/whep/")) -> Middleware:
    """aiohttp middleware: CORS headers on WHIP/WHEP answers (errors included) for allow-listed
    origins; a preflight from anywhere else gets no CORS headers, so the browser refuses it."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(prefixes):
            return await handler(request)
        headers = cors_headers(policy, request.headers.get("Origin"))
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.headers.update(headers)
            raise
        response.headers.update(headers)
        return response

    return middleware


# ---- the address a LAN viewer can open ------------------------------------------------------


def lan_address() -> str:
    """This machine's address on the LAN (the interface of the default route), else 127.0.0.1.

    A UDP ``connect`` picks the route without sending anything.
    """
    for probe in ("10.255.255.255", "192.168.255.255"):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect((probe, 9))
                address = str(s.getsockname()[0])
        except OSError:
            continue
        if not ipaddress.ip_address(address).is_unspecified:
            return address
    return "127.0.0.1"


__all__ = [
    "SCOPES", "AccessTokens", "OriginPolicy", "Scope", "bearer", "cors_headers", "cors_middleware",
    "lan_address", "normalise_origin", "scoped_token", "token_matches",
]
