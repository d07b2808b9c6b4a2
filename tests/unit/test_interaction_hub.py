"""The hub: sans-I/O core fuzzed with hypothesis, then the real server on 127.0.0.1 (port 0)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus

from studio.interaction.hub import HubConfig, HubCore, HubThread
from studio.interaction.messages import Danmaku, ViewerMessage
from studio.interaction.protocol import ERROR_CODES, Limits, decode_frame

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
# frames that look like the protocol, so the fuzzer also reaches the field checks
typed = st.fixed_dictionaries(
    {"type": st.sampled_from(["danmaku", "like", "vote", "product_click", "gift", "enter", "ping", "announcement", "x"])},
    optional={
        "text": json_values, "count": json_values, "poll": json_values, "option": json_values,
        "product": json_values, "colour": json_values, "mode": json_values, "ref": json_values, "ts": json_values,
    },
)  # fmt: skip
frames = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300),
    json_values.map(json.dumps),
    typed.map(json.dumps),
    typed.map(lambda d: json.dumps(d, ensure_ascii=False)),
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def check_outcome(message: ViewerMessage | None, reply: str | None) -> None:
    if message is None:
        assert reply is not None
        obj = json.loads(reply)
        assert obj["type"] in ("error", "pong")
        if obj["type"] == "error":
            assert obj["code"] in ERROR_CODES
    else:
        assert isinstance(message, ViewerMessage)
        assert reply is None or json.loads(reply)["type"] == "ack"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(frames, min_size=1, max_size=5))
def test_core_fuzz_never_raises(raws: list[Any]) -> None:
    core = HubCore(HubConfig(rate=1000, burst=1000))
    session = core.add_viewer("fuzz")
    for raw in raws:
        check_outcome(*core.viewer_frame(session, raw))
        frame, reply = core.host_frame(raw)
        assert (frame is None) != (reply is None)  # broadcast, or an error/pong reply
    c = core.counters
    assert c.accepted + sum(c.rejected.values()) <= len(raws)  # pings count in neither


def test_core_rate_limit_burst_then_reject_with_injected_clock() -> None:
    clock = FakeClock()
    core = HubCore(HubConfig(rate=5, burst=10), clock=clock)
    session = core.add_viewer()
    frame = '{"type":"like"}'
    results = [core.viewer_frame(session, frame) for _ in range(12)]
    assert [m is not None for m, _ in results] == [True] * 10 + [False] * 2
    assert json.loads(results[-1][1] or "")["code"] == "rate_limited"
    assert core.counters.rejected["rate_limited"] == 2
    clock.now += 1.0  # five more tokens
    assert sum(core.viewer_frame(session, frame)[0] is not None for _ in range(7)) == 5


def test_core_frame_cap_and_ref_echo() -> None:
    core = HubCore(HubConfig(limits=Limits(frame_max=256)))
    session = core.add_viewer()
    message, reply = core.viewer_frame(session, json.dumps({"type": "danmaku", "text": "x", "ref": "r9", "p": "y" * 300}))
    assert message is None and json.loads(reply or "") == {
        "type": "error", "code": "too_large", "message": "frame is over 256 bytes",
    }  # fmt: skip
    message, reply = core.viewer_frame(session, json.dumps({"type": "danmaku", "text": "", "ref": "r9"}))
    assert json.loads(reply or "")["ref"] == "r9"
    message, reply = core.viewer_frame(session, json.dumps({"type": "danmaku", "text": "hi", "ref": "r10"}))
    assert isinstance(message, Danmaku) and message.user == session.id
    assert json.loads(reply or "") == {"type": "ack", "ref": "r10", "id": message.id}


def test_config_refuses_remote_bind_without_opt_in_and_token() -> None:
    with pytest.raises(ValueError, match="allow_remote"):
        HubConfig(host="0.0.0.0")
    with pytest.raises(ValueError, match="token"):
        HubConfig(host="0.0.0.0", allow_remote=True)
    assert HubConfig(host="0.0.0.0", allow_remote=True, token="t" * 24).allow_remote
    with pytest.raises(ValueError, match="at least 16"):
        HubConfig(token="short")


# ---- the real server ------------------------------------------------------------------------

TIMEOUT = 10.0


async def recv_json(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))


async def until_type(ws: ClientConnection, kind: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read until a frame of ``kind``; returns it and what came before it."""
    before: list[dict[str, Any]] = []
    while True:
        obj = await recv_json(ws)
        if obj["type"] == kind:
            return obj, before
        before.append(obj)


