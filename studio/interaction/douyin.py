"""Douyin (抖音) live data push as an interaction source: an HTTP receiver the open platform POSTs to.

The platform pushes JSON arrays of comments (``live_comment``), gifts (``live_gift``), likes
(``live_like``) and fan-club events (``live_fansclub``); the kind is in the ``x-msg-type`` header.
Each item has ``msg_id``, ``sec_openid``, ``nickname``, ``avatar_url`` and ``content`` /
``like_num`` / ``sec_gift_id`` + ``gift_num`` (+ ``gift_value``, in fen).

Signature (as Douyin documents its push and callback signing): the headers ``x-nonce-str``,
``x-timestamp``, ``x-roomid`` and ``x-msg-type`` sorted by name and joined as ``k=v&k=v``, then the
raw body and the app secret appended, MD5, base64 — compared with ``x-signature`` in constant time.
A request without a valid signature is refused (401) before its body is parsed. The platform may
deliver a message more than once: repeats are dropped by ``msg_id`` (the last 50,000 remembered).

Listens on 127.0.0.1 by default; reaching it from the internet (a tunnel, a reverse proxy) is the
user's choice. The app secret is a :class:`studio.secrets.Secret` (keyring), never logged.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from studio.interaction.adapters import Adapter
from studio.interaction.messages import Danmaku, Gift, Like, Message, platform_user
from studio.interaction.platform_text import RecentIds, clean_int, clean_number, clean_text
from studio.interaction.protocol import DEFAULT_LIMITS, Limits
from studio.secrets import Secret

log = logging.getLogger(__name__)
PLATFORM = "douyin"
SIGNED_HEADERS = ("x-msg-type", "x-nonce-str", "x-roomid", "x-timestamp")
MAX_BODY = 1 << 20  # one push request
MAX_ITEMS = 1000  # items in one push
DEFAULT_PATH = "/douyin/live"
MSG_TYPES = ("live_comment", "live_gift", "live_like", "live_fansclub")


def signature(headers: Mapping[str, str], body: bytes, secret: str) -> str:
    """The push signature for these headers (only the signed ones are used) and raw body."""
    present = sorted((k, headers[k]) for k in SIGNED_HEADERS if k in headers)
    text = "&".join(f"{k}={v}" for k, v in present)
    return base64.b64encode(hashlib.md5(text.encode() + body + secret.encode()).digest()).decode()


@dataclass
class DouyinStats:
    requests: int = 0
    refused_signature: int = 0
    refused_body: int = 0
    items: int = 0
    duplicates: int = 0
    malformed: int = 0
    messages: int = 0


class DouyinPushAdapter(Adapter):
    def __init__(
        self,
        secret: Secret,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = DEFAULT_PATH,
        gift_names: Mapping[str, str] | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        if not isinstance(secret, Secret):
            raise ValueError("the Douyin app secret must be a Secret (from the keyring)")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"Douyin push port must be 0-65535, got {port!r}")
        if not path.startswith("/"):
            raise ValueError(f"Douyin push path must start with /, got {path[:40]!r}")
        self.name = f"douyin-push:{port}"
        self.host = host
        self.port = port
        self.path = path
        self.limits = limits
        self.gift_names = dict(gift_names or {})
        self.stats = DouyinStats()
        self._secret = secret
        self._seen = RecentIds(50_000)
        self._queue: asyncio.Queue[Message | None] = asyncio.Queue()
        self._runner: web.AppRunner | None = None
        self._closed = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    async def start(self) -> None:
        if self._runner is not None:
            return
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.path, self._receive)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        server = site._server  # the bound port when 0 was asked for
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
            self.name = f"douyin-push:{self.port}"
        self._runner = runner

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[Message]:
        await self.start()
        while True:
            message = await self._queue.get()
            if message is None:
                return
            yield message

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._queue.put_nowait(None)

    # ---- one push ----

    async def _receive(self, request: web.Request) -> web.Response:
        self.stats.requests += 1
        if request.content_length is not None and request.content_length > MAX_BODY:
            self.stats.refused_body += 1
            return web.json_response({"err_no": 413, "err_msg": "too large"}, status=413)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            self.stats.refused_body += 1
            return web.json_response({"err_no": 413, "err_msg": "too large"}, status=413)
        headers = {k.lower(): v for k, v in request.headers.items() if k.lower() in SIGNED_HEADERS}
        given = request.headers.get("x-signature", "")
        expected = signature(headers, body, self._secret.reveal())
        if not given or not hmac.compare_digest(given.encode(), expected.encode()):
            self.stats.refused_signature += 1
            log.warning("Douyin push: refused a request with a bad signature")
            return web.json_response({"err_no": 401, "err_msg": "bad signature"}, status=401)
        try:
            items = json.loads(body)
        except (ValueError, RecursionError):
            items = None
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            self.stats.refused_body += 1
            return web.json_response({"err_no": 400, "err_msg": "expected a JSON array"}, status=400)
        kind = headers.get("x-msg-type", "")
        for item in items:
            message = self._item(kind, item)
            if message is not None:
                self.stats.messages += 1
                self._queue.put_nowait(message)
        return web.json_response({"err_no": 0, "err_msg": "success"})

    def _item(self, kind: str, item: Any) -> Message | None:
        self.stats.items += 1
        if not isinstance(item, dict):
            self.stats.malformed += 1
            return None
        msg_id = clean_text(item.get("msg_id"), 80)
        if msg_id and not self._seen.add(msg_id):
            self.stats.duplicates += 1
            return None
        kind = kind or clean_text(item.get("msg_type"), 20)
        openid = clean_text(item.get("sec_openid"), 200)
        if not openid:
            self.stats.malformed += 1
            return None
        user = platform_user(PLATFORM, openid)
        nick = clean_text(item.get("nickname"), self.limits.user_max)
        try:
            if kind == "live_comment":
                text = clean_text(item.get("content"), self.limits.text_max)
                if not text:
                    raise ValueError("empty comment")
                return Danmaku(user=user, nick=nick, platform=PLATFORM, text=text)
            if kind == "live_like":
                return Like(user=user, nick=nick, platform=PLATFORM,
                            count=clean_int(item.get("like_num"), 1, self.limits.like_max, 1))
            if kind == "live_gift":
                gift_id = clean_text(item.get("sec_gift_id"), 80)
                name = self.gift_names.get(gift_id) or (f"gift {gift_id[:8]}" if gift_id else "gift")
                count = clean_int(item.get("gift_num"), 1, self.limits.gift_count_max, 1)
                total = clean_number(item.get("gift_value"), 0, 1e12) / 100.0  # fen -> yuan, all gifts
                return Gift(user=user, nick=nick, platform=PLATFORM, name=clean_text(name, self.limits.name_max),
                            count=count, value=min(round(total / count, 3), self.limits.gift_value_max))
            if kind == "live_fansclub":
                return Gift(user=user, nick=nick, platform=PLATFORM, name="fan club", count=1, value=0.0)
        except ValueError:
            pass
        self.stats.malformed += 1
        return None
