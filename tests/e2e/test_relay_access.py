"""LAN mode as an adversary on the LAN sees it (real relay and hub on 0.0.0.0, real HTTP and
websockets): separate publish / host / view rights, URLs a LAN viewer can open, DELETE only on a
session's own Location, CORS only for allow-listed browser players."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from studio.net import NetLoop
from studio.serve import describe
from studio.services.access import AccessTokens, lan_address, scoped_token
from studio.services.local import LocalServices
from studio.services.relay import RelayServer

MASTER = "publisher-secret-0123456789"
PLAYER = "https://player.example.com"


async def ws_status(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        async with connect(url, additional_headers=headers, proxy=None, open_timeout=10):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


@pytest.fixture
def lan(net: NetLoop) -> Any:
    services = LocalServices(net, host="0.0.0.0", relay_port=0, hub_port=0, token=MASTER, allow_lan=True,
                             cors_origins=(PLAYER,))
    services.start()
    yield services
    services.stop()


def test_three_rights_three_tokens_and_urls_a_lan_viewer_can_open(lan: LocalServices, net: NetLoop) -> None:
    tokens = AccessTokens.from_master(MASTER)
    assert len({tokens.publish, tokens.host, tokens.view}) == 3 and tokens.publish == MASTER
    assert scoped_token(MASTER, "view") == tokens.view  # stable: a restart prints the same link
    urls = lan.urls
    lines = describe(urls, True, "STUDIO_TOKEN")
    printed = "\n".join(lines)
    assert "0.0.0.0" not in printed and lan_address() in urls.viewer
    assert f"token={tokens.view}" in urls.viewer
    assert MASTER not in printed and str(tokens.host) not in printed  # only the view token is handed out
    relay, hub_port = lan.relay.port, lan.hub.port
    local = f"http://127.0.0.1:{relay}"
    sdp = {"Content-Type": "application/sdp"}

    async def probe() -> dict[str, int]:
        codes: dict[str, int] = {}
        async with aiohttp.ClientSession() as http:
            for name, token in (("none", None), ("view", tokens.view), ("host", tokens.host), ("publish", MASTER)):
                auth = {**sdp, "Authorization": f"Bearer {token}"} if token else sdp
                # "hello" is no SDP: a 400 means the token was accepted, a 401 that it was not
                async with http.post(f"{local}/whip/live", data="hello", headers=auth) as r:
                    codes[f"whip with {name}"] = r.status
                async with http.post(f"{local}/whep/live", data="hello", headers=auth) as r:
                    codes[f"whep with {name}"] = r.status
            async with http.post(f"{local}/whep/live?token={tokens.view}", data="hello", headers=sdp) as r:
                codes["whep with ?token=view"] = r.status
        hub = f"ws://127.0.0.1:{hub_port}"
        codes["hub host with view"] = await ws_status(f"{hub}/host", {"Authorization": f"Bearer {tokens.view}"})
        codes["hub host with master"] = await ws_status(f"{hub}/host", {"Authorization": f"Bearer {MASTER}"})
        codes["hub host with host"] = await ws_status(f"{hub}/host", {"Authorization": f"Bearer {tokens.host}"})
        codes["hub viewer with nothing"] = await ws_status(f"{hub}/viewer")
        codes["hub viewer with view"] = await ws_status(f"{hub}/viewer?token={tokens.view}")
        return codes

    assert net.run(probe()) == {
        "whip with none": 401, "whep with none": 401,
        "whip with view": 401, "whep with view": 400,
        "whip with host": 401, "whep with host": 401,
        "whip with publish": 400, "whep with publish": 400,
        "whep with ?token=view": 400,
        "hub host with view": 401, "hub host with master": 401, "hub host with host": 101,
        "hub viewer with nothing": 401, "hub viewer with view": 101,
    }  # fmt: skip


async def whep_session(url: str, token: str) -> tuple[RTCPeerConnection, str]:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    async with aiohttp.ClientSession() as http:
        headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"}
        async with http.post(url, data=pc.localDescription.sdp, headers=headers) as r:
            assert r.status == 201, await r.text()
            return pc, r.headers["Location"]


def test_delete_only_with_the_sessions_own_location(lan: LocalServices, net: NetLoop) -> None:
    tokens = AccessTokens.from_master(MASTER)
    base = f"http://127.0.0.1:{lan.relay.port}"

    async def run() -> dict[str, int]:
        pc, location = await whep_session(f"{base}/whep/live", str(tokens.view))
        mine = {"Authorization": f"Bearer {tokens.view}"}
        session = location.rsplit("/", 1)[1]
        codes: dict[str, int] = {}
        try:
            async with aiohttp.ClientSession() as http:
                for name, path, headers in (
                    ("no token", location, {}),
                    ("another stream", f"/whep/other/{session}", mine),
                    ("a guessed id", "/whep/live/" + "0" * 32, mine),
                    ("as a WHIP session", f"/whip/live/{session}", {"Authorization": f"Bearer {MASTER}"}),
                    ("own Location", location, mine),
                    ("again", location, mine),
                ):
                    async with http.delete(base + path, headers=headers) as r:
                        codes[name] = r.status
        finally:
            await pc.close()
        return codes

    assert net.run(run(), 60) == {
        "no token": 401, "another stream": 404, "a guessed id": 404, "as a WHIP session": 404,
        "own Location": 200, "again": 404,
    }  # fmt: skip
    assert all(not s.viewers for s in lan.relay.streams.values())


def test_cors_only_for_allow_listed_players(lan: LocalServices, net: NetLoop) -> None:
    base = f"http://127.0.0.1:{lan.relay.port}"

    async def run() -> dict[str, dict[str, str]]:
        seen: dict[str, dict[str, str]] = {}
        preflight = {"Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "authorization, content-type"}
        async with aiohttp.ClientSession() as http:
            for name, method, path, origin in (
                ("preflight POST", "OPTIONS", "/whep/live", PLAYER),
                ("preflight DELETE", "OPTIONS", "/whip/live/abc", PLAYER),
                ("refused POST", "POST", "/whep/live", PLAYER),
                ("other origin", "OPTIONS", "/whep/live", "https://evil.example"),
                ("page", "GET", "/view/live", PLAYER),
            ):
                async with http.request(method, base + path, headers={**preflight, "Origin": origin}) as r:
                    seen[name] = {k: v for k, v in r.headers.items() if k.lower().startswith("access-control")}
                    seen[name]["status"] = str(r.status)
        return seen

    seen = net.run(run())
    for name in ("preflight POST", "preflight DELETE", "refused POST"):
        assert seen[name]["Access-Control-Allow-Origin"] == PLAYER, name
        assert "Authorization" in seen[name]["Access-Control-Allow-Headers"]
        assert "DELETE" in seen[name]["Access-Control-Allow-Methods"]
        assert "Location" in seen[name]["Access-Control-Expose-Headers"]
    assert seen["preflight POST"]["status"] == "204" and seen["refused POST"]["status"] == "401"
    assert "Access-Control-Allow-Origin" not in seen["other origin"]
    assert "Access-Control-Allow-Origin" not in seen["page"]


def test_lan_relay_needs_two_different_tokens() -> None:
    with pytest.raises(ValueError, match="view token"):
        RelayServer("0.0.0.0", allow_lan=True, token=MASTER)
    with pytest.raises(ValueError, match="differ"):
        RelayServer("0.0.0.0", allow_lan=True, token=MASTER, view_token=MASTER)
    with pytest.raises(ValueError, match="16"):
        LocalServices(NetLoop(), host="0.0.0.0", relay_port=0, hub_port=0, token="short", allow_lan=True)


def test_loopback_page_may_join_the_chat(net: NetLoop) -> None:
    services = LocalServices(net, relay_port=0, hub_port=0)
    services.start()
    try:
        page = f"http://127.0.0.1:{services.relay.port}"
        assert asyncio.run(ws_status(services.urls.hub_viewer, {"Origin": page})) == 101
        assert asyncio.run(ws_status(services.urls.hub_viewer, {"Origin": "http://evil.example"})) == 403
        assert "token=" not in services.urls.viewer  # loopback: nothing to prove
    finally:
        services.stop()
