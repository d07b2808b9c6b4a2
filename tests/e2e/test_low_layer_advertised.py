"""Our relay advertises where the low layer of a stream goes (a Link on the WHIP 201), and a stream
with no ``low_layer_url`` of its own (`studio headless --stream http://host/whip/live`) publishes it
there; a server that does not advertise it never gets a second stream.

Real parts: the engine (a test pattern) -> our encoder -> WhipOutput -> the embedded relay on
127.0.0.1 (and, for the server without the Link, an aiohttp WHIP server answering with a real aiortc
peer)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from aiohttp import web
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from pattern_show import pattern_collection

from studio.audio.mixer import AudioMixer
from studio.engine import Studio
from studio.net.loop import NetLoop
from studio.outputs.low_layer import LOW_LAYER_MIN_MAIN_KBPS, LOW_LAYER_RESUME_MAIN_KBPS, LOW_LAYER_RESUME_S
from studio.outputs.pipeline import OutputPipeline, StreamTarget
from studio.outputs.whip_events import OutputState, OutputStatus
from studio.outputs.whip_http import LOW_LAYER_REL, parse_low_layer
from studio.services.relay import RelayServer

WAIT = 60.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Rig:
    def __init__(self, net: NetLoop) -> None:
        col = pattern_collection()
        self.studio = Studio(col)
        self.mixer = AudioMixer()
        self.clock = Clock()  # the low layer's comeback wait
        self.pipeline = OutputPipeline(self.studio, self.mixer, net=net, clock=self.clock)
        self.live = threading.Event()
        self.pipeline.stream_state.connect(self._state)

    def _state(self, state: OutputState) -> None:
        if state.state is OutputStatus.LIVE:
            self.live.set()

    def stream_to(self, url: str) -> None:
        self.studio.start()
        self.mixer.start()
        self.pipeline.start_streaming(StreamTarget(url))  # no low_layer_url: as headless builds it
        assert self.live.wait(WAIT)

    def close(self) -> None:
        self.pipeline.close()
        self.mixer.stop()
        self.studio.stop()


@pytest.fixture
def rig(net: NetLoop) -> Iterator[Rig]:
    rig = Rig(net)
    yield rig
    rig.close()


def test_a_plain_stream_to_our_relay_publishes_the_advertised_low_layer_while_the_uplink_has_room(net: NetLoop, rig: Rig) -> None:
    relay = RelayServer(port=0, keyframe_request_interval_s=0.0)
    net.run(relay.start())
    try:
        rig.stream_to(relay.url("/whip/live"))
        stream = rig.pipeline.stream
        assert stream is not None
        changed = threading.Condition()

        def notify(_: object) -> None:
            with changed:
                changed.notify_all()

        rig.pipeline.stream_stats.connect(notify)  # about once a second
        with changed:  # the advertisement follows the LIVE state on the net thread
            assert changed.wait_for(lambda: rig.pipeline._low_layer_starter is not None, WAIT)
        assert stream.low_layer_url == relay.url("/whip/live.low")
        starter = rig.pipeline._low_layer_starter
        assert starter is not None
        starter.join(WAIT)  # the layer starts off the net thread once the session said where
        layer = rig.pipeline._low_layer
        assert layer is not None and layer.output is not None
        assert layer.output.config.url == relay.url("/whip/live.low")
        layer.output.state_changed.connect(notify)
        layer.output.stats_changed.connect(notify)  # about once a second
        main = relay.streams["live"]

        def both_layers() -> bool:
            low = relay.streams.get("live.low")
            return low is not None and low.ingest is not None and main.low is low and low.keyframes_in > 0

        with changed:
            assert changed.wait_for(both_layers, WAIT), relay.streams
        assert main.ingest is not None

        # the uplink turns out weak: the rate target falls below what leaves room for both layers
        rig.pipeline._apply_stream_rate(LOW_LAYER_MIN_MAIN_KBPS - 100)
        assert rig.pipeline._low_layer is None
        stopper = rig.pipeline._low_layer_stopper
        assert stopper is not None
        stopper.join(WAIT)  # stopped off the calling thread: its WHIP session is deleted
        assert layer.output is None and not stopper.is_alive()
        with changed:
            assert changed.wait_for(lambda: relay.streams["live.low"].ingest is None, WAIT)
        assert main.ingest is not None and rig.pipeline.stream is stream  # the main stream goes on

        # the uplink recovers: once the target has stayed at 2 Mbit/s for 10 s, the layer comes back
        rig.pipeline._rate = None  # the targets are the test's from here (stats ticks keep to the ladder)
        rig.pipeline._apply_stream_rate(LOW_LAYER_RESUME_MAIN_KBPS)
        assert rig.pipeline._low_layer is None
        rig.clock.now += LOW_LAYER_RESUME_S
        rig.pipeline._apply_stream_rate(LOW_LAYER_RESUME_MAIN_KBPS)
        restarter = rig.pipeline._low_layer_starter
        assert restarter is not None and restarter is not starter
        restarter.join(WAIT)
        back = rig.pipeline._low_layer
        assert back is not None and back is not layer and back.output is not None
        assert back.output.config.url == relay.url("/whip/live.low")
        back.output.state_changed.connect(notify)
        back.output.stats_changed.connect(notify)

        def low_again() -> bool:
            low = relay.streams.get("live.low")
            return low is not None and low.ingest is not None and main.low is low and low.keyframes_in > 0

        with changed:
            assert changed.wait_for(low_again, WAIT), relay.streams
        video = rig.pipeline._video
        assert video is not None and video.tap_names.count("low-layer") == 1  # the new layer's feed only
    finally:
        rig.close()
        net.run(relay.stop())


class PlainWhipServer:
    """A WHIP endpoint that is not ours: a real aiortc answer, no low-layer Link; notes each POST."""

    def __init__(self) -> None:
        self.posts: list[str] = []
        self.pcs: list[RTCPeerConnection] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/whip/{name}", self._post)
        app.router.add_route("*", "/whip/{name}/{id}", self._other)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _post(self, request: web.Request) -> web.Response:
        self.posts.append(request.path)
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pcs.append(pc)
        await pc.setRemoteDescription(RTCSessionDescription(await request.text(), "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return web.Response(status=201, text=pc.localDescription.sdp, content_type="application/sdp",
                            headers={"Location": f"{request.path}/{len(self.pcs)}"})

    async def _other(self, request: web.Request) -> web.Response:
        return web.Response(status=200)

    async def stop(self) -> None:
        for pc in self.pcs:
            await pc.close()
        if self._runner is not None:
            await self._runner.cleanup()


def test_a_server_without_the_link_gets_no_low_layer(net: NetLoop, rig: Rig) -> None:
    server = PlainWhipServer()
    net.run(server.start())
    try:
        stats = threading.Event()
        rig.pipeline.stream_stats.connect(lambda _s: stats.set())
        rig.stream_to(f"http://127.0.0.1:{server.port}/whip/abc")
        assert stats.wait(WAIT)  # emitted after the live session's advertisement would have been
        stream = rig.pipeline.stream
        assert stream is not None and stream.low_layer_url is None
        assert rig.pipeline._low_layer is None and rig.pipeline._low_layer_starter is None
        assert server.posts == ["/whip/abc"]
    finally:
        rig.close()
        net.run(server.stop())


def test_the_link_is_read_relative_to_the_answer_and_only_with_our_relation() -> None:
    base = "http://relay.example:8080/whip/live"
    ours = f'<{"/whip/live.low"}>; rel="{LOW_LAYER_REL}"'
    assert parse_low_layer([ours], base) == "http://relay.example:8080/whip/live.low"
    ice = '<stun:stun.example:3478>; rel="ice-server"'
    assert parse_low_layer([f"{ice}, {ours}"], base) == "http://relay.example:8080/whip/live.low"
    assert parse_low_layer([ice], base) is None
    assert parse_low_layer(['<javascript:alert(1)>; rel="' + LOW_LAYER_REL + '"'], base) is None