def host_connect(hub: Any) -> Any:
    return connect(hub.host_url, additional_headers={"Authorization": f"Bearer {hub.token}"}, proxy=None)


def test_fuzz_over_real_socket_keeps_serving() -> None:
    """Each fuzz frame gets an error, an ack or nothing before the next pong; the hub keeps serving."""
    # every example is a new connection without a token: a venue-sized limit on new identities
    with HubThread(HubConfig(rate=10_000, burst=10_000, new_identities_per_minute=10_000)) as hub:

        async def session(raws: list[Any]) -> None:
            async with connect(hub.viewer_url, proxy=None) as ws:
                await until_type(ws, "welcome")
                for i, raw in enumerate(raws):
                    await ws.send(raw)
                    await ws.send(json.dumps({"type": "ping", "ref": f"barrier-{i}"}))
                    before: list[dict[str, Any]] = []
                    while (obj := await recv_json(ws)) != {"type": "pong", "ref": f"barrier-{i}"}:
                        before.append(obj)
                    assert len(before) <= 1 and all(b["type"] in ("error", "ack", "pong") for b in before)

        @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(st.lists(frames, min_size=1, max_size=4))
        def run(raws: list[Any]) -> None:
            asyncio.run(session(raws))

        run()
        asyncio.run(session(['{"type":"like"}']))  # still serving
    assert hub.server.stats().rejected["internal"] == 0


def test_viewer_to_host_and_announcement_back() -> None:
    with HubThread() as hub:

        async def scenario() -> None:
            async with host_connect(hub) as host, connect(hub.viewer_url + "?nick=%E5%B0%8F%E6%98%8E", proxy=None) as v:
                welcome = await recv_json(v)
                assert welcome["type"] == "welcome" and welcome["nick"] == "小明"
                enter = await recv_json(host)
                assert enter["type"] == "enter" and enter["user"] == welcome["viewer"]
                await v.send(json.dumps({"type": "danmaku", "text": "第一次来", "mode": "top", "ts": 1.25}))
                got = await recv_json(host)
                assert (got["type"], got["text"], got["mode"], got["user"], got["nick"], got["sent_at"]) == (
                    "danmaku", "第一次来", "top", welcome["viewer"], "小明", 1.25,
                )  # fmt: skip
                await v.send("{oops")
                error = await recv_json(v)
                assert error["type"] == "error" and error["code"] == "bad_json"
                await host.send(json.dumps({"type": "announcement", "text": "十点开抢"}))
                ann = await recv_json(v)
                assert ann["type"] == "announcement" and ann["text"] == "十点开抢"
                await host.send(json.dumps({"type": "danmaku", "text": "x"}))
                assert (await recv_json(host))["code"] == "forbidden"

        asyncio.run(scenario())
    stats = hub.server.stats()  # after stop: every handler has finished counting
    assert stats.accepted == 1 and stats.rejected["bad_json"] == 1 and stats.broadcasts == 1
    assert stats.delivered == 3  # enter + danmaku + leave


def test_frame_size_caps_over_socket() -> None:
    with HubThread(HubConfig(limits=Limits(frame_max=1024), hard_frame_factor=4)) as hub:

        async def scenario() -> None:
            async with connect(hub.viewer_url, proxy=None) as v:
                await until_type(v, "welcome")
                await v.send(json.dumps({"type": "danmaku", "text": "x", "pad": "y" * 2000}))
                assert (await recv_json(v))["code"] == "too_large"  # soft cap: error frame, still open
                await v.send(json.dumps({"type": "ping"}))
                assert (await recv_json(v))["type"] == "pong"
                await v.send("y" * 5000)  # over the hard cap: websockets closes with 1009
                with pytest.raises(ConnectionClosedError) as info:
                    await recv_json(v)
                assert info.value.rcvd is not None and info.value.rcvd.code == 1009

        asyncio.run(scenario())
    assert hub.server.stats().rejected["too_large"] == 2  # after stop: the 1009 close is counted


