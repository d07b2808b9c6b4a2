"""Bitrate changes without an IDR (libx264 reconfigures live), renditions of a smaller size or
frame rate from the same pictures, and the restart path kept for encoders that cannot reconfigure.
Real libx264 through PyAV; rates are measured from the packets (one second of frames)."""

from __future__ import annotations

import threading
from fractions import Fraction
from functools import partial
from typing import Any

import av
import pytest

from encoders import probe
from encoders.colorspace import I420Buffer
from encoders.packets import EncodedPacket
from encoders.settings import VideoEncoderSettings
from encoders.video import VideoEncoder, VideoEncoderWorker
from studio.bench.encode import moving_card

W, H = 320, 180


def settings(**overrides: Any) -> VideoEncoderSettings:
    return VideoEncoderSettings(**{"encoder": "libx264", "width": W, "height": H, "fps": 30, **overrides})


def encode(encoder: VideoEncoder, first: int, count: int, hooks: Any = None) -> list[EncodedPacket]:
    picture = I420Buffer(W, H)
    out: list[EncodedPacket] = []
    for i in range(first, first + count):
        if hooks is not None:
            hooks(i)
        picture.fill_from_bgra(moving_card(W, H, i))
        out.extend(encoder.encode(picture, i))
    return out


def kbps(packets: list[EncodedPacket], first: int, last: int) -> float:
    chosen = [p for p in packets if first <= p.pts < last]
    return sum(len(p.data) for p in chosen) * 8 / 1000 * 30 / (last - first)


def keyframes(packets: list[EncodedPacket]) -> list[int]:
    return [p.pts for p in packets if p.keyframe]


def test_libx264_options_leave_out_nal_hrd_so_vbv_can_change() -> None:
    opts = probe.codec_options("libx264", settings())
    assert "nal-hrd" not in opts["x264-params"] and opts["maxrate"] == opts["bufsize"] == "5000k"


def test_a_cut_applies_live_and_exactly_from_the_next_scheduled_keyframe_without_an_extra_one() -> None:
    encoder = VideoEncoder(settings(bitrate_kbps=1200))
    applied_at: list[int] = []

    def cut(i: int) -> None:
        if i == 105:
            encoder.set_bitrate(700)
        if i == 106:
            applied_at.append(encoder.settings.bitrate_kbps)  # frame 105 ran at the new rate

    packets = encode(encoder, 0, 240, hooks=cut)
    packets += encoder.flush()
    assert keyframes(packets) == list(range(0, 240, 30))  # the GOP's own keyframes only
    assert applied_at == [700] and encoder.live_changes == 1
    assert encoder.reopens == 1  # the VBV was resized on frame 120, an IDR anyway
    before, after = kbps(packets, 30, 105), kbps(packets, 120, 240)
    assert before == pytest.approx(1200, rel=0.2) and after == pytest.approx(700, rel=0.2)
    assert [p.pts for p in packets] == list(range(240))


def test_a_rise_beyond_the_opened_vbv_waits_for_the_scheduled_keyframe() -> None:
    encoder = VideoEncoder(settings(bitrate_kbps=400))
    packets = encode(encoder, 0, 180, hooks=lambda i: encoder.set_bitrate(900) if i == 45 else None)
    packets += encoder.flush()
    assert keyframes(packets) == list(range(0, 180, 30))  # reopened on the keyframe at 60: no extra one
    assert encoder.reopens == 1 and encoder.settings.bitrate_kbps == 900
    assert kbps(packets, 0, 45) == pytest.approx(400, rel=0.2)
    assert kbps(packets, 60, 180) == pytest.approx(900, rel=0.2)
    assert [p.pts for p in packets] == list(range(180))


def test_a_keyframe_request_carries_a_pending_change_with_it() -> None:
    encoder = VideoEncoder(settings(bitrate_kbps=1600))

    def hooks(i: int) -> None:
        if i == 40:
            encoder.set_bitrate(500)
        if i == 45:
            encoder.force_keyframe()  # a viewer's PLI: the reopen rides on this IDR

    packets = encode(encoder, 0, 150, hooks=hooks)
    assert keyframes(packets) == [0, 30, 45, 75, 105, 135]
    assert encoder.live_changes == 1 and encoder.reopens == 1
    assert kbps(packets, 45, 150) == pytest.approx(500, rel=0.2)


class StubbornHardware:
    """A real libx264 context under a hardware encoder's name (its wrapper cannot reconfigure)."""

    def __init__(self, settings: VideoEncoderSettings) -> None:
        self._ctx = probe.open_codec_context("libx264", probe.settings_for("libx264", settings))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "_ctx":
            object.__setattr__(self, name, value)
        else:
            setattr(self._ctx, name, value)


