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
- RED audio (``audio_red``): the worker turns each RED frame into the Opus frames it carries that
  were not released yet, so a lost packet comes back from the next one's redundancy.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import aiortc.rtcrtpreceiver as rtcrtpreceiver
import av
from aiortc import RTCRtpReceiver
from aiortc.codecs import get_decoder
from aiortc.jitterbuffer import MAX_MISORDER, JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket
from aiortc.utils import uint16_add, uint16_gt

from studio.webrtc import audio_red, internals, nack_retry, trace

log = logging.getLogger(__name__)

_FLAG = "_studio_passthrough"
# A packet this far behind the origin is a late one (dropped), not a restarted stream. aiortc's
# MAX_MISORDER (100) took the resends of an outage's packets, which the sender answers from its
# history (up to 4096 packets) after we gave up on them, for a restart: the origin went back to them
# and the buffer waited on holes nobody would fill any more until it overran 512 packets later
# (traced in blackout3: nothing published for 6 s after the outage, then frames 7-11 s old).
LATE_WINDOW = 8192  # twice the sender history's cap
# ...unless nothing has come at or after the origin for this long: then the stream did restart
RESTART_AFTER_S = 0.5
_NAL_IDR = 5


def send_pli(receiver: RTCRtpReceiver) -> bool:
    """Ask the sender behind ``receiver`` for a keyframe (one PLI to its first SSRC); False when it
    has sent nothing yet. Rate limits are the caller's."""
    sources = receiver.getSynchronizationSources()
    if not sources:
        return False
    asyncio.ensure_future(receiver._send_rtcp_pli(sources[0].source))
    return True


def h264_is_keyframe(annexb: bytes) -> bool:
    """True when an Annex B access unit holds an IDR slice."""
    i = annexb.find(b"\x00\x00\x01")
    while i != -1 and i + 3 < len(annexb):
        if annexb[i + 3] & 0x1F == _NAL_IDR:
            return True
        i = annexb.find(b"\x00\x00\x01", i + 3)
    return False


def vp8_is_keyframe(frame: bytes) -> bool:
    """True when a VP8 frame (RFC 6386 9.1: P bit clear, start code 9d 01 2a) is a key frame."""
    return len(frame) >= 10 and frame[0] & 0x01 == 0 and frame[3:6] == b"\x9d\x01\x2a"


def any_is_keyframe(frame: bytes) -> bool:
    """H.264 or VP8, for a receiver that accepts both (co-host guests): an Annex B access unit
    never carries VP8's start code at bytes 3-5, so the two tests cannot be confused."""
    return vp8_is_keyframe(frame) or h264_is_keyframe(frame)


