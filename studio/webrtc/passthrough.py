"""Receivers that hand on encoded frames instead of decoding them, released on the marker bit.

Two adjustments to aiortc 1.16's ``RTCRtpReceiver``, both per receiver:

- Pass-through: aiortc decodes every received frame in a ``decoder_worker`` thread. The embedded
  relay only forwards, so :func:`make_passthrough` marks a receiver's track queue and our
  replacement worker (installed once by :func:`install`; it behaves exactly as aiortc's for
  unmarked receivers) turns each depayloaded frame into an ``av.Packet`` (Annex B for H.264,
  pts in the RTP clock) instead. Those packets go to viewers' senders, which ``pack()`` them.
- Marker release: aiortc's ``JitterBuffer`` releases a frame only when the *next* frame's first
  packet arrives (one frame of extra latency per hop, DESIGN.md latency table).
  :class:`MarkerJitterBuffer` releases on the RTP marker bit (last packet of a video frame) and
  still falls back to the timestamp change. Audio packets are whole frames:
  :class:`InOrderAudioBuffer` releases each one as it arrives, dropping late ones.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from fractions import Fraction
from typing import Any

import aiortc.rtcrtpreceiver as rtcrtpreceiver
import av
from aiortc import RTCRtpReceiver
from aiortc.codecs import get_decoder
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket
from aiortc.utils import uint16_gt

log = logging.getLogger(__name__)

_FLAG = "_studio_passthrough"
_NAL_IDR = 5


def h264_is_keyframe(annexb: bytes) -> bool:
    """True when an Annex B access unit holds an IDR slice."""
    i = annexb.find(b"\x00\x00\x01")
    while i != -1 and i + 3 < len(annexb):
        if annexb[i + 3] & 0x1F == _NAL_IDR:
            return True
        i = annexb.find(b"\x00\x00\x01", i + 3)
    return False


def to_packet(codec_name: str, clock_rate: int, frame: JitterFrame) -> av.Packet:
    packet = av.Packet(frame.data)
    packet.pts = frame.timestamp
    packet.dts = frame.timestamp
    packet.time_base = Fraction(1, clock_rate)
    packet.is_keyframe = h264_is_keyframe(frame.data) if codec_name.lower() == "h264" else True
    return packet


def _worker(
    loop: asyncio.AbstractEventLoop,
    input_q: queue.Queue[Any],
    output_q: asyncio.Queue[Any],
    decode_error: threading.Event,
) -> None:
    """aiortc's decoder_worker, plus the pass-through branch for marked receivers."""
    codec_name = None
    decoder = None
    while True:
        task = input_q.get()
        if task is None:
            asyncio.run_coroutine_threadsafe(output_q.put(None), loop)
            break
        codec, encoded_frame = task
        out: list[Any]
        if getattr(output_q, _FLAG, False):
            out = [to_packet(codec.name, codec.clockRate, encoded_frame)]
        else:
            if codec.name != codec_name:
                decoder = get_decoder(codec)
                codec_name = codec.name
            assert decoder is not None
            try:
                out = decoder.decode(encoded_frame)
            except av.FFmpegError as exc:
                log.warning("failed to decode %s frame: %s", codec.name, exc)
                decode_error.set()
                continue
        for item in out:
            asyncio.run_coroutine_threadsafe(output_q.put(item), loop)


def install() -> None:
    """Swap aiortc's decoder worker for ours (idempotent, process-wide)."""
    if rtcrtpreceiver.decoder_worker is not _worker:
        rtcrtpreceiver.decoder_worker = _worker


class MarkerJitterBuffer(JitterBuffer):
    """Video jitter buffer that releases a frame as soon as its marker-bit packet is in."""

    def __init__(self, capacity: int = 512) -> None:
        super().__init__(capacity=capacity, is_video=True)

    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        assert self._origin is not None
        packets: list[RtpPacket] = []
        timestamp: int | None = None
        for count in range(self.capacity):
            packet = self._packets[(self._origin + count) % self.capacity]
            if packet is None:
                return None
            if timestamp is None:
                timestamp = packet.timestamp
            elif packet.timestamp != timestamp:
                # the previous frame ended without a marker we saw: aiortc's own rule
                self.remove(count)
                return JitterFrame(b"".join(p._data for p in packets), timestamp)  # type: ignore[attr-defined]
            packets.append(packet)
            if packet.marker:
                self.remove(count + 1)
                return JitterFrame(b"".join(p._data for p in packets), timestamp)  # type: ignore[attr-defined]
        return None


class InOrderAudioBuffer(JitterBuffer):
    """Each audio RTP packet is one frame: release it at once unless it is late."""

    def __init__(self) -> None:
        super().__init__(capacity=16)
        self._last: int | None = None

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        if self._last is not None and not uint16_gt(packet.sequence_number, self._last):
            return False, None
        self._last = packet.sequence_number
        return False, JitterFrame(packet._data, packet.timestamp)  # type: ignore[attr-defined]


def use_fast_release(receiver: RTCRtpReceiver, kind: str) -> None:
    """Give ``receiver`` the low-latency buffer for its kind (before media arrives)."""
    buffer: JitterBuffer = MarkerJitterBuffer() if kind == "video" else InOrderAudioBuffer()
    setattr(receiver, "_RTCRtpReceiver__jitter_buffer", buffer)  # noqa: B010 (private name)


def make_passthrough(receiver: RTCRtpReceiver) -> None:
    """Make ``receiver.track.recv()`` return encoded ``av.Packet``s (after setRemoteDescription)."""
    install()
    track = receiver.track
    if track is None:
        raise ValueError("make_passthrough: the receiver has no track yet (call after setRemoteDescription)")
    setattr(track._queue, _FLAG, True)  # type: ignore[attr-defined]


__all__ = [
    "InOrderAudioBuffer",
    "MarkerJitterBuffer",
    "h264_is_keyframe",
    "install",
    "make_passthrough",
    "to_packet",
    "use_fast_release",
]
