"""A fake Bilibili ``/sub`` message-stream server on 127.0.0.1, written from the protocol description
(for the tests and `studio bench chat`; nothing in the product uses it).

Each connection must send the auth packet first; the server answers ``auth_code`` (0 = accepted)
and then sends that connection's script: raw frames (bytes) in order, ``CLOSE`` to drop the
connection mid-stream. Heartbeats (operation 2) get a heartbeat reply with ``popularity``.
``push`` sends frames to every authenticated connection later.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from studio.interaction.bilibili_codec import (
    OP_AUTH,
    OP_AUTH_REPLY,
    OP_HEARTBEAT,
    OP_HEARTBEAT_REPLY,
    OP_MESSAGE,
    VER_INT,
    VER_JSON,
    batch,
    decode,
    encode_packet,
)

CLOSE = None
Script = Sequence[bytes | None]


def command(obj: dict[str, Any]) -> bytes:
    """One plain JSON command packet."""
    return encode_packet(OP_MESSAGE, json.dumps(obj, ensure_ascii=False).encode(), version=VER_JSON)


def danmu(uid: int, uname: str, text: str, colour: int = 0xFFFFFF) -> dict[str, Any]:
    return {"cmd": "DANMU_MSG", "info": [[0, 1, 25, colour, 0, 0, 0, "", 0], text, [uid, uname, 0, 0, 0]]}


def gift(uid: int, uname: str, name: str, num: int, price: int) -> dict[str, Any]:
    return {"cmd": "SEND_GIFT", "data": {"uid": uid, "uname": uname, "giftName": name, "num": num,
                                         "price": price, "coin_type": "gold"}}


def batched(objs: Sequence[dict[str, Any]], version: int) -> bytes:
    return batch([command(o) for o in objs], version)


class FakeBilibiliServer:
    def __init__(self, scripts: Sequence[Script] = (), *, auth_code: int = 0, popularity: int = 1234,
                 answer_auth: bool = True) -> None:
        self.scripts = list(scripts)
        self.auth_code = auth_code
        self.popularity = popularity
        self.answer_auth = answer_auth
        self.auths: list[bytes] = []
        self.heartbeats = 0
        self.connections = 0
        self.authenticated = asyncio.Event()
        self.heartbeat_seen = asyncio.Event()
        self._live: set[ServerConnection] = set()
        self._server: Server | None = None
        self.url = ""

    async def start(self) -> str:
        self._server = await serve(self._handle, "127.0.0.1", 0, compression=None, max_size=1 << 20)
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/sub"
        return self.url

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> FakeBilibiliServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def push(self, *frames: bytes) -> int:
        """Send frames to every authenticated connection; returns how many connections got them."""
        sent = 0
        for ws in list(self._live):
            with contextlib.suppress(ConnectionClosed):
                for frame in frames:
                    await ws.send(frame)
                sent += 1
        return sent

    async def _handle(self, ws: ServerConnection) -> None:
        index = self.connections
        self.connections += 1
        try:
            first = await ws.recv()
            packets = decode(first if isinstance(first, bytes) else b"").packets
            if not packets or packets[0].op != OP_AUTH:
                await ws.close(1002, "auth first")
                return
            self.auths.append(packets[0].body)
            if not self.answer_auth:
                await ws.wait_closed()
                return
            reply = json.dumps({"code": self.auth_code}).encode()
            await ws.send(encode_packet(OP_AUTH_REPLY, reply, version=VER_INT))
            if self.auth_code != 0:
                await ws.close()
                return
            self._live.add(ws)
            self.authenticated.set()
            reader = asyncio.create_task(self._read(ws))
            try:
                for frame in self.scripts[index] if index < len(self.scripts) else ():
                    if frame is CLOSE:
                        await ws.close()
                        return
                    await ws.send(frame)
                await ws.wait_closed()
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
        except ConnectionClosed:
            pass
        finally:
            self._live.discard(ws)

    async def _read(self, ws: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                for packet in decode(raw if isinstance(raw, bytes) else b"").packets:
                    if packet.op == OP_HEARTBEAT:
                        self.heartbeats += 1
                        self.heartbeat_seen.set()
                        await ws.send(encode_packet(OP_HEARTBEAT_REPLY, self.popularity.to_bytes(4, "big"),
                                                    version=VER_INT))


class FakeOpenPlatform:
    """A fake of the open platform's session calls on 127.0.0.1 (``/v2/app/start``, ``heartbeat``,
    ``end``), checking each call's signature as the platform describes it, written apart from the
    client's code: the ``x-bili-*`` headers sorted by name as ``name:value`` lines joined by "\\n",
    HMAC-SHA256 with the access key secret, hex, in ``Authorization``; the body's hex MD5 in
    ``x-bili-content-md5``; a timestamp within ``max_skew_s``; a nonce never seen before. A call
    that fails a check gets code 4001 (wrong signature) or 4002 (stale or replayed), and nothing
    else happens. App start answers with ``stream_url`` and an auth body naming the room."""

    def __init__(self, keys: dict[str, str], *, app_id: int, code: str, stream_url: str, room_id: int = 4242,
                 max_skew_s: float = 600.0) -> None:
        self.keys, self.app_id, self.code = keys, app_id, code
        self.stream_url, self.room_id, self.max_skew_s = stream_url, room_id, max_skew_s
        self.calls: list[tuple[str, int]] = []  # (path, answer code)
        self.heartbeats = 0
        self.ended = asyncio.Event()
        self.heartbeat_seen = asyncio.Event()
        self.game_id = "game-7f3a"
        self._nonces: set[str] = set()
        self._runner: Any = None
        self.url = ""

    def auth_body(self) -> str:
        return json.dumps({"roomid": self.room_id, "protoover": 2, "key": "fake-open-key", "group": "open"})

    def refusal(self, headers: Any, body: bytes) -> int:
        import hashlib
        import hmac
        import time

        h = {k.lower(): v for k, v in headers.items()}
        secret = self.keys.get(h.get("x-bili-accesskeyid", ""))
        if secret is None or h.get("x-bili-signature-method") != "HMAC-SHA256" \
                or h.get("x-bili-signature-version") != "1.0":
            return 4001
        if h.get("x-bili-content-md5") != hashlib.md5(body).hexdigest():  # noqa: S324
            return 4001
        lines = "\n".join(f"{k}:{h[k]}" for k in sorted(h) if k.startswith("x-bili-"))
        expected = hmac.new(secret.encode(), lines.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(h.get("authorization", ""), expected):
            return 4001
        nonce = h.get("x-bili-signature-nonce", "")
        try:
            stale = abs(time.time() - int(h.get("x-bili-timestamp", ""))) > self.max_skew_s
        except ValueError:
            stale = True
        if stale or not nonce or nonce in self._nonces:
            return 4002
        self._nonces.add(nonce)
        return 0

    async def start(self) -> str:
        from aiohttp import web

        async def handle(request: web.Request) -> web.Response:
            body = await request.read()
            code = self.refusal(request.headers, body)
            data: dict[str, Any] = {}
            try:
                payload = json.loads(body)
            except ValueError:
                payload, code = {}, code or 4000
            if code == 0 and request.path == "/v2/app/start":
                if payload.get("code") != self.code or payload.get("app_id") != self.app_id:
                    code = 7002  # wrong identity code or project
                else:
                    data = {"game_info": {"game_id": self.game_id},
                            "websocket_info": {"auth_body": self.auth_body(), "wss_link": [self.stream_url]},
                            "anchor_info": {"room_id": self.room_id, "uname": "主播", "uid": 9, "uface": ""}}
            elif code == 0 and request.path == "/v2/app/heartbeat":
                code = 0 if payload.get("game_id") == self.game_id else 7003
                self.heartbeats += code == 0
                self.heartbeat_seen.set()
            elif code == 0 and request.path == "/v2/app/end":
                code = 0 if payload.get("game_id") == self.game_id else 7003
                self.ended.set()
            self.calls.append((request.path, code))
            return web.json_response({"code": code, "message": "ok" if code == 0 else "refused",
                                      "request_id": "r1", "data": data})

        app = web.Application()
        app.router.add_post("/v2/app/{call}", handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