def to_packet(codec_name: str, clock_rate: int, frame: JitterFrame) -> av.Packet:
    packet = av.Packet(frame.data)
    packet.pts = frame.timestamp
    packet.dts = frame.timestamp
    packet.time_base = Fraction(1, clock_rate)
    name = codec_name.lower()
    packet.is_keyframe = (h264_is_keyframe(frame.data) if name == "h264"
                          else vp8_is_keyframe(frame.data) if name == "vp8" else True)
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
    red: audio_red.RedSplitter | None = None
    while True:
        task = input_q.get()
        if task is None:
            asyncio.run_coroutine_threadsafe(output_q.put(None), loop)
            break
        codec, encoded_frame = task
        frames = [encoded_frame]
        if audio_red.is_red(codec):  # Opus frames out of RED, lost ones recovered from redundancy
            if red is None or red.red_payload_type != codec.payloadType:
                red = audio_red.RedSplitter(codec)
            frames, codec = red.split(encoded_frame), red.opus
        out: list[Any] = []
        if getattr(output_q, _FLAG, False):
            out = [to_packet(codec.name, codec.clockRate, f) for f in frames]
        else:
            if codec.name != codec_name:
                decoder = get_decoder(codec)
                codec_name = codec.name
            assert decoder is not None
            try:
                for f in frames:
                    out.extend(decoder.decode(f))
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
    """Video jitter buffer that releases a frame as soon as its marker-bit packet is in.

    A hole the NACK module gives up on (:meth:`give_up`), a hole older than the buffer, or a
    stream that jumps back: the frames around it are dropped rather than passed on broken, and
    every frame after it is held back until a complete keyframe (a decoder cannot continue
    after a missing reference). Each held frame calls ``on_keyframe_needed`` (the relay's
    rate-limited PLI); without that callback aiortc's own PLI goes out instead.
    """

    def __init__(self, capacity: int = 512, on_keyframe_needed: Callable[[], None] | None = None,
                 is_keyframe: Callable[[bytes], bool] = h264_is_keyframe,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(capacity=capacity, is_video=True)
        self._clock = clock
        self._ahead_at = -1e9  # when a packet last came at or after the origin
        self._on_keyframe_needed = on_keyframe_needed
        self._is_keyframe = is_keyframe
        self._awaiting_keyframe = False
        self._at_frame_start = True  # the packet at the origin begins a frame
        self.frames_dropped = 0
        self.resyncs = 0

    @property
    def awaiting_keyframe(self) -> bool:
        return self._awaiting_keyframe

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        seq = packet.sequence_number
        if self._origin is None:
            self._origin = seq
        ahead = uint16_add(seq, -self._origin)
        pli = False
        now = self._clock()
        if ahead >= 0x8000:  # before the origin
            behind = uint16_add(self._origin, -seq)
            if behind < MAX_MISORDER or (behind < LATE_WINDOW and now - self._ahead_at < RESTART_AFTER_S):
                return False, None  # late: released, dropped or given up already
            self._clear(seq)  # the stream restarted behind us
            pli = self._lose_sync("restart")
        elif ahead >= self.capacity:  # a hole older than the buffer: move past it
            self._skip_to(uint16_add(seq, 1 - self.capacity))
            pli = self._lose_sync("overrun")
        self._ahead_at = now
        self._packets[seq % self.capacity] = packet
        return pli, self._next_frame()

    def give_up(self, sequence_numbers: list[int]) -> None:
        """Packets that will not come: skip past them and wait for a keyframe."""
        if self._origin is None:
            return
        latest = None
        for seq in sequence_numbers:
            ahead = uint16_add(seq, -self._origin)
            if ahead < self.capacity and (latest is None or ahead > latest):
                latest = ahead
        if latest is None:
            return
        self._skip_to(uint16_add(self._origin, latest + 1))
        self._lose_sync("give_up")

    def _clear(self, origin: int) -> None:
        self._packets = [None] * self.capacity
        self._origin = origin

    def _skip_to(self, origin: int) -> None:
        assert self._origin is not None
        while self._origin != origin:
            self._packets[self._origin % self.capacity] = None
            self._origin = uint16_add(self._origin, 1)

    def _lose_sync(self, reason: str) -> bool:
        """The frame at the origin may have lost its start; True: let aiortc send a PLI."""
        trace.event("jb_resync", reason=reason, awaiting=self._awaiting_keyframe)
        self._at_frame_start = False
        self._awaiting_keyframe = True
        self.resyncs += 1
        return self._ask_keyframe()

    def _ask_keyframe(self) -> bool:
        if self._on_keyframe_needed is None:
            return True
        self._on_keyframe_needed()
        return False

    def _next_frame(self) -> JitterFrame | None:
        while True:
            found = self._complete_run()
            if found is None:
                return None
            count, timestamp = found
            packets = [self._packets[(self._origin + i) % self.capacity] for i in range(count)]  # type: ignore[operator]
            self.remove(count)
            whole = self._at_frame_start
            self._at_frame_start = True  # a complete run ends at a marker or a timestamp change
            frame = JitterFrame(b"".join(p._data for p in packets), timestamp)  # type: ignore[union-attr]
            if not self._awaiting_keyframe:
                return frame
            if whole and self._is_keyframe(frame.data):
                self._awaiting_keyframe = False
                trace.event("jb_keyframe_resume", dropped=self.frames_dropped)
                return frame
            self.frames_dropped += 1
            self._ask_keyframe()

    def _complete_run(self) -> tuple[int, int] | None:
        """(packets, timestamp) of the frame at the origin once it is complete."""
        if self._origin is None:
            return None
        timestamp: int | None = None
        for count in range(self.capacity):
            packet = self._packets[(self._origin + count) % self.capacity]
            if packet is None:
                return None
            if timestamp is None:
                timestamp = packet.timestamp
            elif packet.timestamp != timestamp:
                return count, timestamp  # the frame ended without a marker we saw: aiortc's rule
            if packet.marker:
                return count + 1, timestamp
        return None


class InOrderAudioBuffer(JitterBuffer):
    """Each audio RTP packet is one frame: release it at once. A packet overtaken by later ones
    is still released when it is at most ``reorder_window`` packets late (the receiver's playout
    buffer sorts by timestamp and still has room for it); duplicates and older ones are dropped."""

    def __init__(self, reorder_window: int = 8) -> None:
        super().__init__(capacity=16)
        self._last: int | None = None
        self._window = reorder_window
        self._released: set[int] = set()

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        seq = packet.sequence_number
        if self._last is not None and not uint16_gt(seq, self._last):
            if uint16_add(self._last, -seq) > self._window or seq in self._released:
                return False, None
        else:
            self._last = seq
        self._released.add(seq)
        for old in [s for s in self._released if uint16_add(self._last, -s) > self._window]:
            self._released.discard(old)
        return False, JitterFrame(packet._data, packet.timestamp)  # type: ignore[attr-defined]


def use_fast_release(
    receiver: RTCRtpReceiver, kind: str, on_keyframe_needed: Callable[[], None] | None = None,
    is_keyframe: Callable[[bytes], bool] = h264_is_keyframe,
) -> MarkerJitterBuffer | InOrderAudioBuffer:
    """Give ``receiver`` the low-latency buffer for its kind (before media arrives). Video also
    gets NACK retries with a time limit (``nack_retry``); broken frames are dropped and
    ``on_keyframe_needed`` asked for a keyframe (aiortc's own PLI when None). ``is_keyframe``:
    how a whole frame is recognised as a keyframe (H.264 by default; ``any_is_keyframe`` for
    a receiver that may get VP8)."""
    buffer: MarkerJitterBuffer | InOrderAudioBuffer
    if kind == "video":
        buffer = MarkerJitterBuffer(on_keyframe_needed=on_keyframe_needed, is_keyframe=is_keyframe)
        nack_retry.attach(receiver, buffer.give_up)
    else:
        buffer = InOrderAudioBuffer()
    setattr(receiver, internals.RECEIVER_JITTER_BUFFER, buffer)
    return buffer


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
    "any_is_keyframe",
    "h264_is_keyframe",
    "install",
    "make_passthrough",
    "to_packet",
    "use_fast_release",
    "vp8_is_keyframe",
]