def test_host_needs_token_and_unknown_paths_404() -> None:
    with HubThread() as hub:

        async def status_of(url: str, **kw: Any) -> int:
            with pytest.raises(InvalidStatus) as info:
                async with connect(url, proxy=None, **kw):
                    pass
            return info.value.response.status_code

        async def scenario() -> None:
            assert await status_of(hub.host_url) == 401
            assert await status_of(hub.host_url, additional_headers={"Authorization": "Bearer " + "x" * 32}) == 401
            assert await status_of(hub.url + "/admin") == 404
            assert await status_of(hub.viewer_url + "?nick=" + "n" * 40) == 400
            async with connect(f"{hub.host_url}?token={hub.token}", proxy=None) as host:
                await host.send(json.dumps({"type": "announcement", "text": "ok"}))
                await host.send(json.dumps({"type": "ping", "ref": "h"}))
                assert await recv_json(host) == {"type": "pong", "ref": "h"}
                await host.send(json.dumps({"type": "like"}))  # a viewer frame
                assert (await recv_json(host))["code"] == "forbidden"

        asyncio.run(scenario())


def test_rate_limit_over_socket() -> None:
    clock = FakeClock()  # frozen time: the burst is all a viewer gets
    with HubThread(HubConfig(rate=5, burst=3), clock=clock) as hub:

        async def scenario() -> list[str]:
            async with connect(hub.viewer_url, proxy=None) as v:
                await until_type(v, "welcome")
                kinds = []
                for i in range(5):
                    await v.send(json.dumps({"type": "like", "ref": str(i)}))
                    reply = await recv_json(v)
                    assert reply["ref"] == str(i)
                    kinds.append(reply["type"] if reply["type"] == "ack" else reply["code"])
                return kinds

        kinds = asyncio.run(scenario())
    assert kinds == ["ack", "ack", "ack", "rate_limited", "rate_limited"]
    assert hub.server.stats().rejected["rate_limited"] == 2


def test_new_viewer_gets_open_poll_state() -> None:
    with HubThread() as hub:

        async def scenario() -> None:
            async with host_connect(hub) as host:
                state = {"type": "poll_state", "poll": "p1", "question": "谁是凶手?", "options": ["A", "B"],
                         "counts": [0, 0], "remaining": 30, "state": "open"}  # fmt: skip
                await host.send(json.dumps(state))
                await host.send(json.dumps({"type": "poll_state", **{k: v for k, v in state.items() if k != "type"}, "poll": "bad", "options": []}))
                assert (await recv_json(host))["type"] == "error"  # barrier: the good one was handled first
                async with connect(hub.viewer_url, proxy=None) as v:
                    await until_type(v, "welcome")
                    got = await recv_json(v)
                    assert got["type"] == "poll_state" and got["poll"] == "p1"
                    decode_frame(json.dumps(got))

        asyncio.run(scenario())


def test_host_backlog_is_batched_and_adapter_unpacks_it() -> None:
    """Messages queued faster than the host writer runs go out as one ``batch`` frame."""
    from studio.interaction.adapters import WebSocketAdapter
    from studio.interaction.hub import HubServer
    from studio.interaction.messages import Like
    from studio.interaction.protocol import encode_message

    async def scenario() -> None:
        server = HubServer()
        await server.start()
        try:
            async with host_connect(server) as host:
                await host.send('{"type":"ping"}')  # the pong proves the host is registered
                assert await recv_json(host) == {"type": "pong"}
                likes = [Like(user=f"u{i}", count=i + 1) for i in range(3)]
                for like in likes:  # all queued in one go: the writer finds a backlog
                    server._to_hosts(encode_message(like))
                raw = await asyncio.wait_for(host.recv(), TIMEOUT)
                frame = json.loads(raw)
                assert frame["type"] == "batch" and [m["count"] for m in frame["messages"]] == [1, 2, 3]
                adapter = WebSocketAdapter("ws://127.0.0.1:1/host")
                assert adapter._parse(raw) == likes
                bad = json.dumps({"type": "batch", "messages": [{"type": "like"}, 5, {"type": "like", "user": "ok"}]})
                assert [m.user for m in adapter._parse(bad)] == ["ok"] and adapter.rejected == 2  # type: ignore[attr-defined]
                assert adapter._parse('{"type":"batch","messages":"x"}') == [] and adapter.rejected == 3
        finally:
            await server.stop()
        assert server.stats().delivered == 3

    asyncio.run(scenario())


def test_hub_thread_reports_bind_failure_and_leaves_no_thread() -> None:
    with HubThread() as first:
        taken = HubThread(HubConfig(port=first.port))
        with pytest.raises(OSError):
            taken.start()
        with pytest.raises(RuntimeError, match="not started"):
            _ = taken.port  # nothing half-started; the autouse fixture checks its thread is gone
