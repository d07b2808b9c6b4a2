"""The Bilibili open platform's signed session calls against a fake platform on 127.0.0.1 (real
HTTP, real WebSocket): the signature as described, refusals of a wrong key and of a replayed call,
and the session feeding the message stream (auth body, app heartbeat, app end)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import aiohttp
import pytest

from studio.bench._fake_bilibili import FakeBilibiliServer, FakeOpenPlatform, batched, danmu
from studio.interaction.bilibili_codec import VER_BROTLI
from studio.interaction.bilibili_open import (
    BilibiliOpenAdapter,
    OpenPlatformClient,
    OpenPlatformError,
    signed_headers,
    string_to_sign,
)
from studio.interaction.messages import Danmaku
from studio.secrets import Secret

KEY_ID, KEY_SECRET, APP_ID, CODE = "ak-test-1", "sk-test-secret", 1700000001, "IDCODE42"


def test_the_signature_is_hmac_sha256_over_the_sorted_x_bili_headers() -> None:
    body = b'{"code":"IDCODE42","app_id":1700000001}'
    headers = signed_headers(KEY_ID, Secret(KEY_SECRET), body, nonce="n-1", timestamp=1_700_000_000)
    # the string to sign, spelled out from the description
    expected_string = "\n".join([
        f"x-bili-accesskeyid:{KEY_ID}",
        f"x-bili-content-md5:{hashlib.md5(body).hexdigest()}",
        "x-bili-signature-method:HMAC-SHA256",
        "x-bili-signature-nonce:n-1",
        "x-bili-signature-version:1.0",
        "x-bili-timestamp:1700000000",
    ])
    assert string_to_sign(headers) == expected_string
    assert headers["Authorization"] == hmac.new(KEY_SECRET.encode(), expected_string.encode(),
                                                hashlib.sha256).hexdigest()
    assert headers["Content-Type"] == "application/json" and KEY_SECRET not in json.dumps(headers)


async def _with_platform(test: object) -> None:
    stream = FakeBilibiliServer()
    await stream.start()
    platform = FakeOpenPlatform({KEY_ID: KEY_SECRET}, app_id=APP_ID, code=CODE, stream_url=stream.url)
    await platform.start()
    try:
        await test(stream, platform)  # type: ignore[operator]
    finally:
        await platform.stop()
        await stream.stop()


def test_a_session_feeds_the_message_stream_and_ends_on_close() -> None:
    async def run(stream: FakeBilibiliServer, platform: FakeOpenPlatform) -> None:
        client = OpenPlatformClient(APP_ID, KEY_ID, Secret(KEY_SECRET), Secret(CODE), base_url=platform.url)
        adapter = BilibiliOpenAdapter(client, backoff=(0.01, 0.05), app_heartbeat_s=0.05)
        received: list[Danmaku] = []
        got = asyncio.Event()

        async def read() -> None:  # reads until the adapter closes (as the service does)
            async for message in adapter:
                if isinstance(message, Danmaku):
                    received.append(message)
                    got.set()

        reader = asyncio.create_task(read())
        await asyncio.wait_for(stream.authenticated.wait(), 10)
        assert stream.auths == [platform.auth_body().encode()]  # the auth packet is start's auth body
        assert adapter.name == f"bilibili-open:{platform.room_id}"
        await stream.push(batched([danmu(5, "小明", "开放平台来的")], VER_BROTLI))
        await asyncio.wait_for(got.wait(), 10)
        assert received[0].text == "开放平台来的" and received[0].user == "bilibili:5"
        await asyncio.wait_for(platform.heartbeat_seen.wait(), 10)  # the app heartbeat, signed
        await adapter.close()
        await asyncio.wait_for(reader, 10)
        assert platform.ended.is_set()
        assert [code for _, code in platform.calls] == [0] * len(platform.calls)
        assert platform.calls[0][0] == "/v2/app/start" and platform.calls[-1][0] == "/v2/app/end"

    asyncio.run(_with_platform(run))


def test_a_wrong_secret_or_identity_code_is_refused() -> None:
    async def run(stream: FakeBilibiliServer, platform: FakeOpenPlatform) -> None:
        wrong = OpenPlatformClient(APP_ID, KEY_ID, Secret("not-the-secret"), Secret(CODE), base_url=platform.url)
        with pytest.raises(OpenPlatformError, match="code 4001") as refused:
            await wrong.start()
        await wrong.close()
        assert "not-the-secret" not in str(refused.value)
        other_code = OpenPlatformClient(APP_ID, KEY_ID, Secret(KEY_SECRET), Secret("WRONG"), base_url=platform.url)
        with pytest.raises(OpenPlatformError, match="code 7002"):
            await other_code.start()
        await other_code.close()
        assert [code for _, code in platform.calls] == [4001, 7002] and stream.connections == 0

    asyncio.run(_with_platform(run))


def test_a_replayed_or_tampered_call_is_refused() -> None:
    async def run(stream: FakeBilibiliServer, platform: FakeOpenPlatform) -> None:
        body = json.dumps({"code": CODE, "app_id": APP_ID}).encode()
        headers = signed_headers(KEY_ID, Secret(KEY_SECRET), body, nonce="same-nonce")
        async with aiohttp.ClientSession() as http:
            codes = []
            for data in (body, body, body.replace(b"IDCODE42", b"IDCODE43")):
                async with http.post(platform.url + "/v2/app/start", data=data, headers=headers) as response:
                    codes.append((await response.json())["code"])
        assert codes == [0, 4002, 4001]  # accepted, replayed, body changed under its signature

    asyncio.run(_with_platform(run))


def test_bad_client_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="app id"):
        OpenPlatformClient(0, KEY_ID, Secret(KEY_SECRET), Secret(CODE))
    with pytest.raises(ValueError, match="http"):
        OpenPlatformClient(APP_ID, KEY_ID, Secret(KEY_SECRET), Secret(CODE), base_url="ftp://x")
