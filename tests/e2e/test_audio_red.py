"""RED (RFC 2198) for Opus end to end (issue 11, item 6): the studio's WHIP sender negotiates it with
servers that answer it (plain Opus otherwise), the relay recovers lost ingest packets from the
redundancy and forwards RED to viewers that negotiate it, plain Opus to the others, and Chromium's
viewer page negotiates and plays it with its default settings. Loss is injected at the packet level,
on arrival at the receiving peer's DTLS transport (as ``lossy_link.DropShim`` does)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import aiohttp
import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpReceiver, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from aiortc.rtp import RtpPacket, is_rtcp

from encoders.packets import EncodedPacket
from studio.net import NetLoop
from studio.outputs.whip import WhipConfig, WhipOutput
from studio.outputs.whip_events import OutputState, OutputStatus
from studio.services.relay import RelayServer
from studio.webrtc import audio_red, loopback, passthrough
from studio.webrtc.codecs import opus_preferences
from studio.webrtc.packet_track import EncodedPacketTrack
from studio.webrtc.red import RedDistance
from studio.webrtc.synthetic import SyntheticOpus

WAIT = 30.0
TB = Fraction(1, 48000)
FRAMES = 60


def opus_frame(index: int) -> bytes:
    """A stand-in Opus packet whose bytes name it (the path never decodes it)."""
    return b"OPUS" + index.to_bytes(4, "big") + bytes(200)


def frame_index(data: bytes) -> int:
    assert data[:4] == b"OPUS", data[:8]
    return int.from_bytes(data[4:8], "big")


def always(distance: int) -> RedDistance:
    return RedDistance(hold_s=1e9, initial=distance)


class Arrivals:
    """Watches the RTP arriving at one DTLS transport and drops the ones ``drop(k)`` picks (k counts
    the arrivals of the watched SSRC from 0)."""

    def __init__(self, transport: Any, drop: Callable[[int], bool] = lambda k: False) -> None:
        self.payload_types: list[int] = []
        self.dropped = 0
        original = transport._handle_rtp_data

        async def handle(data: bytes, arrival_time_ms: int) -> None:
            packet = RtpPacket.parse(data)
            k = len(self.payload_types)
            self.payload_types.append(packet.payload_type)
            if drop(k):
                self.dropped += 1
                return
            await original(data, arrival_time_ms)

        transport._handle_rtp_data = handle


@dataclass
class AudioViewer:
    pc: RTCPeerConnection
    receiver: RTCRtpReceiver
    answer: str = ""
    frames: list[bytes] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    def indexes(self) -> list[int]:
        return [frame_index(f) for f in self.frames]

    async def wait_for(self, condition: Callable[[list[int]], bool]) -> None:
        async def until() -> None:
            while not condition(self.indexes()):
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(until(), WAIT)

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.pc.close()


async def open_audio_viewer(url: str, red: bool) -> AudioViewer:
    """A WHEP viewer (real aiortc peer) that keeps audio frames encoded; ``red``: it offers RED."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    transceiver = pc.addTransceiver("audio", direction="recvonly")
    transceiver.setCodecPreferences(audio_red.opus_red_preferences() if red else opus_preferences())
    passthrough.use_fast_release(transceiver.receiver, "audio")
    viewer = AudioViewer(pc, transceiver.receiver)
    await pc.setLocalDescription(await pc.createOffer())
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=pc.localDescription.sdp, headers={"Content-Type": "application/sdp"}) as resp,
    ):
        assert resp.status == 201, await resp.text()
        viewer.answer = await resp.text()
    await pc.setRemoteDescription(RTCSessionDescription(sdp=viewer.answer, type="answer"))
    passthrough.make_passthrough(transceiver.receiver)

    async def pull() -> None:
        track = transceiver.receiver.track
        try:
            while True:
                packet = await track.recv()
                assert isinstance(packet, av.Packet)
                viewer.frames.append(bytes(packet))
                viewer.arrived.set()
        except MediaStreamError:
            pass

    viewer.task = asyncio.create_task(pull())
    connected = asyncio.Event()
    pc.on("connectionstatechange", lambda: connected.set() if pc.connectionState == "connected" else None)
    if pc.connectionState != "connected":
        await asyncio.wait_for(connected.wait(), WAIT)
    return viewer


