"""Two real aiortc peers on 127.0.0.1 with packet-level loss in between, for the loss tests.

The sender is set up as the studio's WHIP output sets up its video (``EncodedPacketTrack`` +
``sender_setup.prepare_video_sender``); the receiver as the relay sets up an ingest (pass-through,
marker release with NACK retries, keyframe requests to a callback). :class:`DropShim` sits in
front of the receiver's DTLS transport (after decryption): it sees every RTP packet, original or
RTX, and drops the ones a test chooses, as a lossy network would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpReceiver, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcconfiguration import RTCBundlePolicy
from aiortc.rtp import RtpPacket

from studio.webrtc import loopback, passthrough
from studio.webrtc.codecs import h264_preferences
from studio.webrtc.nack_retry import NackRetry
from studio.webrtc.packet_track import EncodedPacketTrack
from studio.webrtc.passthrough import MarkerJitterBuffer
from studio.webrtc.rtp_history import RetransmitCounters
from studio.webrtc.sender_setup import prepare_video_sender

WAIT = 30.0
FRAME_S = 1 / 30


@dataclass
class Seen:
    seq: int  # the original sequence number (an RTX packet's OSN)
    rtx: bool
    dropped: bool


class DropShim:
    """Drops chosen RTP packets on arrival. ``decide(seq, rtx, copy)`` -> True to drop, where
    ``copy`` counts the arrivals of that sequence number so far (0: the first transmission)."""

    def __init__(self, transport: Any, media_ssrc: int, rtx_ssrc: int) -> None:
        self.decide: Callable[[int, bool, int], bool] = lambda seq, rtx, copy: False
        self.seen: list[Seen] = []
        self.changed = asyncio.Event()
        self._copies: dict[int, int] = {}
        self._media, self._rtx = media_ssrc, rtx_ssrc
        original = transport._handle_rtp_data

        async def handle(data: bytes, arrival_time_ms: int) -> None:
            packet = RtpPacket.parse(data)
            if packet.ssrc in (self._media, self._rtx):
                rtx = packet.ssrc == self._rtx
                seq = int.from_bytes(packet.payload[:2], "big") if rtx else packet.sequence_number
                copy = self._copies.get(seq, 0)
                self._copies[seq] = copy + 1
                drop = self.decide(seq, rtx, copy)
                self.seen.append(Seen(seq, rtx, drop))
                self.changed.set()
                if drop:
                    return
            await original(data, arrival_time_ms)

        transport._handle_rtp_data = handle

    def media_seqs(self) -> list[int]:
        return [s.seq for s in self.seen if not s.rtx]

    def retransmitted(self, seq: int) -> int:
        return sum(1 for s in self.seen if s.rtx and s.seq == seq)

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        async def until() -> None:
            while not condition():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(until(), WAIT)


def frame(index: int, keyframe: bool, size: int) -> av.Packet:
    """An Annex B access unit whose bytes name the frame (digits never form a start code)."""
    body = (f"<{index:06d}>".encode() * (size // 8 + 1))[:size]
    nals = [b"\x67\x42\xe0\x1f" + body[:8], b"\x68\xce" + body[:4], b"\x65" + body] if keyframe else [b"\x41" + body]
    packet = av.Packet(b"".join(b"\x00\x00\x00\x01" + n for n in nals))
    packet.pts = packet.dts = index * 3000
    packet.time_base = Fraction(1, 90000)
    packet.is_keyframe = keyframe
    return packet


def frame_index(data: bytes) -> int:
    i = data.find(b"<")
    return int(data[i + 1 : i + 7])


def nal_payloads(annexb: bytes) -> list[bytes]:
    return [n.strip(b"\x00") for n in annexb.split(b"\x00\x00\x01") if n.strip(b"\x00")]


@dataclass
class LossyPair:
    sender_pc: RTCPeerConnection
    receiver_pc: RTCPeerConnection
    track: EncodedPacketTrack
    sender: RTCRtpSender
    receiver: RTCRtpReceiver
    counters: RetransmitCounters
    buffer: MarkerJitterBuffer
    shim: DropShim
    keyframe_requests: int = 0
    sent: dict[int, bytes] = field(default_factory=dict)  # frame index -> access unit
    received: list[bytes] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    keyframe_asked: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def nack(self) -> NackRetry:
        generator = getattr(self.receiver, "_RTCRtpReceiver__nack_generator")  # noqa: B009
        assert isinstance(generator, NackRetry)
        return generator

    def push(self, index: int, keyframe: bool = False, size: int = 3000) -> None:
        packet = frame(index, keyframe, size)
        self.sent[index] = bytes(packet)
        assert self.track.push(packet)

    async def play(self, first: int, count: int, size: int = 3000, key_at: int | None = None) -> None:
        """Frames ``first..first+count-1`` at 30 fps (the source's own clock)."""
        for i in range(first, first + count):
            self.push(i, keyframe=i == key_at, size=size)
            await asyncio.sleep(FRAME_S)

    def received_indexes(self) -> list[int]:
        return [frame_index(d) for d in self.received]

    async def wait_received(self, condition: Callable[[list[int]], bool]) -> None:
        async def until() -> None:
            while not condition(self.received_indexes()):
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(until(), WAIT)

    def assert_intact(self) -> None:
        """Every frame that came out is exactly one that went in: nothing broken was passed on."""
        for data in self.received:
            assert nal_payloads(data) == nal_payloads(self.sent[frame_index(data)])

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.sender_pc.close()
        await self.receiver_pc.close()


def _pc() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))


