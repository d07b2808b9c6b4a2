"""The embedded danmaku hub: viewers at ``/viewer``, the studio at ``/host`` (token-protected).

``HubCore`` is the sans-I/O part (validation, rate limits, stats) so it can be fuzzed without
sockets; ``HubServer`` puts it on websockets/asyncio; ``HubThread`` runs a server on its own
``net-hub`` thread for sync code and tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import ipaddress
import itertools
import logging
import os
import secrets
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from studio.interaction.identity import (
    DEFAULT_NEW_PER_MINUTE,
    DEFAULT_TTL_S,
    Admission,
    Refusal,
    ViewerIdentities,
)
from studio.interaction.messages import Enter, GuestInvite, HostFrame, Leave, PollState, ViewerMessage
from studio.interaction.protocol import (
    _BAD_CHARS,
    DEFAULT_LIMITS,
    ERROR_CODES,
    VIEWER_SENDABLE,
    Limits,
    ProtocolError,
    build_viewer_message,
    decode_frame,
    encode,
    encode_message,
    error_frame,
    parse_host_frame,
    parse_viewer_frame,
)
from studio.interaction.ratelimit import Clock, TokenBucket
from studio.net.loop import NetLoop
from studio.net.ports import PortInUseError
from studio.services.access import OriginPolicy, bearer, token_matches

log = logging.getLogger(__name__)

VIEWER_PATH = "/viewer"
BATCH_MAX_MESSAGES = 500
BATCH_MAX_CHARS = 64 * 1024
HOST_PATH = "/host"
_BUCKETS_KEPT = 65536  # per-identity rate buckets kept (least recently used dropped)
GUEST_REQUEST_INTERVAL_S = 30.0  # one "ask to join" per viewer identity this often


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class HubConfig:
    """How the hub listens and what it lets through. Port 0 picks a free port."""

    host: str = "127.0.0.1"
    port: int = 0
    token: str | None = None  # host token; a random one is made when None
    allow_remote: bool = False  # binding off loopback needs this *and* an explicit token
    rate: float = 5.0  # per-viewer messages per second ...
    burst: float = 10.0  # ... with this burst
    limits: Limits = DEFAULT_LIMITS
    viewer_types: frozenset[str] = VIEWER_SENDABLE
    hard_frame_factor: int = 16  # frames over factor*frame_max close the connection (1009)
    host_backlog: int = 20000  # queued frames per host before counting drops
    max_viewers: int = 20000
    # viewer identity (docs/interaction-protocol.md, "Identity"): new identities per address a
    # minute (a venue behind one NAT raises it), token lifetime, the signing secret (random per hub)
    new_identities_per_minute: float = DEFAULT_NEW_PER_MINUTE
    identity_ttl_s: float = DEFAULT_TTL_S
    identity_secret: bytes | None = field(default=None, repr=False)
    # browser pages allowed besides the relay's own page (HubServer.allow_page sets its port)
    allowed_origins: tuple[str, ...] = ()
    viewer_token: str | None = field(default=None, repr=False)  # LAN: joining as a viewer needs it

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"hub port must be 0-65535, got {self.port}")
        if not is_loopback(self.host):
            if not self.allow_remote:
                raise ValueError(
                    f"hub host {self.host!r} is not loopback: set allow_remote=True to listen beyond this machine"
                )
            if not self.token:
                raise ValueError(f"hub host {self.host!r} is not loopback: a host token is required")
        if self.token is not None and len(self.token) < 16:
            raise ValueError("hub token must be at least 16 characters")
        if self.hard_frame_factor < 1 or self.host_backlog < 1 or self.max_viewers < 1:
            raise ValueError("hub hard_frame_factor, host_backlog and max_viewers must be >= 1")
        if self.viewer_token is not None and len(self.viewer_token) < 16:
            raise ValueError("hub viewer token must be at least 16 characters")
        if self.viewer_token is not None and self.viewer_token == self.token:
            raise ValueError("hub viewer token must differ from the host token")
        TokenBucket(self.rate, self.burst)  # validates rate and burst
        OriginPolicy(self.allowed_origins)  # validates the allow-list
        ViewerIdentities(self.identity_secret, new_per_minute=self.new_identities_per_minute,
                         ttl_s=self.identity_ttl_s)  # validates the identity settings

    @property
    def hard_frame_max(self) -> int:
        return self.limits.frame_max * self.hard_frame_factor


@dataclass(frozen=True)
class HubStats:
    viewers: int  # open viewer connections
    hosts: int
    connections_total: int
    accepted: int
    rejected: dict[str, int]
    delivered: int  # messages handed to host connections (batched or not)
    dropped_no_host: int  # accepted while no host was connected
    dropped_backlog: int  # a host's queue was full
    broadcasts: int
    identities: int = 0  # distinct viewer identities seen connected
    identities_new: int = 0  # identities made for connections without a valid token
    tokens_invalid: int = 0  # forged, altered, malformed or expired viewer tokens offered
    refused: dict[str, int] = field(default_factory=dict)  # handshakes refused, by reason

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "viewers": self.viewers,
            "hosts": self.hosts,
            "connections_total": self.connections_total,
            "accepted": self.accepted,
            "rejected": dict(self.rejected),
            "rejected_total": self.rejected_total,
            "delivered": self.delivered,
            "dropped_no_host": self.dropped_no_host,
            "dropped_backlog": self.dropped_backlog,
            "broadcasts": self.broadcasts,
            "identities": self.identities,
            "identities_new": self.identities_new,
            "tokens_invalid": self.tokens_invalid,
            "refused": dict(self.refused),
        }


class ViewerSession:
    """One viewer connection; ``id`` is the viewer's identity, shared by all its connections."""

    __slots__ = ("id", "nick", "bucket", "address", "token")

    def __init__(self, viewer_id: str, nick: str, bucket: TokenBucket, address: str = "", token: str = "") -> None:
        self.id = viewer_id
        self.nick = nick
        self.bucket = bucket
        self.address = address
        self.token = token


