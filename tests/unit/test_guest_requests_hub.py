"""'Ask to join' (申请连麦) on the hub: the viewer frame, its rate limit per identity, and the
invite that goes to that viewer's connections only (issue 15)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from studio.interaction.hub import GUEST_REQUEST_INTERVAL_S, HubConfig, HubCore, HubThread, ViewerSession
from studio.interaction.messages import GuestInvite, GuestRequest
from studio.interaction.protocol import ProtocolError, decode_frame, parse_host_frame

TIMEOUT = 10.0
URL = "http://127.0.0.1:8889/guest/live#invite=" + "A" * 32


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_request_to_join_is_a_viewer_message_limited_per_identity() -> None:
    clock = FakeClock()
    core = HubCore(HubConfig(rate=100, burst=100), clock=clock)
    session = core.add_viewer("小明")
    message, reply = core.viewer_frame(session, '{"type":"guest_request","ref":"r1"}')
    assert isinstance(message, GuestRequest) and message.user == session.id and message.nick == "小明"
    assert json.loads(reply or "")["type"] == "ack"
    # again at once, even from a second connection of the same identity: refused, in words
    again_session = ViewerSession(session.id, "小明", session.bucket)
    message, reply = core.viewer_frame(again_session, '{"type":"guest_request","ref":"r2"}')
    assert message is None
    refused = json.loads(reply or "")
    assert refused["code"] == "rate_limited" and "request to join" in refused["message"] and refused["ref"] == "r2"
    other = core.add_viewer()
    assert core.viewer_frame(other, '{"type":"guest_request"}')[0] is not None  # another viewer may
    clock.now += GUEST_REQUEST_INTERVAL_S
    assert core.viewer_frame(session, '{"type":"guest_request"}')[0] is not None
    message, reply = core.viewer_frame(session, '{"type":"guest_request","extra":1}')
    assert message is None and json.loads(reply or "")["code"] == "bad_field"


def test_the_invite_frame_carries_only_a_guest_page_link() -> None:
    frame = parse_host_frame(decode_frame(json.dumps({"type": "guest_invite", "viewer": "v1", "url": URL})))
    assert isinstance(frame, GuestInvite) and frame.viewer == "v1" and frame.url == URL
    for bad in ("javascript:alert(1)", "http://x/other#invite=" + "A" * 32, URL + " ", "http://x/guest/live"):
        with pytest.raises(ProtocolError):
            parse_host_frame(decode_frame(json.dumps({"type": "guest_invite", "viewer": "v1", "url": bad})))


async def recv_json(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))


async def until_type(ws: ClientConnection, kind: str) -> list[dict[str, Any]]:
    seen = []
    while True:
        obj = await recv_json(ws)
        seen.append(obj)
        if obj["type"] == kind:
            return seen


def test_the_invite_reaches_only_the_viewer_who_asked() -> None:
    with HubThread() as hub:

        async def scenario() -> None:
            host_headers = {"Authorization": f"Bearer {hub.token}"}
            async with connect(hub.host_url, additional_headers=host_headers, proxy=None) as host, \
                    connect(hub.viewer_url + "?nick=Ann", proxy=None) as asker, \
                    connect(hub.viewer_url + "?nick=Bob", proxy=None) as other:
                me = (await recv_json(asker))["viewer"]
                assert "guest_request" in (await recv_json(other))["accepts"]
                await asker.send('{"type":"guest_request"}')
                request = [m for m in await until_type(host, "guest_request")][-1]
                assert request["user"] == me and request["nick"] == "Ann"
                await host.send(json.dumps({"type": "guest_invite", "viewer": me, "url": URL}))
                await host.send(json.dumps({"type": "announcement", "text": "after the invite"}))
                got = await until_type(asker, "guest_invite")
                assert got[-1]["url"] == URL and got[-1]["viewer"] == me
                seen = await until_type(other, "announcement")
                assert all(m["type"] != "guest_invite" for m in seen)

        asyncio.run(scenario())