async def go_live(net: NetLoop, relay: RelayServer, **config: Any) -> WhipOutput:
    output = WhipOutput(WhipConfig(url=relay.url("/whip/live"), audio=SyntheticOpus.stream_info(), **config), net)
    live = asyncio.Event()

    def on_state(state: OutputState) -> None:
        if state.state == OutputStatus.LIVE:
            live.set()

    output.state_changed.connect(on_state)
    await output.astart()
    await asyncio.wait_for(live.wait(), WAIT)
    return output


async def feed(output: WhipOutput, count: int) -> None:
    """``count`` Opus frames at the source's own 20 ms clock."""
    for i in range(count):
        output.put(EncodedPacket("audio", opus_frame(i), i * 960, TB, True))
        await asyncio.sleep(0.02)


def ingest_audio_transceiver(relay: RelayServer) -> Any:
    ingest = relay.streams["live"].ingest
    assert ingest is not None
    return next(t for t in ingest.pc.getTransceivers() if t.kind == "audio")


def test_whip_negotiates_red_with_a_server_that_answers_it(net: NetLoop) -> None:
    async def scenario() -> None:
        relay = RelayServer(audio_red=True)
        await relay.start()
        try:
            output = await go_live(net, relay, audio_red=True)
            try:
                assert output.audio_red is not None and output.audio_red.active
                codecs = ingest_audio_transceiver(relay)._codecs
                assert codecs[0].mimeType.lower() == "audio/red"
                opus = next(c for c in codecs if c.mimeType.lower() == "audio/opus")
                assert codecs[0].parameters == {f"{opus.payloadType}/{opus.payloadType}": None}
            finally:
                await output.astop()
        finally:
            await relay.stop()

    net.run(scenario(), 60)


def test_whip_sends_plain_opus_to_a_server_that_does_not_answer_red(net: NetLoop) -> None:
    async def scenario() -> None:
        relay = RelayServer(audio_red=False)  # answers Opus only, as a third-party server would
        await relay.start()
        try:
            output = await go_live(net, relay, audio_red=True)  # ... though the studio offers RED
            try:
                assert output.audio_red is not None and not output.audio_red.active
                codecs = ingest_audio_transceiver(relay)._codecs
                assert [c.mimeType.lower() for c in codecs] == ["audio/opus"]
                arrivals = Arrivals(ingest_audio_transceiver(relay).receiver.transport)
                viewer = await open_audio_viewer(relay.url("/whep/live"), red=True)
                try:
                    assert "red/48000" not in viewer.answer  # RED is off on this relay
                    feeding = asyncio.create_task(feed(output, 20))
                    await viewer.wait_for(lambda got: len(got) >= 10)
                    await feeding
                    assert set(arrivals.payload_types) == {opus.payloadType for opus in codecs}
                finally:
                    await viewer.close()
            finally:
                await output.astop()
        finally:
            await relay.stop()

    net.run(scenario(), 60)


def test_the_relay_recovers_ingest_loss_and_forwards_red_only_to_viewers_that_take_it(net: NetLoop) -> None:
    async def scenario() -> None:
        relay = RelayServer(audio_red=True)
        await relay.start()
        try:
            output = await go_live(net, relay, audio_red=True)
            assert output.audio_red is not None and output.audio_red.active
            output.audio_red.policy = always(2)
            red_viewer = await open_audio_viewer(relay.url("/whep/live"), red=True)
            plain_viewer = await open_audio_viewer(relay.url("/whep/live"), red=False)
            try:
                assert "red/48000/2" in red_viewer.answer and "red/" not in plain_viewer.answer
                states = {v.red.active: v.red for v in relay.streams["live"].viewers.values() if v.red is not None}
                assert set(states) == {True, False}
                states[True].policy = always(2)
                # every 5th packet lost on the studio's uplink, every 4th on the RED viewer's downlink
                uplink = Arrivals(ingest_audio_transceiver(relay).receiver.transport,
                                  lambda k: k % 5 == 3 and k < FRAMES - 5)
                downlink = Arrivals(red_viewer.receiver.transport, lambda k: k % 4 == 2 and k < FRAMES - 5)
                plain = Arrivals(plain_viewer.receiver.transport)
                await feed(output, FRAMES)
                everything = list(range(FRAMES))
                await red_viewer.wait_for(lambda got: got[-1:] == [FRAMES - 1])
                await plain_viewer.wait_for(lambda got: got[-1:] == [FRAMES - 1])
                assert uplink.dropped >= 10 and downlink.dropped >= 10
                # the relay recovered the uplink's losses for both; the RED viewer its own too
                assert plain_viewer.indexes() == everything
                assert red_viewer.indexes() == everything
                red_pt = int(red_viewer.answer.split("red/48000/2")[0].rsplit("a=rtpmap:", 1)[1].split()[0])
                assert set(downlink.payload_types) == {red_pt}
                assert red_pt not in set(plain.payload_types) and len(set(plain.payload_types)) == 1
            finally:
                await red_viewer.close()
                await plain_viewer.close()
                await output.astop()
        finally:
            await relay.stop()

    net.run(scenario(), 90)