def _safe_ref(raw: str | bytes, limits: Limits) -> str | None:
    """Echo a client's ``ref`` in an error frame only when it is a short clean string."""
    if not isinstance(raw, str) or '"ref"' not in raw:
        return None
    try:
        obj = decode_frame(raw, limits)
    except ProtocolError:
        return None
    ref = obj.get("ref")
    if isinstance(ref, str) and 0 < len(ref) <= limits.ident_max and not _BAD_CHARS.search(ref):
        return ref
    return None


# why a viewer handshake was refused (HTTP status in the docs)
REFUSALS: tuple[str, ...] = ("origin", "access", "identity_limit", "full", "bad_nick")


@dataclass
class _Counters:
    connections_total: int = 0
    accepted: int = 0
    delivered: int = 0
    dropped_no_host: int = 0
    dropped_backlog: int = 0
    broadcasts: int = 0
    rejected: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ERROR_CODES, 0))
    refused: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REFUSALS, 0))



class HubCore:
    """Frame handling without sockets: one call per received frame, returns what to send where."""

    def __init__(self, config: HubConfig | None = None, *, clock: Clock = time.monotonic) -> None:
        self.config = config or HubConfig()
        self._clock = clock
        self._ids = itertools.count(1)
        self._prefix = os.urandom(3).hex()
        self.counters = _Counters()
        c = self.config
        self.identities = ViewerIdentities(c.identity_secret, new_per_minute=c.new_identities_per_minute,
                                           ttl_s=c.identity_ttl_s, clock=clock)
        # one rate bucket per identity: twenty connections of one viewer share one allowance, and
        # a reconnect does not refill it
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self._seen: set[str] = set()
        self._guest_requests: OrderedDict[str, float] = OrderedDict()  # identity -> last request

    def reject(self, code: str) -> None:
        rejected = self.counters.rejected
        rejected[code] = rejected.get(code, 0) + 1

    def check_nick(self, nick: str | None) -> str:
        """A nickname from the viewer URL: empty means none; raises ProtocolError when unfit."""
        if nick is None or not nick.strip():
            return ""
        nick = nick.strip()
        limit = self.config.limits.user_max
        if len(nick) > limit:
            raise ProtocolError("too_long", f"nick is longer than {limit} characters")
        if _BAD_CHARS.search(nick):
            raise ProtocolError("bad_field", "nick contains control or unpaired characters")
        return nick

    def refuse(self, reason: str) -> None:
        refused = self.counters.refused
        refused[reason] = refused.get(reason, 0) + 1

    def admit(self, token: str | None, ip: str) -> Admission | Refusal:
        """The identity of a new viewer connection (see ``ViewerIdentities.admit``)."""
        admission = self.identities.admit(token, ip)
        if isinstance(admission, Refusal):
            self.refuse("identity_limit")
        return admission

    def add_viewer(self, nick: str = "", admission: Admission | None = None) -> ViewerSession:
        """A viewer connection; without an admission (tests, tools) it gets a one-off identity."""
        self.counters.connections_total += 1
        if admission is None:
            viewer_id, token = f"v{self._prefix}{next(self._ids):x}", ""
            address = ""
        else:
            viewer_id, token, address = admission.viewer, admission.token, admission.address
        self._seen.add(viewer_id)
        bucket = self._buckets.get(viewer_id)
        if bucket is None:
            bucket = self._buckets[viewer_id] = TokenBucket(self.config.rate, self.config.burst, self._clock)
            while len(self._buckets) > _BUCKETS_KEPT:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(viewer_id)
        return ViewerSession(viewer_id, nick, bucket, address, token)

    def enter(self, session: ViewerSession) -> Enter:
        return Enter(user=session.id, nick=session.nick, address=session.address)

    def leave(self, session: ViewerSession) -> Leave:
        return Leave(user=session.id, nick=session.nick, address=session.address)

    def welcome(self, session: ViewerSession) -> str:
        limits = self.config.limits
        token = {"token": session.token} if session.token else {}
        return encode(
            {
                "type": "welcome",
                "viewer": session.id,
                **token,
                "nick": session.nick,
                "accepts": sorted(self.config.viewer_types | {"ping"}),
                "limits": {
                    "text_max": limits.text_max,
                    "frame_max": limits.frame_max,
                    "rate": self.config.rate,
                    "burst": self.config.burst,
                },
            }
        )

    def viewer_frame(self, session: ViewerSession, raw: str | bytes) -> tuple[ViewerMessage | None, str | None]:
        """(message for the host or None, reply frame for the viewer or None). Never raises."""
        limits = self.config.limits
        try:
            if not session.bucket.try_take():
                raise ProtocolError("rate_limited", f"over {self.config.rate:g} messages/s (burst {self.config.burst:g})")
            frame = parse_viewer_frame(decode_frame(raw, limits), limits, self.config.viewer_types)
            if frame.type == "ping":
                pong: dict[str, Any] = {"type": "pong"}
                if frame.ref is not None:
                    pong["ref"] = frame.ref
                return None, encode(pong)
            if frame.type == "guest_request":
                self._guest_request_allowed(session.id)
            message = build_viewer_message(frame, user=session.id, nick=session.nick, address=session.address)
        except ProtocolError as exc:
            self.reject(exc.code)
            return None, error_frame(exc.code, exc.message, _safe_ref(raw, limits))
        except Exception:  # a bug here must cost one frame, not the hub
            log.exception("hub: unexpected error handling a viewer frame")
            self.reject("internal")
            return None, error_frame("internal", "the hub could not handle this frame")
        self.counters.accepted += 1
        if frame.ref is None:
            return message, None
        return message, encode({"type": "ack", "ref": frame.ref, "id": message.id})

    def _guest_request_allowed(self, viewer: str) -> None:
        """Asking to join is rarer than chatting: once per identity per interval (a reconnect or a
        second tab of the same viewer shares it)."""
        now = self._clock()
        last = self._guest_requests.get(viewer)
        if last is not None and now - last < GUEST_REQUEST_INTERVAL_S:
            raise ProtocolError("rate_limited", f"one request to join every {GUEST_REQUEST_INTERVAL_S:g} s")
        self._guest_requests[viewer] = now
        self._guest_requests.move_to_end(viewer)
        while len(self._guest_requests) > _BUCKETS_KEPT:
            self._guest_requests.popitem(last=False)

    def host_frame(self, raw: str | bytes) -> tuple[HostFrame | None, str | None]:
        """(frame to broadcast to viewers or None, reply for the host or None). Never raises."""
        try:
            obj = decode_frame(raw, self.config.limits)
            if obj["type"] == "ping":
                frame = parse_viewer_frame(obj, self.config.limits, frozenset())
                return None, encode({"type": "pong", "ref": frame.ref} if frame.ref else {"type": "pong"})
            return parse_host_frame(obj, self.config.limits), None
        except ProtocolError as exc:
            return None, error_frame(exc.code, exc.message)
        except Exception:
            log.exception("hub: unexpected error handling a host frame")
            return None, error_frame("internal", "the hub could not handle this frame")