def test_encoders_that_cannot_reconfigure_still_restart_at_an_idr(monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = probe.open_codec_context

    def fake_open(name: str, s: VideoEncoderSettings) -> Any:
        return StubbornHardware(s) if name == "h264_vaapi" else real_open(name, s)

    monkeypatch.setattr(probe, "open_codec_context", fake_open)
    encoder = VideoEncoder(settings(encoder="h264_vaapi", bitrate_kbps=1000))
    assert encoder.name == "h264_vaapi"
    packets = encode(encoder, 0, 60, hooks=lambda i: encoder.set_bitrate(400) if i == 10 else None)
    assert 10 in keyframes(packets) and encoder.reopens == 1 and encoder.live_changes == 0


class Collect:
    def __init__(self, want: int) -> None:
        self.packets: list[EncodedPacket] = []
        self.want = want
        self.done = threading.Event()
        self._lock = threading.Lock()

    def put(self, packet: EncodedPacket) -> None:
        with self._lock:
            self.packets.append(packet)
            if len(self.packets) >= self.want:
                self.done.set()


def test_a_rendition_worker_scales_the_main_pictures_and_halves_the_frame_rate() -> None:
    main_sink, low_sink = Collect(60), Collect(15)
    main = VideoEncoderWorker(settings(width=640, height=360, bitrate_kbps=800), main_sink)
    low = VideoEncoderWorker(settings(bitrate_kbps=300), low_sink, thread_name="enc-video-low", source_fps=30)
    low.set_rendition(W, H, 15)
    main.start()
    low.start()
    main.set_tap("low", low.submit_picture)
    try:
        for i in range(60):
            frame = moving_card(640, 360, i)
            while not main.submit(frame, i):  # the queue is full: wait for the encoder (no sleeps)
                main_sink.done.wait(0.005)
        assert main_sink.done.wait(60) and low_sink.done.wait(60)
    finally:
        main.stop()
        low.stop()
    decoder = av.CodecContext.create("h264", "r")
    low_frames = [f for p in low_sink.packets for f in decoder.decode(av.Packet(p.data))]  # type: ignore[arg-type]
    assert {(f.width, f.height) for f in low_frames} == {(W, H)}
    assert {p.time_base for p in low_sink.packets} == {Fraction(1, 15)}
    # the same instant in both renditions: source frame 2k is rendition frame k
    assert [p.pts for p in low_sink.packets][:10] == list(range(10))
    assert {(p.pts * p.time_base) for p in low_sink.packets} <= {(p.pts * p.time_base) for p in main_sink.packets}
    main_decoder = av.CodecContext.create("h264", "r")
    main_frames = [f for p in main_sink.packets for f in main_decoder.decode(av.Packet(p.data))]  # type: ignore[arg-type]
    assert {(f.width, f.height) for f in main_frames} == {(640, 360)}  # the main rendition keeps its size


def test_a_rendition_change_reopens_at_the_new_size_with_an_idr() -> None:
    encoder = VideoEncoder(settings(width=640, height=360, bitrate_kbps=600))
    big, small = I420Buffer(640, 360), I420Buffer(W, H)
    packets: list[EncodedPacket] = []
    for i in range(20):
        big.fill_from_bgra(moving_card(640, 360, i))
        if i < 10:
            packets += encoder.reshape(640, 360, 30) + encoder.encode(big, i)
        else:
            small.fill_scaled_from(big)
            packets += encoder.reshape(W, H, 30) + encoder.encode(small, i)
    packets += encoder.flush()
    assert keyframes(packets) == [0, 10] and encoder.reopens == 1
    decoder = av.CodecContext.create("h264", "r")
    sizes = [(f.width, f.height) for p in packets for f in decoder.decode(av.Packet(p.data))]  # type: ignore[arg-type]
    assert sizes[:10] == [(640, 360)] * 10 and set(sizes[10:]) == {(W, H)}
    assert encoder.stream_info.width == W


def test_a_paused_worker_still_feeds_its_tap_and_resumes_on_a_keyframe() -> None:
    sink = Collect(10**6)
    tapped: list[int] = []
    fed = threading.Condition()

    def tap(picture: I420Buffer, pts: int, capture_ns: int) -> None:
        with fed:
            tapped.append(pts)
            fed.notify_all()

    worker = VideoEncoderWorker(settings(bitrate_kbps=300), sink)
    worker.start()
    worker.set_tap("test", tap)

    def feed(first: int, count: int) -> None:
        for i in range(first, first + count):
            while not worker.submit(moving_card(W, H, i), i):
                with fed:
                    fed.wait(0.01)
            with fed:
                assert fed.wait_for(partial(list.__contains__, tapped, i), 30)

    try:
        feed(0, 40)
        worker.set_paused(True)
        feed(40, 20)
        worker.set_paused(False)
        feed(60, 10)
    finally:
        worker.stop()
    pts = [p.pts for p in sink.packets]
    assert tapped == list(range(70))
    assert not any(40 <= t < 60 for t in pts)  # tapped but not encoded while paused
    resumed = [p for p in sink.packets if p.pts >= 60]
    assert resumed and resumed[0].keyframe and resumed[0].pts == 60
