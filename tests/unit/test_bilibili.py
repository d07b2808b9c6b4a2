"""Bilibili live chat: the packet codec (hostile input, fuzzed), the commands, and the adapter
against a fake ``/sub`` server on 127.0.0.1 (zlib and brotli batches, heartbeat replies, malformed
headers, a close mid-stream, auth refused or never answered)."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import zlib
from collections.abc import Awaitable, Callable

import brotli
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.bench._fake_bilibili import CLOSE, FakeBilibiliServer, batched, command, danmu, gift
from studio.interaction.bilibili import BilibiliAdapter
from studio.interaction.bilibili_codec import (
    HEADER,
    OP_AUTH,
    OP_HEARTBEAT_REPLY,
    OP_MESSAGE,
    VER_BROTLI,
    VER_JSON,
    VER_ZLIB,
    batch,
    decode,
    encode_packet,
    inflate_brotli,
    popularity,
)
from studio.interaction.bilibili_commands import BilibiliCommands
from studio.interaction.messages import Danmaku, Enter, Gift, Like, Message, SuperChat
from studio.secrets import Secret

PLAIN = command(danmu(1, "a", "一"))


# ---- codec -------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [VER_ZLIB, VER_BROTLI])
def test_batches_open_into_their_packets(version: int) -> None:
    frame = batched([danmu(i, f"u{i}", f"m{i}") for i in range(5)], version) + PLAIN
    decoded = decode(frame)
    assert decoded.errors == []
    assert [json.loads(p.body)["info"][1] for p in decoded.packets] == ["m0", "m1", "m2", "m3", "m4", "一"]


def test_hostile_headers_are_reported_and_good_packets_kept() -> None:
    too_short = HEADER.pack(8, 16, 0, OP_MESSAGE, 1) + b"xxxxxxxx"
    too_long = HEADER.pack(500, 16, 0, OP_MESSAGE, 1) + b"{}"
    huge_claim = HEADER.pack(100 * 1024 * 1024, 16, 0, OP_MESSAGE, 1) + b"{}"
    unknown_version = encode_packet(OP_MESSAGE, b"{}", version=9)
    zbody, bbody = zlib.compress(PLAIN * 3), brotli.compress(PLAIN * 3)
    truncated_zlib = encode_packet(OP_MESSAGE, zbody[: len(zbody) // 2], version=VER_ZLIB)
    truncated_brotli = encode_packet(OP_MESSAGE, bbody[: len(bbody) // 2], version=VER_BROTLI)
    garbage_brotli = encode_packet(OP_MESSAGE, b"\xff" * 40, version=VER_BROTLI)
    nested = encode_packet(OP_MESSAGE, zlib.compress(batched([danmu(1, "a", "b")], VER_BROTLI)), version=VER_ZLIB)

    cases = {
        "short": (PLAIN + too_short, "bad_length"),
        "long": (PLAIN + too_long, "bad_length"),
        "huge": (PLAIN + huge_claim, "bad_length"),
        "version": (PLAIN + unknown_version + PLAIN, "bad_version"),
        "zlib": (PLAIN + truncated_zlib + PLAIN, "truncated"),
        "brotli": (PLAIN + truncated_brotli + PLAIN, "truncated"),
        "garbage": (PLAIN + garbage_brotli + PLAIN, "bad_brotli"),
        "nested": (PLAIN + nested + PLAIN, "nested"),
        "header": (PLAIN + b"\x00\x00\x00", "short"),
    }
    for name, (frame, code) in cases.items():
        decoded = decode(frame)
        assert [e.code for e in decoded.errors] == [code], name
        assert decoded.packets[0].body == PLAIN[16:], name  # what came before the bad packet survives
    # a skippable bad packet (its length is sound) does not lose what follows
    assert len(decode(PLAIN + unknown_version + PLAIN).packets) == 2


@pytest.mark.parametrize("version", [VER_ZLIB, VER_BROTLI])
def test_decompression_bombs_stop_at_the_cap(version: int) -> None:
    payload = b"\0" * (8 << 20)
    body = zlib.compress(payload) if version == VER_ZLIB else brotli.compress(payload)
    decoded = decode(encode_packet(OP_MESSAGE, body, version=version), max_inflated=1 << 20)
    assert [e.code for e in decoded.errors] == ["too_large"]
    assert decoded.packets == []


def test_brotli_inflates_output_larger_than_its_buffer_limit() -> None:
    inner = b"".join(command(danmu(i, "u", "x" * 50)) for i in range(2000))
    assert inflate_brotli(brotli.compress(inner, quality=5)) == inner


def test_packet_over_the_cap_is_skipped() -> None:
    big = encode_packet(OP_MESSAGE, b"{" + b" " * 5000 + b"}", version=VER_JSON)
    decoded = decode(big + PLAIN, max_packet=4096)
    assert [e.code for e in decoded.errors] == ["too_large"]
    assert len(decoded.packets) == 1


def test_heartbeat_reply_popularity() -> None:
    packet = decode(encode_packet(OP_HEARTBEAT_REPLY, (987654).to_bytes(4, "big"))).packets[0]
    assert popularity(packet) == 987654


headers = st.builds(
    lambda length, hl, ver, op, body: HEADER.pack(length, hl, ver, op, 1) + body,
    st.integers(0, 2**32 - 1) | st.integers(0, 64),
    st.integers(0, 2**16 - 1) | st.just(16),
    st.integers(0, 2**16 - 1) | st.integers(0, 4),
    st.integers(0, 2**32 - 1) | st.sampled_from([2, 3, 5, 7, 8]),
    st.binary(max_size=64),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(headers | st.binary(max_size=80), max_size=5).map(b"".join))
def test_decode_never_raises_on_arbitrary_frames(frame: bytes) -> None:
    decoded = decode(frame, max_inflated=1 << 16)
    for packet in decoded.packets:
        assert len(packet.body) <= len(frame) or packet.version in (0, 1)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=6), st.sampled_from([VER_ZLIB, VER_BROTLI]))
def test_any_batch_round_trips(bodies: list[bytes], version: int) -> None:
    packets = [encode_packet(OP_MESSAGE, b, version=VER_JSON) for b in bodies]
    frame = batch(packets, version) if packets else PLAIN
    decoded = decode(frame)
    assert decoded.errors == []
    assert [p.body for p in decoded.packets] == (bodies if packets else [PLAIN[16:]])


# ---- commands ----------------------------------------------------------------------------------


def test_commands_become_typed_messages_keyed_by_platform_user() -> None:
    c = BilibiliCommands()
    pb = base64.b64encode(bytes([0x08, 0x2A, 0x12, 0x03]) + "小明".encode()[:3] + bytes([0x28, 0x01])).decode()
    objs = [
        {"cmd": "DANMU_MSG:4:0:2:2:2:0", "info": [[0, 5, 25, 0xFF0000, 0, 0, 0, "abc"], "你好\u202e", [7, "小红"]]},
        {"cmd": "DANMU_MSG", "info": [[0, 1, 25, 0xFFFFFF, 0, 0, 0, "hash9"], "匿名", [0, "***"]]},
        gift(8, "阿强", "小心心", 3, 100),
        {"cmd": "SUPER_CHAT_MESSAGE", "data": {"uid": 9, "price": 30, "message": "加油", "user_info": {"uname": "SC"}}},
        {"cmd": "GUARD_BUY", "data": {"uid": 10, "username": "舰长", "num": 1, "price": 198000, "gift_name": "舰长"}},
        {"cmd": "LIKE_INFO_V3_CLICK", "data": {"uid": 11, "uname": "赞"}},
        {"cmd": "LIKE_INFO_V3_UPDATE", "data": {"click_count": 4321}},
        {"cmd": "INTERACT_WORD", "data": {"uid": 12, "uname": "来了", "msg_type": 1}},
        {"cmd": "INTERACT_WORD", "data": {"uid": 12, "uname": "关注", "msg_type": 2}},
        {"cmd": "INTERACT_WORD_V2", "data": {"pb": pb}},
        {"cmd": "WATCHED_CHANGE", "data": {"num": 555}},
        {"cmd": "LIVE_OPEN_PLATFORM_DM", "data": {"open_id": "o-1", "uname": "开放", "msg": "1", "msg_id": "m1"}},
        {"cmd": "LIVE_OPEN_PLATFORM_DM", "data": {"open_id": "o-1", "uname": "开放", "msg": "1", "msg_id": "m1"}},
        {"cmd": "LIVE_OPEN_PLATFORM_SEND_GIFT", "data": {"open_id": "o-2", "gift_name": "辣条", "gift_num": 2,
                                                         "price": 100, "paid": True, "msg_id": "m2"}},
        {"cmd": "LIVE_OPEN_PLATFORM_LIKE", "data": {"open_id": "o-3", "like_count": 5, "msg_id": "m3"}},
        {"cmd": "LIVE_OPEN_PLATFORM_SUPER_CHAT", "data": {"open_id": "o-4", "message": "SC!", "rmb": 50, "msg_id": "m4"}},
        {"cmd": "LIVE_OPEN_PLATFORM_GUARD", "data": {"user_info": {"open_id": "o-5", "uname": "G"}, "guard_level": 3,
                                                     "guard_num": 1, "price": 198000, "msg_id": "m5"}},
        {"cmd": "STOP_LIVE_ROOM_LIST", "data": {}},
        {"cmd": "ONLINE_RANK_COUNT"},
        {"cmd": "DANMU_MSG", "info": "not a list"},
        ["no", "cmd"],
    ]  # fmt: skip
    out: list[Message] = [m for obj in objs for m in c.parse(obj)]
    d0 = out[0]
    assert isinstance(d0, Danmaku) and d0.platform == "bilibili" and d0.user == "bilibili:7"
    assert (d0.nick, d0.text, d0.colour, d0.mode) == ("小红", "你好", "#FF0000", "top")  # bidi override gone
    assert out[1].user == "bilibili:hhash9"  # an anonymous web viewer keys on the user hash, not uid 0
    g = out[2]
    assert isinstance(g, Gift) and (g.name, g.count, g.value) == ("小心心", 3, 0.1)
    sc = out[3]
    assert isinstance(sc, SuperChat) and isinstance(sc, Danmaku) and (sc.text, sc.value) == ("加油", 30.0)
    assert isinstance(out[4], Gift) and out[4].value == 198.0
    assert isinstance(out[5], Like) and out[5].user == "bilibili:11"
    assert isinstance(out[6], Enter) and out[6].nick == "来了"
    assert isinstance(out[7], Enter) and out[7].user == "bilibili:42"  # from the V2 protobuf
    dm = out[8]
    assert isinstance(dm, Danmaku) and dm.user == "bilibili:o-1" and dm.text == "1"
    assert [type(m).__name__ for m in out[9:]] == ["Gift", "Like", "SuperChat", "Gift"]
    assert len(out) == 13
    assert c.duplicates == 1
    assert (c.like_total, c.watched) == (4321, 555)
    assert c.unknown == {"STOP_LIVE_ROOM_LIST": 1, "ONLINE_RANK_COUNT": 1}
    assert c.malformed == 2


def test_unknown_command_names_cannot_grow_without_bound() -> None:
    c = BilibiliCommands()
    for i in range(5000):
        c.parse({"cmd": f"X{i}"})
    assert c.unknown_total == 5000 and len(c.unknown) <= 200


# ---- the adapter against a fake server ---------------------------------------------------------


async def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


async def _collect(adapter: BilibiliAdapter, out: list[Message], body: Callable[[], Awaitable[None]]) -> None:
    async def read() -> None:
        async for m in adapter:
            out.append(m)

    reader = asyncio.create_task(read())
    try:
        await body()
    finally:
        await adapter.close()
        await asyncio.wait_for(reader, 5)


def test_adapter_reads_batches_survives_garbage_and_reconnects_after_a_close() -> None:
    first: list[bytes | None] = [
        batched([danmu(1, "甲", "zlib-1"), danmu(2, "乙", "zlib-2")], VER_ZLIB),
        HEADER.pack(100 * 1024 * 1024, 16, 0, OP_MESSAGE, 1) + b"{}",  # a 100 MB claim
        HEADER.pack(4, 16, 0, OP_MESSAGE, 1),  # length too short
        encode_packet(OP_MESSAGE, b"{}", version=7),  # unknown version
        encode_packet(OP_MESSAGE, brotli.compress(PLAIN * 4)[:10], version=VER_BROTLI),  # truncated
        command({"cmd": "SOMETHING_NEW", "data": {}}),
        batched([gift(3, "丙", "辣条", 2, 100), {"cmd": "SUPER_CHAT_MESSAGE", "data": {
            "uid": 4, "price": 30, "message": "SC", "user_info": {"uname": "丁"}}}], VER_BROTLI),
        CLOSE,
    ]
    second: list[bytes | None] = [command(danmu(5, "戊", "after-reconnect"))]
    out: list[Message] = []

    async def main() -> None:
        async with FakeBilibiliServer([first, second], popularity=4242) as server:
            adapter = BilibiliAdapter(123, url=server.url, key=Secret("room-key-abc"), heartbeat_s=0.05,
                                      backoff=(0.01, 0.05))

            async def body() -> None:
                await _until(lambda: len(out) >= 5 and adapter.stats.popularity == 4242)

            await _collect(adapter, out, body)
            assert server.connections == 2
            auth = json.loads(server.auths[0])
            assert auth["roomid"] == 123 and auth["key"] == "room-key-abc" and auth["protover"] == 3
            assert server.heartbeats >= 1
            stats = adapter.stats
            assert stats.reconnects >= 1 and stats.malformed == 4
            assert adapter.commands.unknown == {"SOMETHING_NEW": 1}
            assert "room-key-abc" not in repr(adapter.__dict__)

    asyncio.run(main())
    texts = [getattr(m, "text", None) or getattr(m, "name", None) for m in out]
    assert texts == ["zlib-1", "zlib-2", "辣条", "SC", "after-reconnect"]
    assert all(m.platform == "bilibili" for m in out)  # type: ignore[attr-defined]


def test_auth_must_be_answered_in_time_and_refusals_are_retried() -> None:
    async def main() -> None:
        async with FakeBilibiliServer(answer_auth=False) as silent:
            adapter = BilibiliAdapter(5, url=silent.url, auth_timeout_s=0.2, backoff=(0.01, 0.02))
            await _collect(adapter, [], lambda: _until(lambda: silent.connections >= 2))
            assert "TimeoutError" in adapter.stats.last_error
        async with FakeBilibiliServer(auth_code=-101) as refusing:
            adapter = BilibiliAdapter(5, url=refusing.url, backoff=(0.01, 0.02))
            await _collect(adapter, [], lambda: _until(lambda: adapter.stats.auth_refused >= 2))
            assert adapter.stats.connects == 0

    asyncio.run(main())


def test_open_platform_sends_its_auth_body_and_app_heartbeat() -> None:
    beats: list[int] = []

    async def app_heartbeat() -> None:
        beats.append(1)

    async def main() -> None:
        dm = {"cmd": "LIVE_OPEN_PLATFORM_DM", "data": {"open_id": "oid", "uname": "u", "msg": "hi", "msg_id": "x"}}
        async with FakeBilibiliServer([[command(dm), command(dm)]]) as server:
            body = '{"room_id":1,"auth":"signed-by-bilibili"}'
            adapter = BilibiliAdapter(1, url=server.url, auth_body=Secret(body), app_heartbeat=app_heartbeat,
                                      app_heartbeat_s=0.02, backoff=(0.01, 0.02))
            out: list[Message] = []
            await _collect(adapter, out, lambda: _until(lambda: len(out) >= 1 and len(beats) >= 2))
            assert server.auths[0] == body.encode()
            assert len(out) == 1 and adapter.commands.duplicates <= 1

    asyncio.run(main())


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        BilibiliAdapter(0)
    with pytest.raises(ValueError):
        BilibiliAdapter(5, url="http://example.invalid/sub")
    assert OP_AUTH == 7 and struct.calcsize(">IHHII") == 16
