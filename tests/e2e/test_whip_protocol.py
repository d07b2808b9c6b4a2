"""WHIP client against a real, scriptable aiohttp server on 127.0.0.1 (real aiortc answers)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import pytest
from aiohttp import web
from aioice import stun
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from encoders.packets import StreamInfo
from studio.net import NetLoop
from studio.outputs.whip import WhipConfig, WhipOutput
from studio.outputs.whip_events import OutputState, OutputStatus

TOKEN = "test-token-123"
VIDEO = StreamInfo(kind="video", codec="h264", time_base=Fraction(1, 90000), profile_level_id="42e01f")
WAIT = 30.0

Handler = Callable[[web.Request, str], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    host: str
    headers: dict[str, str]
    body: str


class ScriptedServer:
    """Records every request; POST answers come from a script (default: a real aiortc answer)."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.posts: list[Handler] = []
        self.patch_status = 204
        self.pcs: list[RTCPeerConnection] = []
        self.port = 0
        self._cond = threading.Condition()
        self._runner: web.AppRunner | None = None
        self.release = asyncio.Event()

    async def start(self) -> None:
        self.release = asyncio.Event()
        app = web.Application()
        app[SERVER_KEY] = self
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        self.release.set()
        for pc in self.pcs:
            await pc.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    async def answer(self, offer: str) -> str:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pcs.append(pc)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return pc.localDescription.sdp

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.text()
        seen = Seen(request.method, request.path, request.host, dict(request.headers), body)
        with self._cond:
            self.seen.append(seen)
            self._cond.notify_all()
        if request.method == "POST":
            handler = self.posts.pop(0) if self.posts else created()
            return await handler(request, body)
        if request.method == "PATCH":
            return web.Response(status=self.patch_status)
        return web.Response(status=200)

    def wait_for(self, method: str, count: int = 1, path: str | None = None) -> list[Seen]:
        def matching() -> list[Seen]:
            return [s for s in self.seen if s.method == method and (path is None or s.path == path)]

        with self._cond:
            assert self._cond.wait_for(lambda: len(matching()) >= count, WAIT), (method, path, self.seen)
            return matching()


SERVER_KEY = web.AppKey("server", ScriptedServer)


def created(location: str | None = "/resource/1", **headers: str) -> Handler:
    async def handler(request: web.Request, offer: str) -> web.Response:
        server = request.app[SERVER_KEY]
        answer = await server.answer(offer)
        if location is not None:
            headers["Location"] = location
        return web.Response(status=201, text=answer, content_type="application/sdp", headers=headers)

    return handler


def status(code: int, **headers: str) -> Handler:
    async def handler(request: web.Request, offer: str) -> web.Response:
        return web.Response(status=code, text="scripted", headers=headers)

    return handler


class States:
    def __init__(self, output: WhipOutput) -> None:
        self.items: list[OutputState] = []
        self._cond = threading.Condition()
        output.state_changed.connect(self._add)

    def _add(self, state: OutputState) -> None:
        with self._cond:
            self.items.append(state)
            self._cond.notify_all()

    def wait(self, status: OutputStatus, count: int = 1) -> OutputState:
        with self._cond:
            ok = self._cond.wait_for(lambda: sum(s.state == status for s in self.items) >= count, WAIT)
            assert ok, f"no {status} (x{count}) in {self.items}"
            return [s for s in self.items if s.state == status][count - 1]


@pytest.fixture
def server(net: NetLoop) -> Iterator[ScriptedServer]:
    srv = ScriptedServer()
    net.run(srv.start())
    yield srv
    net.run(srv.stop())


def make_output(net: NetLoop, url: str, **kwargs: object) -> tuple[WhipOutput, States]:
    options: dict[str, object] = {"backoff_initial_s": 0.2, "connect_timeout_s": 15.0}
    options.update(kwargs)
    output = WhipOutput(WhipConfig(url=url, token=TOKEN, video=VIDEO, **options), net)  # type: ignore[arg-type]
    return output, States(output)


