"""A synthetic co-host guest for tests and ``studio bench cohost``: real PyAV-encoded packets.

:class:`SyntheticGuestVideo` encodes pictures (H.264 the way a browser sends it over WebRTC:
baseline, no B-frames, Annex B; or VP8 realtime) and :class:`SyntheticGuestAudio` encodes 20 ms
Opus packets of any samples; both return :class:`GuestPacket` s as the relay's ingest delivers them.
:class:`InProcessGuestLink` is a :class:`GuestLink` whose packets come from the caller instead of
a browser: it records keyframe requests and the return feed's packets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from fractions import Fraction
from typing import Literal, cast

import av
import numpy as np

from studio.services.guest_link import GuestEndReason, GuestMediaSink, GuestPacket
from studio.webrtc.synthetic import encode_picture, low_latency_h264

VIDEO_TB = Fraction(1, 90000)
AUDIO_TB = Fraction(1, 48000)
OPUS_FRAME = 960


class SyntheticGuestVideo:
    """Encodes BGR pictures (``draw(index) -> HxWx3``) as one guest's camera would send them."""

    def __init__(self, codec: Literal["h264", "vp8"], width: int, height: int, fps: int = 30,
                 bitrate: int = 2_000_000, gop: int | None = None) -> None:
        self.codec: Literal["h264", "vp8"] = codec
        self.width, self.height, self.fps = width, height, fps
        gop_size = gop or fps * 2
        if codec == "h264":
            ctx = low_latency_h264(width, height, fps, bitrate, gop_size)
        else:
            ctx = cast(av.VideoCodecContext, av.CodecContext.create("libvpx", "w"))
            ctx.width, ctx.height = width, height
            ctx.pix_fmt = "yuv420p"
            ctx.time_base = Fraction(1, fps)
            ctx.framerate = Fraction(fps, 1)
            ctx.bit_rate = bitrate
            ctx.gop_size = gop_size
            ctx.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0", "error-resilient": "1"}
        self._ctx = ctx
        self._index = 0
        self._force_key = False

    def request_keyframe(self) -> None:
        self._force_key = True

    def encode(self, bgr: np.ndarray) -> list[GuestPacket]:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(bgr), format="bgr24").reformat(format="yuv420p")
        packets = encode_picture(self._ctx, frame, self._index, self._force_key)
        self._force_key = False
        self._index += 1
        out = []
        for packet in packets:
            # as the depayloader hands it on: 90 kHz pts, the time base set
            pts = (packet.pts or 0) * 90000 // self.fps
            copy = av.Packet(bytes(packet))
            copy.pts = copy.dts = pts
            copy.time_base = VIDEO_TB
            out.append(GuestPacket("video", self.codec, copy))
        return out


class SyntheticGuestAudio:
    """Encodes 48 kHz stereo float samples into 20 ms Opus packets (a guest's microphone)."""

    def __init__(self) -> None:
        ctx = cast(av.AudioCodecContext, av.CodecContext.create("libopus", "w"))
        ctx.sample_rate = 48000
        ctx.layout = "stereo"
        ctx.format = "flt"
        ctx.bit_rate = 96000
        ctx.time_base = AUDIO_TB
        ctx.options = {"application": "lowdelay", "frame_duration": "20"}
        self._ctx = ctx
        self._pts = 0

    def encode(self, samples: np.ndarray) -> list[GuestPacket]:
        """``samples``: (960 * k, 2) float32."""
        out = []
        for start in range(0, len(samples) - OPUS_FRAME + 1, OPUS_FRAME):
            chunk = np.ascontiguousarray(samples[start:start + OPUS_FRAME], np.float32)
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="flt", layout="stereo")
            frame.sample_rate = 48000
            frame.pts = self._pts
            frame.time_base = AUDIO_TB
            self._pts += OPUS_FRAME
            for packet in self._ctx.encode(frame):
                copy = av.Packet(bytes(packet))
                copy.pts = copy.dts = self._pts
                copy.time_base = AUDIO_TB
                out.append(GuestPacket("audio", "opus", copy))
        return out


def decode_opus(packets: list[av.Packet]) -> np.ndarray:
    """A return feed's packets as (n, 2) float32 samples (for checks)."""
    ctx = cast(av.AudioCodecContext, av.CodecContext.create("opus", "r"))
    ctx.sample_rate = 48000
    ctx.layout = "stereo"
    parts = []
    for packet in packets:
        for frame in ctx.decode(packet):
            parts.append(frame.to_ndarray().T.astype(np.float32))  # fltp: (2, n) -> (n, 2)
    return np.concatenate(parts) if parts else np.zeros((0, 2), np.float32)


class InProcessGuestLink:
    """A :class:`GuestLink` fed by the caller (``deliver``) instead of the relay's ingest."""

    def __init__(self, guest_id: str, display_name: str, has_video: bool = True,
                 on_keyframe_request: Callable[[], None] | None = None) -> None:
        self._guest_id = guest_id
        self._name = display_name
        self._has_video = has_video
        self._sink: GuestMediaSink | None = None
        self._lock = threading.Lock()
        self._on_keyframe = on_keyframe_request
        self.keyframe_requests = 0
        self.returned: list[av.Packet] = []
        self.returned_changed = threading.Condition()

    @property
    def guest_id(self) -> str:
        return self._guest_id

    @property
    def display_name(self) -> str:
        return self._name

    @property
    def has_video(self) -> bool:
        return self._has_video

    @property
    def attached(self) -> bool:
        return self._sink is not None

    def attach(self, sink: GuestMediaSink) -> None:
        with self._lock:
            self._sink = sink

    def detach(self) -> None:
        with self._lock:
            self._sink = None

    def request_keyframe(self) -> None:
        self.keyframe_requests += 1
        if self._on_keyframe is not None:
            self._on_keyframe()

    def push_return_audio(self, packet: av.Packet) -> None:
        with self.returned_changed:
            self.returned.append(packet)
            self.returned_changed.notify_all()

    def wait_returned(self, count: int, timeout_s: float) -> bool:
        with self.returned_changed:
            return self.returned_changed.wait_for(lambda: len(self.returned) >= count, timeout_s)

    def deliver(self, packets: list[GuestPacket]) -> None:
        with self._lock:
            sink = self._sink
        if sink is not None:
            for packet in packets:
                sink.on_guest_packet(packet)

    def end(self, reason: GuestEndReason) -> None:
        with self._lock:
            sink, self._sink = self._sink, None
        if sink is not None:
            sink.on_guest_ended(reason)
