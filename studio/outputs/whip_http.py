"""WHIP (RFC 9725) HTTP details: requests with manual redirects, Link ice-servers (and our relay's
low-layer relation), Retry-After.

Kept apart from the session logic so each rule is small and unit-testable. The bearer token is
sent only to the origin of the configured endpoint: a 307/308 to another origin is followed
without it.
"""

from __future__ import annotations

import email.utils
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiortc import RTCIceServer
from multidict import CIMultiDict, CIMultiDictProxy

MAX_REDIRECTS = 5
TRICKLE_TYPE = "application/trickle-ice-sdpfrag"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class WhipError(Exception):
    """A WHIP step failed. ``retryable`` errors lead to a reconnect, the others stop the output."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = True,
        retry_after: float | None = None,
        unreachable: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        self.unreachable = unreachable  # nothing answered (refused, no route): cheap to retry soon


@dataclass(frozen=True)
class Response:
    status: int
    url: str  # the URL that answered (after redirects): relative Locations resolve against it
    headers: CIMultiDictProxy[str] = field(repr=False)
    text: str = field(repr=False)


def origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    return scheme, (parts.hostname or "").lower(), port


def same_origin(a: str, b: str) -> bool:
    return origin(a) == origin(b)


def resolve_location(request_url: str, location: str) -> str:
    """Resolve a (possibly relative) Location header against the URL that returned it."""
    return urljoin(request_url, location.strip())


def validate_endpoint(url: str, field_name: str = "url") -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{field_name}: expected an http:// or https:// WHIP endpoint URL, got {url!r}")
    return url


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _split_links(header: str) -> list[str]:
    """Split a Link header on commas that are outside <...> and quotes."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(header):
        if ch == '"' and depth == 0:
            quoted = not quoted
        elif ch == "<" and not quoted:
            depth += 1
        elif ch == ">" and not quoted:
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0 and not quoted:
            parts.append(header[start:i])
            start = i + 1
    parts.append(header[start:])
    return [p.strip() for p in parts if p.strip()]


_LINK = re.compile(r"^<([^>]*)>\s*(.*)$", re.S)
_PARAM = re.compile(r';\s*([A-Za-z0-9_\-]+)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^;,\s]+)))?')


def parse_ice_servers(link_headers: list[str]) -> list[RTCIceServer]:
    """``Link: <turn:host?transport=udp>; rel="ice-server"; username="u"; credential="p"``."""
    servers: list[RTCIceServer] = []
    for uri, params in _links(link_headers):
        if "ice-server" not in params.get("rel", "").lower().split():
            continue
        if not uri.lower().startswith(("stun:", "stuns:", "turn:", "turns:")):
            continue
        servers.append(
            RTCIceServer(
                urls=uri,
                username=params.get("username") or None,
                credential=params.get("credential") or None,
                credentialType=params.get("credential-type", "password") or "password",
            )
        )
    return servers


LOW_LAYER_REL = "urn:drama-live-studio:low-layer"


def _links(link_headers: list[str]) -> list[tuple[str, dict[str, str]]]:
    """Each ``<uri>; param=value...`` of the Link headers as (uri, lower-cased params)."""
    links: list[tuple[str, dict[str, str]]] = []
    for header in link_headers:
        for link in _split_links(header):
            match = _LINK.match(link)
            if match:
                params = {
                    m.group(1).lower(): (m.group(2) if m.group(2) is not None else (m.group(3) or ""))
                    for m in _PARAM.finditer(match.group(2))
                }
                links.append((match.group(1).strip(), params))
    return links


def low_layer_link(path: str) -> str:
    """The Link header value our relay sends with a WHIP 201 (``parse_low_layer`` reads it)."""
    return f'<{path}>; rel="{LOW_LAYER_REL}"'


def parse_low_layer(link_headers: list[str], base_url: str) -> str | None:
    """Where the server wants a low layer of this stream (our relay's own Link relation), or None."""
    for uri, params in _links(link_headers):
        if LOW_LAYER_REL in params.get("rel", "").lower().split() and uri:
            url = resolve_location(base_url, uri)
            if urlsplit(url).scheme in ("http", "https"):
                return url
    return None


def supports_trickle(headers: CIMultiDictProxy[str]) -> bool:
    accept = ",".join(headers.getall("Accept-Patch", []))
    return TRICKLE_TYPE in accept.lower()


def trickle_sdpfrag(sdp: str) -> str:
    """RFC 8840 fragment with the ICE credentials and candidates of the first (bundled) m-line."""
    session: list[str] = []
    media: list[str] = []
    in_media = False
    group = ""
    for raw in sdp.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            if in_media:
                break  # BUNDLE: candidates of the first m-line cover all
            in_media = True
            media.append(line)
        elif line.startswith("a=group:BUNDLE"):
            group = line
        elif line.startswith(("a=ice-ufrag:", "a=ice-pwd:")):
            (media if in_media else session).append(line)
        elif in_media and line.startswith(("a=mid:", "a=candidate:")):
            media.append(line)
    lines = ([group] if group else []) + session + media + ["a=end-of-candidates"]
    return "\r\n".join(lines) + "\r\n"


def redact_url(url: str) -> str:
    """The URL without query string or user info (tokens sometimes travel there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


async def request(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    token: str | None,
    token_origin: str,
    timeout_s: float,
    headers: dict[str, str] | None = None,
    body: str | None = None,
) -> Response:
    """One WHIP request, following 307/308 by hand; the token only goes to ``token_origin``."""
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        sent = dict(headers or {})
        if token and same_origin(current, token_origin):
            sent["Authorization"] = f"Bearer {token}"
        try:
            async with session.request(
                method,
                current,
                headers=sent,
                data=body.encode() if body is not None else None,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=timeout_s),
            ) as resp:
                text = await resp.text(errors="replace")
                result = Response(resp.status, current, CIMultiDictProxy(CIMultiDict(resp.headers)), text)
        except TimeoutError:
            raise WhipError(f"{method} {redact_url(current)}: no answer within {timeout_s:g} s") from None
        except aiohttp.ClientError as exc:
            raise WhipError(f"{method} {redact_url(current)}: cannot reach the server ({exc})",
                            unreachable=isinstance(exc, aiohttp.ClientConnectorError)) from None
        if result.status in (307, 308):
            location = result.headers.get("Location")
            if not location:
                raise WhipError(
                    f"{method} {redact_url(current)}: {result.status} redirect without a Location"
                )
            current = resolve_location(current, location)
            continue
        return result
    raise WhipError(f"{method} {redact_url(url)}: more than {MAX_REDIRECTS} redirects", retryable=False)


def error_for(method: str, response: Response) -> WhipError:
    """A WhipError with a human message for a non-success answer."""
    status = response.status
    where = f"{method} {redact_url(response.url)}"
    detail = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
    suffix = f": {detail}" if detail else ""
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status in (401, 403):
        return WhipError(
            f"{where}: the server refused the stream key/bearer token ({status}){suffix}",
            status=status,
            retryable=False,
        )
    if status == 404:
        return WhipError(
            f"{where}: no WHIP endpoint at this URL (404){suffix}", status=status, retryable=False
        )
    if status in (408, 429) or status >= 500:
        busy = "the server is busy" if status in (429, 503) else "server error"
        return WhipError(f"{where}: {busy} ({status}){suffix}", status=status, retry_after=retry_after)
    if 300 <= status < 400:
        return WhipError(
            f"{where}: unexpected redirect {status} (WHIP servers must use 307/308)",
            status=status,
            retryable=False,
        )
    return WhipError(f"{where}: unexpected answer {status}{suffix}", status=status, retryable=False)
