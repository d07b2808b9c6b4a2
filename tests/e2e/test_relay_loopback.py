"""Studio WHIP output -> embedded relay -> aiortc WHEP viewers, all on loopback."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import aiohttp
import av
import pytest
from whep_viewer import open_viewer

from encoders.packets import EncodedPacket
from studio.net import NetLoop
from studio.outputs.whip import WhipConfig, WhipOutput
from studio.outputs.whip_events import OutputState, OutputStatus, WhipStats
from studio.services.relay import RelayServer
from studio.webrtc.synthetic import SyntheticH264, SyntheticOpus, SyntheticPump

WAIT = 30.0
WIDTH, HEIGHT = 320, 240


def nal_units(annexb: bytes) -> list[bytes]:
    """NAL units without their start codes (3- and 4-byte codes differ after RTP)."""
    units, i = [], annexb.find(b"\x00\x00\x01")
    while i != -1:
        j = annexb.find(b"\x00\x00\x01", i + 3)
        end = len(annexb) if j == -1 else (j - 1 if annexb[j - 1] == 0 else j)
        units.append(annexb[i + 3 : end])
        i = j
    return units


class Recorder:
    """The PacketSink between the synthetic encoder and the WHIP output; remembers what was sent."""

    def __init__(self) -> None:
        self.output: WhipOutput | None = None
        self.sent_nals: set[bytes] = set()
        self._lock = threading.Lock()

    def put(self, packet: EncodedPacket) -> None:
        if packet.kind == "video":
            with self._lock:
                self.sent_nals.update(nal_units(packet.data))
        if self.output is not None:
            self.output.put(packet)


class Watcher:
    def __init__(self, output: WhipOutput) -> None:
        self.states: list[OutputState] = []
        self.stats: list[WhipStats] = []
        self.keyframe_requests = 0
        self.cond = threading.Condition()
        output.state_changed.connect(self._state)
        output.stats_changed.connect(self._stats)

    def _state(self, state: OutputState) -> None:
        with self.cond:
            self.states.append(state)
            self.cond.notify_all()

    def _stats(self, stats: WhipStats) -> None:
        with self.cond:
            self.stats.append(stats)
            self.cond.notify_all()

    def keyframe_requested(self) -> None:
        with self.cond:
            self.keyframe_requests += 1
            self.cond.notify_all()

    def wait_state(self, status: OutputStatus, count: int = 1) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: sum(s.state == status for s in self.states) >= count, WAIT), (
                self.states
            )

    def wait(self, predicate: object) -> None:
        with self.cond:
            assert self.cond.wait_for(predicate, WAIT)  # type: ignore[arg-type]


@dataclass
class Studio:
    net: NetLoop
    relay: RelayServer
    output: WhipOutput
    watcher: Watcher
    recorder: Recorder
    video: SyntheticH264


@pytest.fixture
def studio() -> Iterator[Studio]:
    net = NetLoop()
    net.start()
    relay = RelayServer(keyframe_request_interval_s=0.0)
    net.run(relay.start())
    video, audio = SyntheticH264(WIDTH, HEIGHT, 15), SyntheticOpus()
    video.encode_next()  # learn the profile-level-id
    recorder = Recorder()
    config = WhipConfig(
        url=relay.url("/whip/live"),
        video=video.stream_info(),
        audio=audio.stream_info(),
        backoff_initial_s=0.3,
        keyframe_request_interval_s=0.0,
    )
    output = WhipOutput(config, net)
    watcher = Watcher(output)

    def keyframe() -> None:
        watcher.keyframe_requested()
        video.request_keyframe()

    output.on_keyframe_request = keyframe
    recorder.output = output
    pump = SyntheticPump(video, recorder, audio)
    pump.start()
    output.start()
    st = Studio(net, relay, output, watcher, recorder, video)
    try:
        yield st
    finally:
        pump.stop()
        output.stop()
        net.run(st.relay.stop())  # a test may have replaced the relay: stop the one running now
        net.stop()


def test_frames_reach_a_whep_viewer_unchanged(studio: Studio) -> None:
    studio.watcher.wait_state(OutputStatus.LIVE)

    async def watch() -> tuple[list[object], int, list[object]]:
        decoded = await open_viewer(studio.relay.url("/whep/live"))
        encoded = await open_viewer(studio.relay.url("/whep/live"), encoded=True)
        try:
            frames = await decoded.wait("video", 5)
            audio = await decoded.wait("audio", 5)
            packets = await encoded.wait("video", 5)
            return frames, len(audio), packets
        finally:
            await decoded.close()
            await encoded.close()

    frames, audio_frames, packets = studio.net.run(watch(), 60)
    assert all(isinstance(f, av.VideoFrame) and (f.width, f.height) == (WIDTH, HEIGHT) for f in frames)
    assert audio_frames >= 5
    # the relay forwards the studio's own NAL units: nothing was decoded and re-encoded
    assert all(isinstance(p, av.Packet) for p in packets)
    assert isinstance(packets[0], av.Packet) and packets[0].is_keyframe  # a late joiner starts on a keyframe
    received = {nal for p in packets if isinstance(p, av.Packet) for nal in nal_units(bytes(p))}
    assert received and received <= studio.recorder.sent_nals
    studio.watcher.wait(lambda: any(s.packets_sent > 0 and s.bitrate_bps > 0 for s in studio.watcher.stats))
    stream = studio.relay.streams["live"]
    assert stream.packets_in["video"] > 0 and stream.packets_in["audio"] > 0


def test_a_viewer_pli_reaches_the_encoder(studio: Studio) -> None:
    studio.watcher.wait_state(OutputStatus.LIVE)

    async def send_pli() -> tuple[RelayServer, int]:
        viewer = await open_viewer(studio.relay.url("/whep/live"))
        try:
            await viewer.wait("video", 3)
            before = studio.watcher.keyframe_requests
            receiver = viewer.receivers["video"]
            ssrc = receiver.getSynchronizationSources()[0].source
            await receiver._send_rtcp_pli(ssrc)
            await asyncio.get_running_loop().run_in_executor(
                None, studio.watcher.wait, lambda: studio.watcher.keyframe_requests > before
            )
            viewers = list(studio.relay.streams["live"].viewers.values())
            return studio.relay, sum(v.rtcp.plis for v in viewers if v.rtcp)
        finally:
            await viewer.close()

    _, viewer_plis = studio.net.run(send_pli(), 60)
    assert viewer_plis >= 1
    assert studio.relay.streams["live"].plis_upstream >= 1
    studio.watcher.wait(lambda: any(s.plis >= 1 for s in studio.watcher.stats))


def test_the_output_reconnects_after_the_relay_restarts(studio: Studio) -> None:
    studio.watcher.wait_state(OutputStatus.LIVE)
    port = studio.relay.port
    studio.net.run(studio.relay.stop())
    studio.watcher.wait_state(OutputStatus.RECONNECTING)
    studio.relay = RelayServer(port=port, keyframe_request_interval_s=0.0)
    studio.net.run(studio.relay.start())
    studio.watcher.wait_state(OutputStatus.LIVE, 2)

    async def watch() -> list[object]:
        viewer = await open_viewer(studio.relay.url("/whep/live"))
        try:
            return await viewer.wait("video", 3)
        finally:
            await viewer.close()

    frames = studio.net.run(watch(), 60)
    assert all(isinstance(f, av.VideoFrame) and f.width == WIDTH for f in frames)


def test_relay_listening_rules_and_http_errors() -> None:
    with pytest.raises(ValueError, match="allow_lan"):
        RelayServer("0.0.0.0")
    with pytest.raises(ValueError, match="token"):
        RelayServer("0.0.0.0", allow_lan=True)
    net = NetLoop()
    net.start()
    relay = RelayServer(token="relay-token")
    net.run(relay.start())

    async def probe() -> dict[str, int]:
        sdp = {"Content-Type": "application/sdp"}
        async with aiohttp.ClientSession() as http:
            codes = {}
            async with http.post(relay.url("/whip/live"), data="v=0\r\n", headers=sdp) as r:
                codes["no token"] = r.status
            auth = {**sdp, "Authorization": "Bearer relay-token"}
            async with http.post(
                relay.url("/whip/live"), data="v=0\r\n", headers={"Authorization": "Bearer relay-token"}
            ) as r:
                codes["wrong type"] = r.status
            async with http.post(relay.url("/whip/live"), data="hello", headers=auth) as r:
                codes["not sdp"] = r.status
            async with http.post(relay.url("/whip/bad name!"), data="v=0\r\n", headers=auth) as r:
                codes["bad name"] = r.status
            async with http.patch(relay.url("/whip/live/abc"), headers=auth) as r:
                codes["patch"] = r.status
            async with http.delete(relay.url("/whip/live/abc"), headers=auth) as r:
                codes["unknown delete"] = r.status
            async with http.get(relay.url("/view/live")) as r:
                codes["page"] = r.status
                assert "<video" in await r.text()
            async with http.get(relay.url("/static/viewer.js")) as r:
                codes["script"] = r.status
            return codes

    try:
        codes = net.run(probe())
    finally:
        net.run(relay.stop())
        net.stop()
    assert codes == {
        "no token": 401,
        "wrong type": 415,
        "not sdp": 400,
        "bad name": 400,
        "patch": 405,
        "unknown delete": 404,
        "page": 200,
        "script": 200,
    }