class HubServer:
    """The hub on websockets. Call ``start()``/``stop()`` on the loop that should own it."""

    def __init__(self, config: HubConfig | None = None, *, clock: Clock = time.monotonic) -> None:
        self.config = config or HubConfig()
        self.token = self.config.token or secrets.token_urlsafe(24)
        self.core = HubCore(self.config, clock=clock)
        self._server: Server | None = None
        self._viewers: set[ServerConnection] = set()
        self._by_viewer: dict[str, set[ServerConnection]] = {}  # identity -> its connections
        self._hosts: dict[ServerConnection, asyncio.Queue[str]] = {}
        self._last_poll: str | None = None
        self._port = 0
        self.origins = OriginPolicy(self.config.allowed_origins)
        # handshake -> handler; weak, so a handshake that fails after the check leaves nothing behind
        self._admitted: weakref.WeakKeyDictionary[ServerConnection, Admission] = weakref.WeakKeyDictionary()

    # ---- life cycle ----

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("hub is already started")
        try:
            self._server = await serve(
                self._handle,
                self.config.host,
                self.config.port,
                process_request=self._check_request,
                max_size=self.config.hard_frame_max,
                max_queue=32,
                compression=None,  # small frames; deflate costs CPU and opens compression bombs
                server_header="drama-studio-hub",
                reuse_address=True,  # a port left in TIME_WAIT by a crashed hub binds at once
            )
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUseError("hub", self.config.host, self.config.port) from None
            raise
        self._port = self._server.sockets[0].getsockname()[1]
        log.info("hub listening on %s", self.url)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        await server.wait_closed()

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("hub is not started")
        return self._port

    @property
    def url(self) -> str:
        host = self.config.host
        if ":" in host:
            host = f"[{host}]"
        return f"ws://{host}:{self.port}"

    @property
    def viewer_url(self) -> str:
        return self.url + VIEWER_PATH

    @property
    def host_url(self) -> str:
        return self.url + HOST_PATH

    def allow_page(self, port: int) -> None:
        """Let browsers on the relay's page (this machine, that port) join as viewers."""
        self.origins = self.origins.with_page_port(port)

    def stats(self) -> HubStats:
        c = self.core.counters
        ids = self.core.identities
        return HubStats(
            viewers=len(self._viewers),
            hosts=len(self._hosts),
            connections_total=c.connections_total,
            accepted=c.accepted,
            rejected=dict(c.rejected),
            delivered=c.delivered,
            dropped_no_host=c.dropped_no_host,
            dropped_backlog=c.dropped_backlog,
            broadcasts=c.broadcasts,
            identities=len(self.core._seen),
            identities_new=ids.issued,
            tokens_invalid=ids.invalid,
            refused=dict(c.refused),
        )

    # ---- handshake ----

    def _authorised(self, request: Request, query: dict[str, list[str]], token: str) -> bool:
        offered = bearer(request.headers, {k: v[0] for k, v in query.items() if v})
        return bool(offered) and hmac.compare_digest(offered.encode(), token.encode())

    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        try:
            query = parse_qs(parts.query, max_num_fields=4)
        except ValueError:
            return _plain(connection, HTTPStatus.BAD_REQUEST, "too many query fields\n")
        if parts.path == HOST_PATH:
            if not self._authorised(request, query, self.token):
                return _plain(connection, HTTPStatus.UNAUTHORIZED, "host token required\n")
            return None
        if parts.path == VIEWER_PATH:
            return self._check_viewer(connection, request, query)
        return _plain(connection, HTTPStatus.NOT_FOUND, "use /viewer or /host\n")

    def _check_viewer(self, connection: ServerConnection, request: Request,
                      query: dict[str, list[str]]) -> Response | None:
        """Who may join as a viewer, in order: room left, a browser page we know, the LAN access
        token, a fit nick, then an identity (the token's, or a new one within the address's limit)."""
        core = self.core
        if len(self._viewers) >= self.config.max_viewers:
            core.refuse("full")
            return _plain(connection, HTTPStatus.SERVICE_UNAVAILABLE, "hub is full\n")
        if not self.origins.allows(request.headers.get("Origin"), request.headers.get("Host")):
            core.refuse("origin")
            return _plain(connection, HTTPStatus.FORBIDDEN, "this page may not join the chat\n")
        access = self.config.viewer_token
        if access and not token_matches(bearer(request.headers, {k: v[0] for k, v in query.items() if v}), access):
            core.refuse("access")
            return _plain(connection, HTTPStatus.UNAUTHORIZED, "viewer access token required\n")
        try:
            core.check_nick(query.get("nick", [""])[0])
        except ProtocolError as exc:
            core.reject(exc.code)
            core.refuse("bad_nick")
            return _plain(connection, HTTPStatus.BAD_REQUEST, exc.message + "\n")
        address = connection.remote_address
        ip = str(address[0]) if address else ""
        admission = core.admit(query.get("vt", [""])[0] or None, ip)
        if isinstance(admission, Refusal):
            response = _plain(connection, HTTPStatus.TOO_MANY_REQUESTS,
                              "too many new viewers from this address; keep your viewer token\n")
            response.headers["Retry-After"] = str(admission.retry_after_s)
            return response
        self._admitted[connection] = admission
        return None

    async def _handle(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        parts = urlsplit(connection.request.path)
        if parts.path == HOST_PATH:
            await self._host(connection)
        else:
            nick = self.core.check_nick(parse_qs(parts.query, max_num_fields=4).get("nick", [""])[0])
            await self._viewer(connection, nick, self._admitted.pop(connection, None))

    # ---- viewers ----

    async def _viewer(self, connection: ServerConnection, nick: str, admission: Admission | None) -> None:
        session = self.core.add_viewer(nick, admission)
        try:
            await connection.send(self.core.welcome(session))  # always the first frame
            self._viewers.add(connection)
            self._by_viewer.setdefault(session.id, set()).add(connection)
            if self._last_poll is not None:
                await connection.send(self._last_poll)
            self._to_hosts(encode_message(self.core.enter(session)))
            async for raw in connection:
                message, reply = self.core.viewer_frame(session, raw)
                if message is not None:
                    self._to_hosts(encode_message(message))
                if reply is not None:
                    await connection.send(reply)
        except ConnectionClosed as exc:
            self._count_close(exc)
        finally:
            if connection in self._viewers:  # entered: the host hears it left (concurrent viewers)
                self._to_hosts(encode_message(self.core.leave(session)))
            self._viewers.discard(connection)
            mine = self._by_viewer.get(session.id)
            if mine is not None:
                mine.discard(connection)
                if not mine:
                    del self._by_viewer[session.id]

    def _count_close(self, exc: ConnectionClosed) -> None:
        code = exc.sent.code if exc.sent is not None else None
        if code == 1009:
            self.core.reject("too_large")
        elif code == 1007:
            self.core.reject("invalid_utf8")

    def _to_hosts(self, text: str) -> None:
        counters = self.core.counters
        if not self._hosts:
            counters.dropped_no_host += 1
            return
        for queue in self._hosts.values():
            try:
                queue.put_nowait(text)
            except asyncio.QueueFull:
                counters.dropped_backlog += 1

    # ---- hosts ----

    async def _host(self, connection: ServerConnection) -> None:
        queue: asyncio.Queue[str] = asyncio.Queue(self.config.host_backlog)
        self._hosts[connection] = queue
        writer = asyncio.create_task(self._host_writer(connection, queue), name="hub-host-writer")
        try:
            async for raw in connection:
                frame, reply = self.core.host_frame(raw)
                if frame is not None:
                    self.broadcast(frame)
                if reply is not None:
                    await connection.send(reply)
        except ConnectionClosed:
            pass
        finally:
            self._hosts.pop(connection, None)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    async def _host_writer(self, connection: ServerConnection, queue: asyncio.Queue[str]) -> None:
        """One frame per message; when a backlog builds up, ``batch`` frames of up to 64 KiB.

        Batching only happens under load, so a quiet show keeps the lowest latency and a busy
        one pays one WebSocket frame and one write per batch instead of per message.
        """
        counters = self.core.counters
        with contextlib.suppress(ConnectionClosed):
            while True:
                text = await queue.get()
                if queue.empty():
                    counters.delivered += 1
                    await connection.send(text)
                    continue
                batch, size = [text], len(text)
                while not queue.empty() and len(batch) < BATCH_MAX_MESSAGES and size < BATCH_MAX_CHARS:
                    item = queue.get_nowait()
                    batch.append(item)
                    size += len(item) + 1
                counters.delivered += len(batch)
                await connection.send('{"type":"batch","messages":[' + ",".join(batch) + "]}")

    def broadcast(self, frame: HostFrame) -> None:
        """Send an announcement or poll state to every viewer (slow viewers skip it); a guest
        invite only to the connections of the viewer it is for."""
        text = encode_message(frame)
        if isinstance(frame, GuestInvite):
            broadcast(self._by_viewer.get(frame.viewer, set()), text)
            return
        if isinstance(frame, PollState):
            self._last_poll = text if frame.state == "open" else None
        self.core.counters.broadcasts += 1
        broadcast(self._viewers, text)


def _plain(connection: ServerConnection, status: HTTPStatus, body: str) -> Response:
    return connection.respond(status, body)


class HubThread:
    """A ``HubServer`` on its own ``net-hub`` thread. ``start()`` returns once it is listening."""

    def __init__(self, config: HubConfig | None = None, *, clock: Clock = time.monotonic) -> None:
        self.server = HubServer(config, clock=clock)
        self.listening = threading.Event()
        self._thread = NetLoop("net-hub")

    def start(self, timeout: float = 10.0) -> HubThread:
        """Start the thread and the server; returns once it is listening (raises if it cannot bind)."""
        self._thread.start()
        future = self._thread.submit(self._serve())
        try:
            if not self.listening.wait(timeout):
                raise TimeoutError(f"hub did not start listening within {timeout} s")
        except BaseException:
            future.cancel()
            self._thread.stop(timeout)
            raise
        if future.exception() is not None:  # done: listening is also set on failure
            self._thread.stop(timeout)
            raise future.exception()  # type: ignore[misc]
        return self

    async def _serve(self) -> None:
        try:
            await self.server.start()
        finally:
            self.listening.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Close every connection, stop listening and join the ``net-hub`` thread."""
        if not self._thread.running:
            return
        try:
            self._thread.run(self.server.stop(), timeout)
        finally:
            self._thread.stop(timeout)
            self.listening.clear()

    def __enter__(self) -> HubThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def viewer_url(self) -> str:
        return self.server.viewer_url

    @property
    def host_url(self) -> str:
        return self.server.host_url

    @property
    def token(self) -> str:
        return self.server.token

    def stats(self, timeout: float = 10.0) -> HubStats:
        """A consistent snapshot taken on the hub's own thread."""

        async def snapshot() -> HubStats:
            return self.server.stats()

        return self._thread.run(snapshot(), timeout)

    def broadcast(self, frame: HostFrame) -> None:
        self._thread.loop.call_soon_threadsafe(self.server.broadcast, frame)
