"""The Bilibili live open platform's session calls: app start, app heartbeat, app end.

``POST {base}/v2/app/start`` with the streamer's identity code (身份码) and the project's app id
returns the session (``game_info.game_id``), the message stream's ``websocket_info`` (``wss_link``
URLs and the ``auth_body`` to send as the auth packet) and the room (``anchor_info``);
``/v2/app/heartbeat`` keeps the session (every 20 s; the platform ends it after about 60 s without
one) and ``/v2/app/end`` ends it. :class:`BilibiliOpenAdapter` makes the start call, then runs the
existing :class:`~studio.interaction.bilibili.BilibiliAdapter` on the returned stream with its auth
body and this heartbeat, and ends the session on close.

Every call is a JSON body signed with the access key (id and secret from the keyring):

- headers ``x-bili-accesskeyid``, ``x-bili-content-md5`` (hex MD5 of the body bytes),
  ``x-bili-signature-method: HMAC-SHA256``, ``x-bili-signature-nonce`` (random, once per call),
  ``x-bili-signature-version: 1.0``, ``x-bili-timestamp`` (Unix seconds);
- the string to sign is every ``x-bili-*`` header, sorted by name, as ``name:value`` lines joined
  by ``\\n``; ``Authorization`` is the hex HMAC-SHA256 of it keyed with the access key secret.

Written from the platform's public descriptions and open-source clients; the secret, the identity
code and the auth body are :class:`~studio.secrets.Secret` and never logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets as pyrandom
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from studio.interaction.adapters import Adapter
from studio.interaction.bilibili import APP_HEARTBEAT_S, BilibiliAdapter
from studio.interaction.messages import HostFrame, Message
from studio.interaction.protocol import DEFAULT_LIMITS, Limits
from studio.secrets import Secret

DEFAULT_BASE_URL = "https://live-open.biliapi.com"
START_PATH, HEARTBEAT_PATH, END_PATH = "/v2/app/start", "/v2/app/heartbeat", "/v2/app/end"
SIGNED_PREFIX = "x-bili-"
SIGNATURE_METHOD = "HMAC-SHA256"
SIGNATURE_VERSION = "1.0"
RESPONSE_MAX = 256 * 1024  # the session answers are a few hundred bytes


class OpenPlatformError(ConnectionError):
    """The platform refused a call (``code`` non-zero, or not HTTP 200)."""

    def __init__(self, call: str, code: object, message: str) -> None:
        super().__init__(f"Bilibili open platform {call}: code {str(code)[:20]}: {message[:200]}")
        self.code = code


def content_md5(body: bytes) -> str:
    return hashlib.md5(body).hexdigest()  # noqa: S324 - the platform's content digest, not a password hash


def string_to_sign(headers: Mapping[str, str]) -> str:
    """The ``x-bili-*`` headers (names lower-cased), sorted, as ``name:value`` lines."""
    signed = {k.lower(): v for k, v in headers.items() if k.lower().startswith(SIGNED_PREFIX)}
    return "\n".join(f"{name}:{signed[name]}" for name in sorted(signed))


def signature(headers: Mapping[str, str], secret: Secret) -> str:
    return hmac.new(secret.reveal().encode(), string_to_sign(headers).encode(), hashlib.sha256).hexdigest()


def signed_headers(access_key_id: str, secret: Secret, body: bytes, *, nonce: str | None = None,
                   timestamp: int | None = None) -> dict[str, str]:
    """The headers of one signed call with ``body`` (Authorization included)."""
    headers = {
        "x-bili-accesskeyid": access_key_id,
        "x-bili-content-md5": content_md5(body),
        "x-bili-signature-method": SIGNATURE_METHOD,
        "x-bili-signature-nonce": nonce or pyrandom.token_hex(16),
        "x-bili-signature-version": SIGNATURE_VERSION,
        "x-bili-timestamp": str(int(time.time()) if timestamp is None else timestamp),
    }
    headers["Authorization"] = signature(headers, secret)
    headers["Content-Type"] = "application/json"
    headers["Accept"] = "application/json"
    return headers


@dataclass(frozen=True)
class OpenSession:
    """What app start returned."""

    game_id: str  # empty for projects that are not interactive games (no heartbeat/end needed)
    wss_links: tuple[str, ...]
    auth_body: Secret
    room_id: int
    uid: int


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_start(data: object) -> OpenSession:
    """The ``data`` of app start's answer; ValueError when it lacks what the stream needs."""
    d = _dict(data)
    game, ws, anchor = _dict(d.get("game_info")), _dict(d.get("websocket_info")), _dict(d.get("anchor_info"))
    links = tuple(u for u in ws.get("wss_link") or () if isinstance(u, str) and u.startswith(("ws://", "wss://")))
    body = ws.get("auth_body")
    room = anchor.get("room_id")
    if not links or not isinstance(body, str) or not body:
        raise ValueError("app start returned no message stream (wss_link / auth_body)")
    if isinstance(room, bool) or not isinstance(room, int) or room <= 0:
        raise ValueError("app start returned no room id")
    uid = anchor.get("uid")
    return OpenSession(game_id=str(game.get("game_id") or ""), wss_links=links, auth_body=Secret(body), room_id=room,
                       uid=uid if isinstance(uid, int) and not isinstance(uid, bool) else 0)