def test_a_sender_and_receiver_pair_recovers_dropped_packets_from_redundancy(net: NetLoop) -> None:
    """No relay: one RED sender, one pass-through receiver, two packets in a row lost now and then."""

    async def scenario() -> None:
        loopback.enable()
        passthrough.install()
        sender_pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        receiver_pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        track = EncodedPacketTrack("audio", max_queue=100)
        out = sender_pc.addTransceiver(track, direction="sendonly")
        out.setCodecPreferences(audio_red.opus_red_preferences())
        state = audio_red.attach_sender(out.sender)
        state.policy = always(2)
        into = receiver_pc.addTransceiver("audio", direction="recvonly")
        passthrough.use_fast_release(into.receiver, "audio")
        viewer = AudioViewer(receiver_pc, into.receiver)
        try:
            await sender_pc.setLocalDescription(await sender_pc.createOffer())
            await receiver_pc.setRemoteDescription(sender_pc.localDescription)
            assert audio_red.pin_red(into, sender_pc.localDescription.sdp)
            passthrough.make_passthrough(into.receiver)
            await receiver_pc.setLocalDescription(await receiver_pc.createAnswer())
            lost = {5, 6, 20, 33, 34}
            arrivals = Arrivals(into.receiver.transport, lambda k: k in lost)
            await sender_pc.setRemoteDescription(receiver_pc.localDescription)

            async def pull() -> None:
                incoming = into.receiver.track
                try:
                    while True:
                        packet = await incoming.recv()
                        viewer.frames.append(bytes(packet))  # type: ignore[arg-type]
                        viewer.arrived.set()
                except MediaStreamError:
                    pass

            viewer.task = asyncio.create_task(pull())
            for i in range(40):
                packet = EncodedPacket("audio", opus_frame(i), i * 960, TB, True).to_av()
                assert track.push(packet)
                await asyncio.sleep(0.02)
            await viewer.wait_for(lambda got: got[-1:] == [39])
            assert arrivals.dropped == len(lost)
            assert viewer.indexes() == list(range(40))
            assert state.active and state.redundant_bytes > 0
        finally:
            await viewer.close()
            await sender_pc.close()

    net.run(scenario(), 60)


# Runs before the page's scripts: keep the page's RTCPeerConnection, to read its stats.
_PC_HOOK = """
(() => {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  function Hooked(...args) { const pc = new Native(...args); window.__pcs.push(pc); return pc; }
  Hooked.prototype = Native.prototype;
  Object.setPrototypeOf(Hooked, Native);
  window.RTCPeerConnection = Hooked;
})();
"""

_AUDIO_STATS = """
async () => {
  const report = await window.__pcs[window.__pcs.length - 1].getStats();
  let audio = null; const codecs = {};
  report.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'audio') audio = s;
    if (s.type === 'codec') codecs[s.id] = s.mimeType;
  });
  return audio && {packets: audio.packetsReceived, samples: audio.totalSamplesReceived,
                   energy: audio.totalAudioEnergy, concealed: audio.concealedSamples,
                   codec: codecs[audio.codecId] || null};
}
"""


