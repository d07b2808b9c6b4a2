"""The obs-websocket v5 server on the show's ``net`` loop (default 127.0.0.1:4455).

Per connection: Hello (with the auth challenge when a password is set), then exactly one Identify,
then Requests, RequestBatches and Reidentify; events go to the sessions subscribed to them. Both
subprotocols are spoken and the one the client asked for is echoed (obs-websocket-js requires it);
no subprotocol means JSON. Every protocol violation closes with the documented code; nothing a
client sends can raise out of the handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from studio.control.auth import Challenge, random_token
from studio.control.context import ControlContext
from studio.control.dispatch import check_batch, check_request, response, run_batch, run_request
from studio.control.events import EventBridge
from studio.control.protocol import (
    OBS_STUDIO_VERSION,
    OBS_WEBSOCKET_VERSION,
    RPC_VERSION,
    SUBPROTOCOL_JSON,
    SUBPROTOCOLS,
    CloseCode,
    Codec,
    EventSubscription,
    OpCode,
    ProtocolError,
    RequestStatus,
    choose_subprotocol,
    envelope,
    event_message,
)
from studio.control.session import RateLimit, Session
from studio.net.ports import PortInUseError
from studio.secrets import Secret

if TYPE_CHECKING:
    from studio.show import Show

log = logging.getLogger(__name__)
_WS_LOG = logging.getLogger("studio.control.websockets")
_WS_LOG.setLevel(logging.WARNING)

DEFAULT_PORT = 4455
LOCAL_HOST = "127.0.0.1"
LAN_HOST = "0.0.0.0"
# a slow client's send buffer past this: high-volume events to it are skipped, not queued
SLOW_CLIENT_BYTES = 256 * 1024


@dataclass(frozen=True)
class ControlConfig:
    port: int = DEFAULT_PORT  # 0: any free port (tests); turning the server off is the caller's choice
    lan: bool = False  # listen on every interface, not just this machine
    password: Secret | None = None  # None: no authentication
    limit: RateLimit = field(default_factory=RateLimit)
    max_sessions: int = 32
    identify_timeout_s: float = 10.0
    max_message_bytes: int = 1 << 20

    @property
    def host(self) -> str:
        return LAN_HOST if self.lan else LOCAL_HOST


@dataclass(eq=False)
class _Client:
    ws: ServerConnection
    codec: Codec
    session: Session


class ControlServer:
    """Start/stop from any thread but the net thread; everything else runs on it."""

    def __init__(self, show: Show, config: ControlConfig | None = None) -> None:
        self.show = show
        self.config = config or ControlConfig()
        self.net = show.net
        self._password = self.config.password.reveal() if self.config.password is not None else None
        self._salt = random_token()
        self.ctx = ControlContext(show, self.emit)
        self._clients: set[_Client] = set()
        self._mask = 0  # union of identified sessions' subscriptions
        self._server: Server | None = None
        self._bridge = EventBridge(self.ctx, self.net, lambda: self._mask, self.emit)
        self._port = 0
        self.refused_connections = 0

    # ---- life cycle ----
    def start(self) -> None:
        self.net.start()
        self.net.run(self._start())

    def stop(self) -> None:
        if self.net.running and self._server is not None:
            self.net.run(self._stop())

    async def _start(self) -> None:
        try:
            self._server = await serve(
                self._handle, self.config.host, self.config.port,
                subprotocols=list(SUBPROTOCOLS),  # type: ignore[arg-type]
                select_subprotocol=lambda _conn, offered: choose_subprotocol(offered),  # type: ignore[arg-type,return-value]
                process_request=self._admit,
                max_size=self.config.max_message_bytes,
                max_queue=16,
                compression=None,  # small messages; deflate costs CPU and opens compression bombs
                server_header="drama-live-studio",
                logger=_WS_LOG,  # connection open/close lines at INFO would flood a show's log
                reuse_address=True,
            )
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUseError("remote control", self.config.host, self.config.port, "--control-port") from None
            raise
        self._port = self._server.sockets[0].getsockname()[1]
        self._bridge.start()
        log.info("remote control (obs-websocket v5) on ws://%s:%d, auth %s", self.config.host, self._port,
                 "on" if self._password else "off")

    async def _stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self.emit("ExitStarted", EventSubscription.GENERAL, None)
        self._bridge.close()
        server.close()  # closes every connection with 1001 going away
        await server.wait_closed()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        host = LOCAL_HOST if self.config.host == LAN_HOST else self.config.host
        return f"ws://{host}:{self._port}"

    @property
    def session_count(self) -> int:
        return len(self._clients)

    def _admit(self, connection: ServerConnection, request: Request) -> Response | None:
        if len(self._clients) >= self.config.max_sessions:
            self.refused_connections += 1
            return connection.respond(503, "Too many remote control sessions\n")
        origin = request.headers.get("Origin")
        if self._password is None and origin and not _local_origin(origin):
            # without a password any web page the director opens could drive the show through
            # their browser: only pages served from this computer may connect then
            self.refused_connections += 1
            return connection.respond(403, "Set a remote control password to allow web pages from other sites\n")
        return None

    # ---- events (net thread) ----
    def emit(self, event_type: str, intent: EventSubscription, data: dict[str, Any] | None) -> None:
        """Send an event to every identified session subscribed to ``intent``."""
        targets = [c for c in self._clients if c.session.identified and c.session.wants(intent)]
        if not targets:
            return
        high_volume = intent >= EventSubscription.INPUT_VOLUME_METERS
        message = event_message(event_type, intent, data)
        encoded: dict[bool, str | bytes] = {}
        for binary in (False, True):
            group = [c for c in targets if c.codec.binary is binary]
            if high_volume:  # a stalled client misses meter updates instead of growing a queue
                group = [c for c in group if _buffered(c.ws) < SLOW_CLIENT_BYTES]
            if not group:
                continue
            encoded[binary] = group[0].codec.encode(message)
            for c in group:
                c.session.outgoing += 1
            broadcast([c.ws for c in group], encoded[binary])

    def _update_mask(self) -> None:
        mask = 0
        for c in self._clients:
            if c.session.identified:
                mask |= int(c.session.subscriptions)
        self._mask = mask

    # ---- one connection ----
    async def _handle(self, ws: ServerConnection) -> None:
        codec = Codec(ws.subprotocol or SUBPROTOCOL_JSON)
        challenge = Challenge.new(self._salt) if self._password else None
        session = Session(challenge, self._password, self.config.limit, remote=str(ws.remote_address))
        client = _Client(ws, codec, session)
        self._clients.add(client)
        try:
            hello: dict[str, Any] = {"obsStudioVersion": OBS_STUDIO_VERSION,
                                     "obsWebSocketVersion": OBS_WEBSOCKET_VERSION, "rpcVersion": RPC_VERSION}
            if challenge is not None:
                hello["authentication"] = challenge.as_hello()
            await self._send(client, envelope(OpCode.HELLO, hello))
            while True:
                if session.identified:
                    frame = await ws.recv()
                else:
                    try:
                        frame = await asyncio.wait_for(ws.recv(), self.config.identify_timeout_s)
                    except TimeoutError:
                        raise ProtocolError(CloseCode.NOT_IDENTIFIED, "Identify did not arrive in time.") from None
                session.incoming += 1
                await self._on_frame(client, frame)
        except ProtocolError as exc:
            log.info("control: closing %s: %d %s", session.remote, exc.code, exc.reason)
            await _close(ws, exc)
        except ConnectionClosed:
            pass
        finally:
            self._clients.discard(client)
            self._update_mask()

    async def _send(self, client: _Client, message: dict[str, Any]) -> None:
        client.session.outgoing += 1
        await client.ws.send(client.codec.encode(message))

    async def _on_frame(self, client: _Client, frame: str | bytes) -> None:
        session = client.session
        message = client.codec.decode(frame)
        if not session.identified and "request-type" in message:
            raise ProtocolError(CloseCode.UNSUPPORTED_RPC_VERSION, "obs-websocket 4.x requests are not supported; use 5.x.")
        op, data = _split(message)
        if not session.identified:
            if op is not OpCode.IDENTIFY:
                raise ProtocolError(CloseCode.NOT_IDENTIFIED, "You must send an Identify first.")
            identified = session.identify(data)
            self._update_mask()
            await self._send(client, envelope(OpCode.IDENTIFIED, identified))
            return
        if op is OpCode.IDENTIFY:
            raise ProtocolError(CloseCode.ALREADY_IDENTIFIED, "You are already identified with the server.")
        if op is OpCode.REIDENTIFY:
            identified = session.reidentify(data)
            self._update_mask()
            await self._send(client, envelope(OpCode.IDENTIFIED, identified))
        elif op is OpCode.REQUEST:
            check_request(data)
            if self._allow(session):
                status, comment, result = await run_request(self.ctx, session, data["requestType"], data.get("requestData"))
            else:
                status, comment, result = RequestStatus.NOT_READY, "rate limited: too many requests, retry later", None
            await self._send(client, envelope(OpCode.REQUEST_RESPONSE, response(
                data["requestType"], data["requestId"], status, comment, result)))
        elif op is OpCode.REQUEST_BATCH:
            execution, halt, requests = check_batch(data)
            results = await run_batch(self.ctx, session, execution, halt, requests, lambda: self._allow(session))
            await self._send(client, envelope(OpCode.REQUEST_BATCH_RESPONSE,
                                              {"requestId": data["requestId"], "results": results}))

    @staticmethod
    def _allow(session: Session) -> bool:
        if session.bucket.take():
            return True
        if session.bucket.flooding:
            raise ProtocolError(CloseCode.SESSION_INVALIDATED, "Too many requests: the session was closed.")
        return False


def _split(message: dict[str, Any]) -> tuple[OpCode, dict[str, Any]]:
    from studio.control.protocol import split_message

    return split_message(message)


async def _close(ws: ServerConnection, exc: ProtocolError) -> None:
    """Close with the protocol's code, reading (and dropping) what the client sent meanwhile: its
    close frame queues behind those messages, and an unread queue would stall the handshake."""
    closing = asyncio.ensure_future(ws.close(int(exc.code), exc.reason))
    with contextlib.suppress(ConnectionClosed):
        while True:
            await ws.recv()
    await closing


def _local_origin(origin: str) -> bool:
    host = urlsplit(origin).hostname or ""
    return host in ("localhost", "127.0.0.1", "::1") or origin == "null" or origin.startswith("file:")


def _buffered(ws: ServerConnection) -> int:
    transport = ws.transport
    return transport.get_write_buffer_size() if transport is not None else 0