async def open_pair() -> LossyPair:
    loopback.enable()
    passthrough.install()
    sender_pc, receiver_pc = _pc(), _pc()
    track = EncodedPacketTrack("video", max_queue=64)
    out = sender_pc.addTransceiver(track, direction="sendonly")
    out.setCodecPreferences(h264_preferences("42e01f"))
    counters = prepare_video_sender(out.sender)
    into = receiver_pc.addTransceiver("video", direction="recvonly")
    caps = RTCRtpReceiver.getCapabilities("video")
    assert caps is not None
    into.setCodecPreferences([c for c in caps.codecs if c.mimeType.lower() in ("video/h264", "video/rtx")])
    box: list[LossyPair] = []

    def keyframe_needed() -> None:
        if box:
            box[0].keyframe_requests += 1
            box[0].keyframe_asked.set()

    buffer = passthrough.use_fast_release(into.receiver, "video", keyframe_needed)
    assert isinstance(buffer, MarkerJitterBuffer)
    await sender_pc.setLocalDescription(await sender_pc.createOffer())
    await receiver_pc.setRemoteDescription(sender_pc.localDescription)
    passthrough.make_passthrough(into.receiver)
    await receiver_pc.setLocalDescription(await receiver_pc.createAnswer())
    shim = DropShim(into.receiver.transport, out.sender._ssrc, out.sender._rtx_ssrc)
    await sender_pc.setRemoteDescription(
        RTCSessionDescription(sdp=receiver_pc.localDescription.sdp, type="answer")
    )
    pair = LossyPair(sender_pc, receiver_pc, track, out.sender, into.receiver, counters, buffer, shim)
    box.append(pair)

    async def pull() -> None:
        try:
            while True:
                packet = await into.receiver.track.recv()
                assert isinstance(packet, av.Packet)
                pair.received.append(bytes(packet))
                pair.arrived.set()
        except MediaStreamError:
            pass

    pair.tasks.append(asyncio.create_task(pull()))
    connected = asyncio.Event()

    def changed() -> None:
        if sender_pc.connectionState == "connected":
            connected.set()

    sender_pc.on("connectionstatechange", changed)
    if sender_pc.connectionState != "connected":
        await asyncio.wait_for(connected.wait(), WAIT)
    return pair
