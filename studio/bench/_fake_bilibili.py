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