def test_201_without_location_is_an_error(net: NetLoop, server: ScriptedServer) -> None:
    server.posts = [created(location=None)]
    output, states = make_output(net, server.url("/whip/live"))
    output.start()
    failed = states.wait(OutputStatus.FAILED)
    assert "Location" in failed.message
    output.stop()
    assert len([s for s in server.seen if s.method == "POST"]) == 1  # a protocol error is not retried


def test_relative_location_trickle_patch_and_delete(net: NetLoop, server: ScriptedServer) -> None:
    server.posts = [
        created(location="sessions/abc", ETag='"v1"', **{"Accept-Patch": "application/trickle-ice-sdpfrag"})
    ]
    output, states = make_output(net, server.url("/whip/live"))
    output.start()
    states.wait(OutputStatus.LIVE)
    post = server.wait_for("POST")[0]
    assert post.headers["Authorization"] == f"Bearer {TOKEN}"
    assert post.headers["Content-Type"] == "application/sdp" and post.body.startswith("v=0")
    patch = server.wait_for("PATCH", path="/whip/sessions/abc")[0]
    assert patch.headers["Content-Type"] == "application/trickle-ice-sdpfrag"
    assert patch.headers["If-Match"] == '"v1"'
    assert patch.headers["Authorization"] == f"Bearer {TOKEN}"
    assert (
        "a=ice-ufrag:" in patch.body and "a=candidate:" in patch.body and "a=end-of-candidates" in patch.body
    )
    output.stop()
    delete = server.wait_for("DELETE", path="/whip/sessions/abc")[0]
    assert delete.headers["Authorization"] == f"Bearer {TOKEN}"
    assert states.items[-1].state == OutputStatus.STOPPED


def test_no_trickle_patch_without_server_support(net: NetLoop, server: ScriptedServer) -> None:
    output, states = make_output(net, server.url("/whip/live"))
    output.start()
    states.wait(OutputStatus.LIVE)
    output.stop()
    server.wait_for("DELETE", path="/resource/1")
    assert not [s for s in server.seen if s.method == "PATCH"]


def test_redirect_to_another_origin_does_not_forward_the_token(net: NetLoop, server: ScriptedServer) -> None:
    # 127.0.0.1 and localhost are different origins (same server)
    server.posts = [status(307, Location=server.url("/whip/live", host="localhost")), created()]
    output, states = make_output(net, server.url("/whip/start"))
    output.start()
    states.wait(OutputStatus.LIVE)
    first, second = server.wait_for("POST", 2)
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    assert second.host.startswith("localhost") and "Authorization" not in second.headers
    assert second.body == first.body  # 307 keeps method and body
    output.stop()
    delete = server.wait_for("DELETE")[0]
    assert delete.host.startswith("localhost") and "Authorization" not in delete.headers


def test_redirect_to_the_same_origin_forwards_the_token(net: NetLoop, server: ScriptedServer) -> None:
    server.posts = [status(308, Location="/whip/live"), created()]
    output, states = make_output(net, server.url("/whip/start"))
    output.start()
    states.wait(OutputStatus.LIVE)
    second = server.wait_for("POST", 2)[1]
    assert second.path == "/whip/live" and second.headers["Authorization"] == f"Bearer {TOKEN}"
    output.stop()


class StunResponder(asyncio.DatagramProtocol):
    """Answers STUN Binding requests (a minimal STUN server) and records that it was asked."""

    def __init__(self) -> None:
        self.asked = threading.Event()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            request = stun.parse_message(data)
        except ValueError:
            return
        self.asked.set()
        response = stun.Message(
            message_method=stun.Method.BINDING,
            message_class=stun.Class.RESPONSE,
            transaction_id=request.transaction_id,
        )
        response.attributes["XOR-MAPPED-ADDRESS"] = addr
        assert self.transport is not None
        self.transport.sendto(bytes(response), addr)


