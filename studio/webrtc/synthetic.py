"""A real-time synthetic H.264 (+ Opus) packet source for tests, benchmarks and relay checks.

Encodes a moving test picture with PyAV libx264 the way the studio's encoder does for WebRTC
(zerolatency, no B-frames, Annex B with SPS/PPS before every IDR) and hands ``EncodedPacket``s
to a ``PacketSink`` from a named thread, paced by absolute deadlines. ``request_keyframe()`` is
what a WHIP output's ``on_keyframe_request`` calls.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from fractions import Fraction

import av
import numpy as np

from encoders.packets import EncodedPacket, PacketSink, StreamInfo

VIDEO_TB = Fraction(1, 90000)
AUDIO_TB = Fraction(1, 48000)


def profile_level_id(annexb: bytes) -> str | None:
    """profile-level-id (six hex digits) from the first SPS in an Annex B buffer."""
    i = annexb.find(b"\x00\x00\x01")
    while i != -1 and i + 6 < len(annexb):
        if annexb[i + 3] & 0x1F == 7:
            return annexb[i + 4 : i + 7].hex()
        i = annexb.find(b"\x00\x00\x01", i + 3)
    return None


def low_latency_h264(width: int, height: int, fps: int, bitrate: int, gop: int) -> av.VideoCodecContext:
    """libx264 as browsers and our encoder send it over WebRTC: baseline, no B-frames, zerolatency,
    Annex B with SPS/PPS before every IDR."""
    ctx = av.CodecContext.create("libx264", "w")
    assert isinstance(ctx, av.VideoCodecContext)
    ctx.width, ctx.height = width, height
    ctx.pix_fmt = "yuv420p"
    ctx.time_base = Fraction(1, fps)
    ctx.framerate = Fraction(fps, 1)
    ctx.bit_rate = bitrate
    ctx.max_b_frames = 0
    ctx.gop_size = gop
    ctx.profile = "Baseline"
    ctx.options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "x264-params": "repeat-headers=1:bframes=0:scenecut=0",
    }
    return ctx


def encode_picture(ctx: av.VideoCodecContext, frame: av.VideoFrame, index: int, keyframe: bool) -> list[av.Packet]:
    """One yuv420p picture into ``ctx`` as frame number ``index`` (an I-frame when asked)."""
    frame.pts = index
    frame.time_base = ctx.time_base
    if keyframe:
        frame.pict_type = av.video.frame.PictureType.I
    return list(ctx.encode(frame))


class SyntheticH264:
    """Encodes numbered test frames; ``encode_next()`` returns the packets for one frame."""

    def __init__(
        self,
        width: int = 320,
        height: int = 240,
        fps: int = 30,
        bitrate: int = 500_000,
        overlay: Callable[[np.ndarray, int], None] | None = None,
    ) -> None:
        if width % 2 or height % 2 or width <= 0 or height <= 0:
            raise ValueError(f"SyntheticH264: width/height must be positive and even, got {width}x{height}")
        if not 1 <= fps <= 120:
            raise ValueError(f"SyntheticH264: fps must be 1..120, got {fps}")
        self.width, self.height, self.fps = width, height, fps
        self._overlay = overlay  # draws into the HxWx3 picture before encoding (e.g. a time stamp)
        ctx = low_latency_h264(width, height, fps, bitrate, gop=fps)
        self._ctx = ctx
        self._index = 0
        self._force_key = False
        self.profile_level_id = ""
        self._base = np.zeros((height, width, 3), np.uint8)
        self._base[..., 0] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
        self._base[..., 1] = np.linspace(0, 255, height, dtype=np.uint8)[:, None]

    def request_keyframe(self) -> None:
        self._force_key = True

    def encode_next(self) -> list[EncodedPacket]:
        img = self._base.copy()
        x = (self._index * 4) % self.width
        img[:, x : x + 8, 2] = 255  # a moving bar so every frame differs
        if self._overlay is not None:
            self._overlay(img, self._index)
        frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
        packets = encode_picture(self._ctx, frame, self._index, self._force_key)
        self._force_key = False
        self._index += 1
        out = []
        for packet in packets:
            data = bytes(packet)
            if not self.profile_level_id:
                self.profile_level_id = profile_level_id(data) or ""
            assert packet.pts is not None
            out.append(
                EncodedPacket(
                    kind="video",
                    data=data,
                    pts=packet.pts * 90000 // self.fps,
                    time_base=VIDEO_TB,
                    keyframe=bool(packet.is_keyframe),
                    capture_ns=time.perf_counter_ns(),
                )
            )
        return out

    def stream_info(self) -> StreamInfo:
        if not self.profile_level_id:
            raise ValueError("SyntheticH264.stream_info(): encode one frame first")
        return StreamInfo(
            kind="video",
            codec="h264",
            time_base=VIDEO_TB,
            width=self.width,
            height=self.height,
            fps=self.fps,
            profile_level_id=self.profile_level_id,
        )


class SyntheticOpus:
    """20 ms Opus frames of a quiet tone."""

    def __init__(self) -> None:
        ctx = av.CodecContext.create("libopus", "w")
        assert isinstance(ctx, av.AudioCodecContext)
        ctx.sample_rate = 48000
        ctx.layout = "stereo"
        ctx.format = "s16"
        ctx.bit_rate = 64000
        ctx.time_base = AUDIO_TB
        ctx.options = {"application": "lowdelay", "frame_duration": "20"}
        self._ctx = ctx
        self._pts = 0
        t = np.arange(960) / 48000
        tone = (np.sin(2 * np.pi * 440 * t) * 3000).astype(np.int16)
        self._samples = np.repeat(tone[None, :], 2, axis=0).T.reshape(1, -1).copy()

    def encode_next(self) -> list[EncodedPacket]:
        frame = av.AudioFrame.from_ndarray(self._samples, format="s16", layout="stereo")
        frame.sample_rate = 48000
        frame.pts = self._pts
        frame.time_base = AUDIO_TB
        self._pts += 960
        out = []
        for packet in self._ctx.encode(frame):
            assert packet.pts is not None
            out.append(
                EncodedPacket("audio", bytes(packet), packet.pts, AUDIO_TB, True, time.perf_counter_ns())
            )
        return out

    @staticmethod
    def stream_info() -> StreamInfo:
        return StreamInfo(kind="audio", codec="opus", time_base=AUDIO_TB, sample_rate=48000, channels=2)


class SyntheticPump:
    """Feeds ``sink`` with synthetic video (and optionally audio) in real time from one thread."""

    def __init__(self, video: SyntheticH264, sink: PacketSink, audio: SyntheticOpus | None = None) -> None:
        self.video, self.audio, self._sink = video, audio, sink
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames = 0
        self.on_frame: Callable[[int], None] | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="synthetic-pump", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        period = 1_000_000_000 // self.video.fps
        audio_period = 20_000_000
        next_video = next_audio = time.perf_counter_ns()
        while not self._stop.is_set():
            now = time.perf_counter_ns()
            if now >= next_video:
                for packet in self.video.encode_next():
                    self._sink.put(packet)
                self.frames += 1
                next_video += period
            if self.audio is not None and now >= next_audio:
                for packet in self.audio.encode_next():
                    self._sink.put(packet)
                next_audio += audio_period
            deadline = min(next_video, next_audio) if self.audio is not None else next_video
            self._stop.wait(max(0, deadline - time.perf_counter_ns()) / 1e9)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