def test_chromium_viewer_page_negotiates_red_and_recovers_losses_from_it(net: NetLoop, browser: Any) -> None:
    """Debian's Chromium with the project's usual switches only (``studio.chromium``): no field trial.
    Every 5th audio packet to it is lost; with two copies in each packet it conceals almost nothing."""
    from studio.webrtc.synthetic import SyntheticH264, SyntheticPump

    relay = RelayServer(audio_red=True)
    net.run(relay.start())
    video, audio = SyntheticH264(320, 240, 15), SyntheticOpus()
    video.encode_next()
    output = WhipOutput(WhipConfig(url=relay.url("/whip/live"), video=video.stream_info(),
                                   audio=audio.stream_info()), net, on_keyframe_request=video.request_keyframe)
    pump = SyntheticPump(video, output, audio)
    pump.start()
    output.start()
    page = None
    dropped: list[int] = []
    try:
        page = browser.new_page()
        page.add_init_script(_PC_HOOK)
        page.goto(relay.url("/view/live"))
        page.wait_for_function("window.viewerState.state === 'live'", timeout=WAIT * 1000)
        answer = page.evaluate("window.viewerState.answer")
        assert "a=rtpmap:63 red/48000/2" in answer and "a=fmtp:63 111/111" in answer  # Chromium's numbers

        async def lossy_viewer_leg() -> Any:
            viewers = list(relay.streams["live"].viewers.values())
            assert len(viewers) == 1 and viewers[0].red is not None and viewers[0].red.active
            sender = next(t.sender for t in viewers[0].pc.getTransceivers() if t.kind == "audio")
            transport = sender.transport
            send = transport._send_rtp
            seen = [0]

            async def lossy(data: bytes) -> None:
                if not is_rtcp(data) and RtpPacket.parse(data).ssrc == sender._ssrc:
                    seen[0] += 1
                    if seen[0] % 5 == 0:
                        dropped.append(seen[0])
                        return
                await send(data)

            transport._send_rtp = lossy  # type: ignore[method-assign]
            return viewers[0].red

        async def set_distance(distance: int) -> None:
            state.policy = always(distance)

        page.wait_for_function("document.getElementById('video').videoWidth > 0", timeout=WAIT * 1000)
        state = net.run(lossy_viewer_leg())
        page.evaluate(f"setInterval(async () => {{ window.__audio = await ({_AUDIO_STATS})(); }}, 200)")
        page.wait_for_function("window.__audio", timeout=WAIT * 1000)
        concealed_share = {}
        for distance in (0, 2):  # side by side: the same loss without copies, then with two in each packet
            net.run(set_distance(distance))
            first = page.evaluate("window.__audio")
            page.wait_for_function(f"window.__audio.packets > {first['packets'] + 150}", timeout=WAIT * 1000)
            stats = page.evaluate("window.__audio")
            samples = stats["samples"] - first["samples"]
            concealed_share[distance] = (stats["concealed"] - first["concealed"]) / samples
        assert len(dropped) >= 60 and state.redundant_bytes > 0
        # 20 % of the packets lost: without copies Chromium conceals, with them the sound comes from RED
        assert concealed_share[0] > 0 and concealed_share[2] < concealed_share[0] / 2, concealed_share
    finally:
        if page is not None:
            page.close()
        pump.stop()
        output.stop()
        net.run(relay.stop())


def test_reported_loss_turns_the_redundancy_on(net: NetLoop) -> None:
    """A clean link pays nothing; 20 % loss on the uplink (audio and video) brings two copies per packet."""
    from studio.webrtc.synthetic import SyntheticH264, SyntheticPump

    relay = RelayServer(audio_red=True)
    net.run(relay.start())
    video, audio = SyntheticH264(320, 240, 15), SyntheticOpus()
    video.encode_next()
    output = WhipOutput(WhipConfig(url=relay.url("/whip/live"), video=video.stream_info(),
                                   audio=audio.stream_info()), net, on_keyframe_request=video.request_keyframe)
    live = threading.Event()
    output.state_changed.connect(lambda s: live.set() if s.state == OutputStatus.LIVE else None)
    pump = SyntheticPump(video, output, audio)
    pump.start()
    output.start()
    try:
        assert live.wait(WAIT)
        state = output.audio_red
        assert state is not None and state.active and state.policy.distance == 0
        reached = threading.Event()
        update = state.policy.update

        def watched(loss_pct: float, now: float, rtt_s: float | None = None) -> int:
            distance = update(loss_pct, now, rtt_s)
            if distance == 2:
                reached.set()
            return distance

        state.policy.update = watched  # type: ignore[method-assign]

        async def lossy_uplink() -> None:
            ingest = relay.streams["live"].ingest
            assert ingest is not None
            Arrivals(ingest.receivers["video"].transport, lambda k: k % 5 == 0)

        net.run(lossy_uplink())
        assert reached.wait(WAIT)
    finally:
        pump.stop()
        output.stop()
        net.run(relay.stop())
