"""Douyin live data push: a real HTTP sender on 127.0.0.1 with good and bad signatures, duplicates,
every message kind and hostile bodies, into the receiver."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from studio.interaction.douyin import DouyinPushAdapter, signature
from studio.interaction.messages import Danmaku, Gift, Like, Message
from studio.secrets import Secret

SECRET = "app-secret-for-tests"


def _headers(kind: str, body: bytes, secret: str = SECRET, nonce: str = "n1") -> dict[str, str]:
    h = {"x-msg-type": kind, "x-nonce-str": nonce, "x-roomid": "7001", "x-timestamp": "1717038098000",
         "content-type": "application/json"}
    h["x-signature"] = signature(h, body, secret)
    return h


def _item(msg_id: str, openid: str, **fields: Any) -> dict[str, Any]:
    return {"msg_id": msg_id, "sec_openid": openid, "nickname": f"昵称{openid[-1]}", "avatar_url": "http://x/a.png",
            **fields}


def test_signed_pushes_become_messages_and_the_rest_is_refused() -> None:
    out: list[Message] = []

    async def main() -> None:
        adapter = DouyinPushAdapter(Secret(SECRET), port=0)
        await adapter.start()
        assert adapter.host == "127.0.0.1" and adapter.port > 0

        async def read() -> None:
            async for m in adapter:
                out.append(m)

        reader = asyncio.create_task(read())
        comments = json.dumps([_item("c1", "open-a", content="1"), _item("c2", "open-b", content="好看\u202e")],
                              ensure_ascii=False).encode()
        gifts = json.dumps([_item("g1", "open-c", sec_gift_id="rose", gift_num=3, gift_value=30)]).encode()
        likes = json.dumps([_item("l1", "open-d", like_num=7)]).encode()
        fans = json.dumps([_item("f1", "open-e", fansclub_reason_type=1)]).encode()
        statuses: dict[str, int] = {}
        async with aiohttp.ClientSession() as http:
            async def post(name: str, body: bytes, headers: dict[str, str]) -> None:
                async with http.post(adapter.url, data=body, headers=headers) as r:
                    statuses[name] = r.status

            await post("comments", comments, _headers("live_comment", comments))
            await post("duplicate", comments, _headers("live_comment", comments, nonce="n2"))
            await post("gifts", gifts, _headers("live_gift", gifts))
            await post("likes", likes, _headers("live_like", likes))
            await post("fans", fans, _headers("live_fansclub", fans))
            await post("wrong-secret", comments, _headers("live_comment", comments, secret="guess"))
            tampered = _headers("live_comment", comments)
            await post("tampered", comments.replace(b"c1", b"c9"), tampered)
            unsigned = {k: v for k, v in tampered.items() if k != "x-signature"}
            await post("unsigned", comments, unsigned)
            await post("not-json", b"{{", _headers("live_comment", b"{{"))
            huge = b"[" + b" " * (2 << 20) + b"]"
            await post("huge", huge, _headers("live_comment", huge))
        await adapter.close()
        await asyncio.wait_for(reader, 5)
        assert statuses == {"comments": 200, "duplicate": 200, "gifts": 200, "likes": 200, "fans": 200,
                            "wrong-secret": 401, "tampered": 401, "unsigned": 401, "not-json": 400, "huge": 413}
        assert adapter.stats.duplicates == 2 and adapter.stats.refused_signature == 3

    asyncio.run(main())
    assert [type(m).__name__ for m in out] == ["Danmaku", "Danmaku", "Gift", "Like", "Gift"]
    first, second, gift, like = out[0], out[1], out[2], out[3]
    assert isinstance(first, Danmaku) and first.user == "douyin:open-a" and first.platform == "douyin"
    assert isinstance(second, Danmaku) and second.text == "好看" and second.nick == "昵称b"
    assert isinstance(gift, Gift) and (gift.count, gift.value) == (3, 0.1) and gift.name == "gift rose"
    assert isinstance(like, Like) and like.count == 7


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        DouyinPushAdapter("plain string")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        DouyinPushAdapter(Secret(SECRET), port=70000)


def test_signature_is_the_documented_md5_base64() -> None:
    import base64
    import hashlib

    h = {"x-timestamp": "2", "x-nonce-str": "a", "x-roomid": "r", "x-msg-type": "live_like", "other": "x"}
    raw = b"x-msg-type=live_like&x-nonce-str=a&x-roomid=r&x-timestamp=2" + b"[]" + b"s"
    assert signature(h, b"[]", "s") == base64.b64encode(hashlib.md5(raw).digest()).decode()
