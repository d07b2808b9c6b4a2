"""Bilibili live chat as an interaction source: the ``/sub`` WebSocket message stream (web) and its
open-platform variant.

Connect, send the auth packet (operation 7) and require its reply (operation 8, ``code`` 0) within
``auth_timeout_s`` (5 s); then a heartbeat (operation 2) every ``heartbeat_s`` (30 s) — its reply
carries the popularity count — and, on the open platform, the app heartbeat (an HTTP call the caller
supplies) every 20 s. Commands become typed messages (``bilibili_commands``); unknown ones are
counted and ignored, malformed packets are counted and dropped (``bilibili_codec`` never trusts a
length). Any failure reconnects with exponential backoff and jitter. The endpoint is configurable
(tests and proxies): ``url``.

Credentials (the web stream's ``key`` from getDanmuInfo, the open platform's ``auth_body``) are
:class:`studio.secrets.Secret`: never logged, never in a status line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from studio.interaction.adapters import Adapter
from studio.interaction.bilibili_codec import (
    HEARTBEAT_BODY,
    MAX_PACKET,
    OP_AUTH,
    OP_AUTH_REPLY,
    OP_HEARTBEAT,
    OP_HEARTBEAT_REPLY,
    OP_MESSAGE,
    VER_INT,
    VER_JSON,
    decode,
    encode_packet,
    popularity,
)
from studio.interaction.bilibili_commands import BilibiliCommands
from studio.interaction.messages import Message
from studio.interaction.protocol import DEFAULT_LIMITS, Limits
from studio.secrets import Secret

log = logging.getLogger(__name__)
DEFAULT_URL = "wss://broadcastlv.chat.bilibili.com/sub"
FRAME_MAX = 2 * MAX_PACKET  # one WebSocket frame (a compressed batch and its header)
AUTH_TIMEOUT_S = 5.0
HEARTBEAT_S = 30.0
APP_HEARTBEAT_S = 20.0


class AuthRefused(ConnectionError):
    """The server answered the auth packet with a non-zero code (expired key, wrong room)."""


@dataclass
class BilibiliStats:
    connects: int = 0
    reconnects: int = 0
    frames: int = 0
    packets: int = 0
    messages: int = 0
    malformed: int = 0  # packets or frames the codec refused
    auth_refused: int = 0
    heartbeats: int = 0
    app_heartbeat_errors: int = 0
    popularity: int | None = None
    last_error: str = ""


class BilibiliAdapter(Adapter):
    """One Bilibili live room. ``key`` (web) or ``auth_body`` (open platform) as given by Bilibili."""

    def __init__(
        self,
        room_id: int,
        *,
        url: str = DEFAULT_URL,
        uid: int = 0,
        key: Secret | None = None,
        auth_body: Secret | None = None,
        app_heartbeat: Callable[[], Awaitable[object]] | None = None,
        limits: Limits = DEFAULT_LIMITS,
        auth_timeout_s: float = AUTH_TIMEOUT_S,
        heartbeat_s: float = HEARTBEAT_S,
        app_heartbeat_s: float = APP_HEARTBEAT_S,
        backoff: tuple[float, float] = (1.0, 60.0),
    ) -> None:
        if isinstance(room_id, bool) or not isinstance(room_id, int) or room_id <= 0:
            raise ValueError(f"Bilibili room id must be a positive integer, got {room_id!r}")
        if not url.startswith(("ws://", "wss://")):
            raise ValueError(f"Bilibili message stream URL must start with ws:// or wss://, got {url[:40]!r}")
        self.name = f"bilibili:{room_id}"
        self.room_id = room_id
        self.url = url
        self.uid = uid
        self._key = key
        self._auth_body = auth_body
        self._app_heartbeat = app_heartbeat
        self.auth_timeout_s = auth_timeout_s
        self.heartbeat_s = heartbeat_s
        self.app_heartbeat_s = app_heartbeat_s
        self.backoff = backoff
        self.commands = BilibiliCommands(limits)
        self.stats = BilibiliStats()
        self.connected = asyncio.Event()
        self._closed = asyncio.Event()
        self._ws: ClientConnection | None = None

    @property
    def open_platform(self) -> bool:
        return self._auth_body is not None

    def auth_packet(self) -> bytes:
        if self._auth_body is not None:
            body = self._auth_body.reveal().encode()
        else:
            fields: dict[str, object] = {"uid": self.uid, "roomid": self.room_id, "protover": 3,
                                         "platform": "web", "type": 2}
            if self._key is not None:
                fields["key"] = self._key.reveal()
            body = json.dumps(fields, separators=(",", ":")).encode()
        return encode_packet(OP_AUTH, body, version=VER_INT)

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[Message]:
        delay = self.backoff[0]
        while not self._closed.is_set():
            try:
                async with connect(self.url, max_size=FRAME_MAX, compression=None, proxy=None,
                                   open_timeout=self.auth_timeout_s) as ws:
                    self._ws = ws
                    await self._authenticate(ws)
                    self.stats.connects += 1
                    self.connected.set()
                    delay = self.backoff[0]
                    beats = [asyncio.create_task(self._heartbeat(ws), name="bilibili-heartbeat")]
                    if self._app_heartbeat is not None:
                        beats.append(asyncio.create_task(self._app_beat(), name="bilibili-app-heartbeat"))
                    try:
                        async for raw in ws:
                            for message in self._frame(raw):
                                yield message
                    finally:
                        for task in beats:
                            task.cancel()
                        await asyncio.gather(*beats, return_exceptions=True)
            except InvalidURI as exc:
                raise ValueError(f"bad Bilibili message stream URL {self.url[:60]!r}: {exc}") from None
            except AuthRefused as exc:
                self.stats.auth_refused += 1
                self._note(exc)
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError) as exc:
                self._note(exc)
            finally:
                self._ws = None
                self.connected.clear()
            if self._closed.is_set():
                return
            self.stats.reconnects += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), delay * (0.5 + random.random() / 2))
            delay = min(delay * 2, self.backoff[1])

    def _note(self, exc: BaseException) -> None:
        if self._closed.is_set():
            return
        self.stats.last_error = f"{type(exc).__name__}: {exc}"[:200]
        log.warning("Bilibili room %s: %s; reconnecting", self.room_id, self.stats.last_error)

    async def _authenticate(self, ws: ClientConnection) -> None:
        """Send the auth packet; the reply must come within ``auth_timeout_s``."""
        await ws.send(self.auth_packet())
        async with asyncio.timeout(self.auth_timeout_s):
            while True:
                raw = await ws.recv()
                if not isinstance(raw, bytes):
                    continue
                for packet in decode(raw).packets:
                    if packet.op != OP_AUTH_REPLY:
                        continue
                    try:
                        code = json.loads(packet.body or b"{}").get("code", 0)
                    except (ValueError, AttributeError):
                        code = "unreadable"
                    if code != 0:
                        raise AuthRefused(f"auth refused (code {str(code)[:20]})")
                    return

    async def _heartbeat(self, ws: ClientConnection) -> None:
        packet = encode_packet(OP_HEARTBEAT, HEARTBEAT_BODY, version=VER_INT)
        while True:
            await ws.send(packet)
            self.stats.heartbeats += 1
            await asyncio.sleep(self.heartbeat_s)

    async def _app_beat(self) -> None:
        assert self._app_heartbeat is not None
        while True:
            await asyncio.sleep(self.app_heartbeat_s)
            try:
                await self._app_heartbeat()
            except Exception as exc:  # the stream keeps going; the open platform ends the game later
                self.stats.app_heartbeat_errors += 1
                log.warning("Bilibili open platform app heartbeat failed: %s", type(exc).__name__)

    def _frame(self, raw: str | bytes) -> list[Message]:
        self.stats.frames += 1
        if not isinstance(raw, bytes):
            self.stats.malformed += 1
            return []
        decoded = decode(raw)
        self.stats.malformed += len(decoded.errors)
        out: list[Message] = []
        for packet in decoded.packets:
            self.stats.packets += 1
            if packet.op == OP_MESSAGE and packet.version == VER_JSON:
                try:
                    obj = json.loads(packet.body)
                except (ValueError, RecursionError):
                    self.stats.malformed += 1
                    continue
                out.extend(self.commands.parse(obj))
            elif packet.op == OP_HEARTBEAT_REPLY:
                self.stats.popularity = popularity(packet)
        self.stats.messages += len(out)
        return out

    async def close(self) -> None:
        self._closed.set()
        ws = self._ws
        if ws is not None:
            await ws.close()