class OpenPlatformClient:
    """Signed session calls for one project (``app_id``) and one streamer (identity ``code``)."""

    def __init__(self, app_id: int, access_key_id: str, access_key_secret: Secret, code: Secret, *,
                 base_url: str = DEFAULT_BASE_URL, timeout_s: float = 10.0) -> None:
        if isinstance(app_id, bool) or not isinstance(app_id, int) or app_id <= 0:
            raise ValueError(f"Bilibili open platform app id must be a positive integer, got {app_id!r}")
        if not access_key_id:
            raise ValueError("Bilibili open platform: the access key id is empty")
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"Bilibili open platform URL must start with http:// or https://, got {base_url[:40]!r}")
        self.app_id = app_id
        self.access_key_id = access_key_id
        self._secret = access_key_secret
        self._code = code
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.session: OpenSession | None = None
        self._http: aiohttp.ClientSession | None = None

    async def _call(self, name: str, path: str, payload: dict[str, Any]) -> Any:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_s))
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers = signed_headers(self.access_key_id, self._secret, body)
        try:
            async with self._http.post(self.base_url + path, data=body, headers=headers,
                                       allow_redirects=False) as response:
                raw = await response.content.read(RESPONSE_MAX + 1)
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise OpenPlatformError(name, "network", type(exc).__name__) from None
        if status != 200 or len(raw) > RESPONSE_MAX:
            raise OpenPlatformError(name, f"HTTP {status}", "unexpected answer")
        try:
            answer = json.loads(raw)
        except ValueError:
            raise OpenPlatformError(name, "json", "the answer is not JSON") from None
        code = answer.get("code") if isinstance(answer, dict) else None
        if code != 0:
            message = answer.get("message") if isinstance(answer, dict) else ""
            raise OpenPlatformError(name, code, message if isinstance(message, str) else "")
        return answer.get("data")

    async def start(self) -> OpenSession:
        data = await self._call("app start", START_PATH, {"code": self._code.reveal(), "app_id": self.app_id})
        try:
            self.session = parse_start(data)
        except ValueError as exc:
            raise OpenPlatformError("app start", "data", str(exc)) from None
        return self.session

    async def heartbeat(self) -> None:
        if self.session is not None and self.session.game_id:
            await self._call("app heartbeat", HEARTBEAT_PATH, {"game_id": self.session.game_id})

    async def end(self) -> None:
        session, self.session = self.session, None
        if session is not None and session.game_id:
            await self._call("app end", END_PATH, {"app_id": self.app_id, "game_id": session.game_id})

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None


class BilibiliOpenAdapter(Adapter):
    """A room through the open platform: app start, then the message stream it names (auth body,
    20 s app heartbeat), app end on close."""

    def __init__(self, client: OpenPlatformClient, *, limits: Limits = DEFAULT_LIMITS,
                 backoff: tuple[float, float] = (1.0, 60.0), app_heartbeat_s: float = APP_HEARTBEAT_S) -> None:
        self.client = client
        self.app_heartbeat_s = app_heartbeat_s
        self.name = f"bilibili-open:{client.app_id}"
        self._limits = limits
        self._backoff = backoff
        self.stream: BilibiliAdapter | None = None
        self._closed = False

    async def start(self) -> None:
        if self.stream is not None:
            return
        session = await self.client.start()
        self.stream = BilibiliAdapter(session.room_id, url=session.wss_links[0], uid=session.uid,
                                      auth_body=session.auth_body, app_heartbeat=self.client.heartbeat,
                                      app_heartbeat_s=self.app_heartbeat_s, limits=self._limits,
                                      backoff=self._backoff)
        self.name = f"bilibili-open:{session.room_id}"

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[Message]:
        await self.start()
        assert self.stream is not None
        async for message in self.stream:
            yield message

    async def send(self, frame: HostFrame) -> bool:
        return False  # the platform's chat is read-only here

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.stream is not None:
            await self.stream.close()
        try:
            await asyncio.wait_for(self.client.end(), self.client.timeout_s)
        except (OpenPlatformError, TimeoutError):
            pass  # the platform ends a session without heartbeats by itself
        finally:
            await self.client.close()
