"""Message sources behind one interface: an async iterator of typed messages, plus send and close.

- ``EmbeddedHubAdapter`` (default): runs a :class:`HubServer` on the caller's loop and connects to
  it as the host over a real WebSocket, exactly as a remote studio would.
- ``WebSocketAdapter``: any server speaking the hub's host-side schema (URL + optional token);
  reconnects with backoff after network errors.
- ``ReplayAdapter`` (in ``replay.py``): a JSONL file with relative timestamps.

Anything received is validated again here: a source is never trusted just because it is ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from studio.interaction.hub import HubConfig, HubServer
from studio.interaction.messages import HostFrame, Message
from studio.interaction.protocol import (
    DEFAULT_LIMITS,
    Limits,
    ProtocolError,
    decode_frame,
    encode_message,
    message_from_wire,
)

log = logging.getLogger(__name__)
_CONTROL_FRAMES = frozenset({"welcome", "pong", "ack"})
BATCH_FRAME_MAX = 256 * 1024  # a host-side frame (the hub batches up to 64 KiB of messages)
BATCH_MAX_ITEMS = 1000


class Adapter(ABC):
    """One source of interaction messages. Iterate once; ``close()`` ends the iteration."""

    name = "adapter"

    async def start(self) -> None:
        """Get ready (bind, connect) before iteration; the default does nothing."""
        return None

    @abstractmethod
    def __aiter__(self) -> AsyncIterator[Message]: ...

    async def send(self, frame: HostFrame) -> bool:
        """Send an announcement or poll state to viewers; False where the source cannot."""
        return False

    @abstractmethod
    async def close(self) -> None: ...


class WebSocketAdapter(Adapter):
    name = "websocket"

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        limits: Limits = DEFAULT_LIMITS,
        reconnect: bool = True,
        backoff: tuple[float, float] = (0.5, 5.0),
    ) -> None:
        if not url.startswith(("ws://", "wss://")):
            raise ValueError(f"interaction source URL must start with ws:// or wss://, got {url[:40]!r}")
        self.url = url
        self._token = token
        self.limits = limits
        self.reconnect = reconnect
        self.backoff = backoff
        self._frame_limits = replace(limits, frame_max=BATCH_FRAME_MAX)
        self.rejected = 0  # frames or batch items from the source that failed validation
        self.errors = 0  # error frames the source sent us
        self._ws: ClientConnection | None = None
        self._closed = asyncio.Event()
        self.connected = asyncio.Event()

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[Message]:
        delay = self.backoff[0]
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else None
        while not self._closed.is_set():
            try:
                async with connect(
                    self.url,
                    additional_headers=headers,
                    max_size=BATCH_FRAME_MAX,
                    compression=None,
                    proxy=None,
                ) as ws:
                    self._ws = ws
                    self.connected.set()
                    delay = self.backoff[0]
                    async for raw in ws:
                        for message in self._parse(raw):
                            yield message
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status in (401, 403):
                    raise PermissionError(f"{self.url} refused the host token (HTTP {status})") from None
                self._retry_or_raise(exc)
            except InvalidURI as exc:
                raise ValueError(f"bad interaction source URL {self.url[:60]!r}: {exc}") from None
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError) as exc:
                self._retry_or_raise(exc)
            finally:
                self._ws = None
                self.connected.clear()
            if self._closed.is_set() or not self.reconnect:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), delay)
            delay = min(delay * 2, self.backoff[1])

    def _retry_or_raise(self, exc: Exception) -> None:
        if self._closed.is_set():
            return
        if not self.reconnect:
            raise ConnectionError(f"interaction source {self.url} failed: {exc}") from exc
        log.warning("interaction source %s: %s; reconnecting", self.url, exc)

    def _parse(self, raw: str | bytes) -> list[Message]:
        """The messages in one frame (a ``batch`` frame holds several); bad ones are counted."""
        try:
            obj = decode_frame(raw, self._frame_limits, allow_binary=True)
        except ProtocolError as exc:
            self._drop(exc)
            return []
        if obj["type"] != "batch":
            message = self._one(obj)
            return [message] if message is not None else []
        items = obj.get("messages")
        if not isinstance(items, list) or len(obj) != 2 or len(items) > BATCH_MAX_ITEMS:
            self._drop(ProtocolError("bad_frame", f"batch needs only a list of at most {BATCH_MAX_ITEMS} messages"))
            return []
        out: list[Message] = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("type"), str) or item["type"] == "batch":
                self._drop(ProtocolError("bad_frame", "batch items must be message objects"))
                continue
            message = self._one(item)
            if message is not None:
                out.append(message)
        return out

    def _one(self, obj: dict[str, Any]) -> Message | None:
        kind = obj["type"]
        if kind in _CONTROL_FRAMES:
            return None
        if kind == "error":
            self.errors += 1
            log.warning("interaction source %s sent an error: %.200s", self.url, obj.get("message"))
            return None
        try:
            return message_from_wire(obj, self.limits)
        except ProtocolError as exc:
            self._drop(exc)
            return None

    def _drop(self, exc: ProtocolError) -> None:
        self.rejected += 1
        log.warning("interaction source %s: dropped a frame (%s: %s)", self.url, exc.code, exc.message)

    async def send(self, frame: HostFrame) -> bool:
        ws = self._ws
        if ws is None:
            return False
        try:
            await ws.send(encode_message(frame))
        except ConnectionClosed:
            return False
        return True

    async def close(self) -> None:
        self._closed.set()
        ws = self._ws
        if ws is not None:
            await ws.close()


class EmbeddedHubAdapter(Adapter):
    """The default source: our own hub, with the studio connected as its host."""

    name = "hub"

    def __init__(self, config: HubConfig | None = None) -> None:
        self.hub = HubServer(config)
        self._client: WebSocketAdapter | None = None
        self._started = False

    async def start(self) -> None:
        if not self._started:
            await self.hub.start()
            self._started = True
            self._client = WebSocketAdapter(
                self.hub.host_url, token=self.hub.token, limits=self.hub.config.limits, backoff=(0.2, 2.0)
            )

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[Message]:
        await self.start()
        assert self._client is not None
        async for message in self._client:
            yield message

    async def wait_connected(self, timeout: float = 10.0) -> None:
        """Until the host connection is up (so viewer messages are not dropped for want of a host)."""
        await self.start()
        assert self._client is not None
        await asyncio.wait_for(self._client.connected.wait(), timeout)

    async def send(self, frame: HostFrame) -> bool:
        return await self._client.send(frame) if self._client is not None else False

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
        await self.hub.stop()