def test_link_ice_servers_are_used_for_the_next_connection(net: NetLoop, server: ScriptedServer) -> None:
    async def open_stun() -> tuple[asyncio.DatagramTransport, StunResponder]:
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_datagram_endpoint(StunResponder, local_addr=("127.0.0.1", 0))
        return transport, protocol  # type: ignore[return-value]

    transport, stun_server = net.run(open_stun())
    stun_port = transport.get_extra_info("sockname")[1]
    link = f'<stun:127.0.0.1:{stun_port}>; rel="ice-server", <turn:127.0.0.1:9?transport=udp>; rel="ice-server"; username="u"; credential="c"'
    server.posts = [created(Link=link), created(location="/resource/2")]
    output, states = make_output(net, server.url("/whip/live"))
    try:
        output.start()
        states.wait(OutputStatus.LIVE)
        assert [s.urls for s in output.learned_ice_servers] == [
            f"stun:127.0.0.1:{stun_port}",
            "turn:127.0.0.1:9?transport=udp",
        ]
        assert (
            output.learned_ice_servers[1].username == "u" and output.learned_ice_servers[1].credential == "c"
        )
        assert not stun_server.asked.is_set()
        net.run(server.pcs[0].close())  # the server drops the session: the client reconnects
        reconnecting = states.wait(OutputStatus.RECONNECTING)
        assert reconnecting.retry_in_s is not None and reconnecting.message
        server.wait_for("DELETE", path="/resource/1")
        assert stun_server.asked.wait(WAIT), "the STUN server from the Link header was not used"
        states.wait(OutputStatus.LIVE, 2)
    finally:
        output.stop()
        net.call_soon(transport.close)


def test_503_retry_after_is_honoured(net: NetLoop, server: ScriptedServer) -> None:
    server.posts = [status(503, **{"Retry-After": "1"}), created()]
    # the backoff alone would wait 120 s: the second POST only comes this soon if Retry-After is used
    output, states = make_output(net, server.url("/whip/live"), backoff_initial_s=120.0)
    output.start()
    waiting = states.wait(OutputStatus.RECONNECTING)
    assert waiting.retry_in_s == 1.0 and "503" in waiting.message and "busy" in waiting.message
    states.wait(OutputStatus.LIVE)
    assert len(server.wait_for("POST", 2)) == 2
    output.stop()


def test_unanswered_request_times_out_and_retries(net: NetLoop, server: ScriptedServer) -> None:
    async def hang(request: web.Request, offer: str) -> web.Response:
        await server.release.wait()
        return web.Response(status=500)

    server.posts = [hang, created()]
    output, states = make_output(net, server.url("/whip/live"), request_timeout_s=0.5)
    output.start()
    waiting = states.wait(OutputStatus.RECONNECTING)
    assert "no answer within 0.5 s" in waiting.message
    states.wait(OutputStatus.LIVE)
    output.stop()


def test_refused_token_fails_without_retrying(net: NetLoop, server: ScriptedServer) -> None:
    server.posts = [status(401)]
    output, states = make_output(net, server.url("/whip/live"))
    output.start()
    failed = states.wait(OutputStatus.FAILED)
    assert "token" in failed.message and "401" in failed.message and TOKEN not in failed.message
    output.stop()
    assert len(server.wait_for("POST")) == 1


def test_unreachable_server_counts_down_to_the_next_retry(net: NetLoop, server: ScriptedServer) -> None:
    port = server.port
    net.run(server.stop())
    output, states = make_output(net, f"http://127.0.0.1:{port}/whip/live", backoff_initial_s=3.0)
    output.start()
    first = states.wait(OutputStatus.RECONNECTING)
    second = states.wait(OutputStatus.RECONNECTING, 2)
    assert "cannot reach" in first.message
    assert first.retry_in_s == 3.0 and second.retry_in_s is not None and second.retry_in_s < 3.0
    output.stop()
    assert output.state.state == OutputStatus.STOPPED
