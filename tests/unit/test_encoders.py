"""Video/audio encoders: levels and profiles, real libx264 and Opus/AAC round trips, keyframes on
demand, live bitrate changes, and fallback to libx264 when a (stand-in) hardware encoder fails.

Hardware encoders cannot exist here; where a test needs one, ``open_codec_context`` is replaced
by a stand-in that either fails or wraps a real libx264 context under a hardware name. The code
that probes, chooses and falls back is the real one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import av
import numpy as np
import pytest

from encoders import probe
from encoders.audio import AudioEncoder, AudioEncoderWorker
from encoders.colorspace import I420Buffer, NV12Buffer
from encoders.h264 import (
    NAL_IDR,
    NAL_PPS,
    NAL_SPS,
    level_for,
    nal_types,
    parameter_sets,
    profile_level_id,
    sps_profile_level,
)
from encoders.packets import EncodedPacket
from encoders.settings import AudioEncoderSettings, VideoEncoderSettings
from encoders.video import FallbackEvent, VideoEncoder, VideoEncoderWorker
from studio.bench.encode import moving_card


def small(**overrides: Any) -> VideoEncoderSettings:
    """320x180@30: cheap enough for a 2-core machine, same code paths as 1080p."""
    return VideoEncoderSettings(**{"width": 320, "height": 180, "fps": 30, **overrides})


@pytest.fixture(autouse=True)
def _fresh_probe_cache() -> Iterator[None]:
    probe.clear_probe_cache()
    yield
    probe.clear_probe_cache()


class Collect:
    """A PacketSink that keeps everything and lets a test wait for a packet count."""

    def __init__(self) -> None:
        self.packets: list[EncodedPacket] = []
        self._cond = threading.Condition()

    def put(self, packet: EncodedPacket) -> None:
        with self._cond:
            self.packets.append(packet)
            self._cond.notify_all()

    def wait_for(self, count: int, timeout: float = 20.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self.packets) >= count, timeout)


def encode_frames(
    encoder: VideoEncoder, frames: int, w: int = 320, h: int = 180, start: int = 0, hooks: Any = None
):
    picture = I420Buffer(w, h)
    packets: list[EncodedPacket] = []
    for i in range(start, start + frames):
        if hooks is not None:
            hooks(i)
        picture.fill_from_bgra(moving_card(w, h, i))
        packets.extend(encoder.encode(picture, i))
    return packets


def decode_all(packets: list[EncodedPacket]) -> list[av.VideoFrame]:
    decoder = av.CodecContext.create("h264", "r")
    frames: list[av.VideoFrame] = []
    for p in packets:
        frames.extend(decoder.decode(av.Packet(p.data)))  # type: ignore[arg-type]
    frames.extend(decoder.decode(None))  # type: ignore[arg-type]
    return frames


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


# --- levels, profiles, settings -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "fps", "level"),
    [
        (640, 360, 30, "3.0"),
        (1280, 720, 30, "3.1"),
        (1280, 720, 60, "3.2"),
        (1920, 1080, 30, "4.0"),
        (1920, 1080, 60, "4.2"),
        (2560, 1440, 30, "5.0"),
        (2560, 1440, 60, "5.1"),
        (3840, 2160, 30, "5.1"),
        (3840, 2160, 60, "5.2"),
    ],
)
def test_level_table(width: int, height: int, fps: int, level: str) -> None:
    assert level_for(width, height, fps).name == level


def test_level_rises_with_bitrate_and_rejects_the_impossible() -> None:
    assert level_for(1920, 1080, 30, bitrate_kbps=30_000).name == "4.1"
    assert level_for(1920, 1080, 30, bitrate_kbps=22_000, profile="high").name == "4.0"  # High: 1.25x
    with pytest.raises(ValueError, match="no H.264 level"):
        level_for(16384, 16384, 120)
    with pytest.raises(ValueError, match="positive"):
        level_for(0, 1080, 30)


def test_profile_level_id_strings() -> None:
    assert profile_level_id("constrained_baseline", level_for(1280, 720, 30)) == "42e01f"
    assert profile_level_id("constrained_baseline", level_for(1920, 1080, 30)) == "42e028"
    assert profile_level_id("main", level_for(1920, 1080, 60)) == "4d402a"
    assert profile_level_id("high", level_for(3840, 2160, 60)) == "640034"
    with pytest.raises(ValueError, match="unknown profile"):
        profile_level_id("extended", level_for(1280, 720, 30))  # type: ignore[arg-type]


def test_settings_validate_and_derive() -> None:
    s = VideoEncoderSettings()
    assert (s.encoder, s.keyframe_interval_s, s.gop_frames, s.profile) == (
        "auto",
        1.0,
        30,
        "constrained_baseline",
    )
    assert s.profile_level_id == "42e028"
    assert VideoEncoderSettings(rate_control="vbr", bitrate_kbps=4000).peak_bitrate_kbps == 6000
    assert VideoEncoderSettings(fps=60, keyframe_interval_s=2).gop_frames == 120
    cases: list[tuple[dict[str, Any], str]] = [
        ({"keyframe_interval_s": 2.5}, "keyframe_interval_s"),
        ({"keyframe_interval_s": 0}, "keyframe_interval_s"),
        ({"encoder": "h265_magic"}, "encoder"),
        ({"width": 1919}, "width"),
        ({"rate_control": "crf"}, "rate_control"),
        ({"bitrate_kbps": 4000, "max_bitrate_kbps": 3000}, "max_bitrate_kbps"),
        ({"encoder": "libx264", "preset": "warp"}, "preset"),
        ({"profile": "baseline"}, "profile"),
    ]
    for bad, field in cases:
        with pytest.raises(ValueError, match=field):
            VideoEncoderSettings(**bad)
    with pytest.raises(ValueError, match="codec"):
        AudioEncoderSettings(codec="mp3")  # type: ignore[arg-type]


def test_libx264_options_ask_for_low_latency_annexb_without_b_frames() -> None:
    opts = probe.codec_options("libx264", VideoEncoderSettings(encoder="libx264"))
    assert opts["preset"] == "superfast" and opts["tune"] == "zerolatency"
    assert opts["profile"] == "baseline" and opts["level"] == "4.0"
    assert "repeat-headers=1" in opts["x264-params"] and "bframes=0" in opts["x264-params"]
    assert "nal-hrd" not in opts["x264-params"]  # x264 cannot reconfigure VBV under NAL HRD
    assert opts["maxrate"] == opts["bufsize"] == "5000k"


# --- libx264 round trips ----------------------------------------------------------------------------


def test_1080p_default_round_trip_psnr_and_stream_headers() -> None:
    settings = VideoEncoderSettings(encoder="libx264")  # the 1080p30 5 Mbps default
    encoder = VideoEncoder(settings)
    picture = I420Buffer(1920, 1080)
    sources: list[np.ndarray] = []
    packets: list[EncodedPacket] = []
    for i in range(4):
        picture.fill_from_bgra(moving_card(1920, 1080, i))
        sources.append(picture.array.copy())
        packets.extend(encoder.encode(picture, i))
    packets.extend(encoder.flush())
    decoded = decode_all(packets)
    assert len(decoded) == 4
    for source, frame in zip(sources, decoded, strict=True):
        assert psnr(frame.to_ndarray(format="yuv420p"), source) >= 35.0
    assert sps_profile_level(packets[0].data) == (0x42, 0xC0, 40)  # constrained baseline, level 4.0
    assert decoded[0].colorspace == 6 and decoded[0].color_range == 1  # BT.601 limited, as converted
    info = encoder.stream_info
    assert (info.codec, info.width, info.height, info.fps, info.profile_level_id) == (
        "h264",
        1920,
        1080,
        30,
        "42e028",
    )
    assert info.time_base == Fraction(1, 30)
    assert [p.pts for p in packets] == [0, 1, 2, 3]


def test_every_keyframe_carries_sps_pps_and_an_idr() -> None:
    encoder = VideoEncoder(small(encoder="libx264"))
    packets = encode_frames(encoder, 65)
    keys = [p for p in packets if p.keyframe]
    assert [p.pts for p in keys] == [0, 30, 60]  # 1 s interval, no scene-cut keyframes
    for p in keys:
        types = nal_types(p.data)
        assert types.index(NAL_SPS) < types.index(NAL_PPS) < types.index(NAL_IDR)
        assert p.data.startswith(b"\x00\x00\x00\x01")  # Annex B
        assert parameter_sets(p.data) is not None
    assert all(NAL_IDR not in nal_types(p.data) for p in packets if not p.keyframe)


def test_force_keyframe_makes_the_next_frame_an_idr() -> None:
    encoder = VideoEncoder(small(encoder="libx264"))

    def hooks(i: int) -> None:
        if i == 7:
            encoder.force_keyframe()

    packets = encode_frames(encoder, 12, hooks=hooks)
    by_pts = {p.pts: p for p in packets}
    assert (
        by_pts[7].keyframe and NAL_IDR in nal_types(by_pts[7].data) and NAL_SPS in nal_types(by_pts[7].data)
    )
    assert not by_pts[6].keyframe and not by_pts[8].keyframe
    assert NAL_IDR not in nal_types(by_pts[8].data)


def _kbps(packets: list[EncodedPacket], first: int, fps: int = 30) -> float:
    """Bitrate over one second of frames starting at frame ``first`` (frame-count based)."""
    return sum(len(p.data) for p in packets if first <= p.pts < first + fps) * 8 / 1000


def test_bitrate_change_shows_within_one_second_without_losing_frames() -> None:
    encoder = VideoEncoder(small(encoder="libx264", bitrate_kbps=400))
    change_at = 45  # mid-GOP: the change waits for the keyframe at 60 (<= 1 s)

    def hooks(i: int) -> None:
        if i == change_at:
            encoder.set_bitrate(800)
        if i == 135:
            encoder.set_bitrate(300)  # a 62 % cut: congestion, applied live on the next frame

    packets = encode_frames(encoder, 180, hooks=hooks)
    packets += encoder.flush()
    assert [p.pts for p in packets] == list(range(180))  # no frame lost across the reopen
    applied = next(p.pts for p in packets if p.keyframe and p.pts >= change_at)
    assert applied - change_at <= 30
    assert _kbps(packets, 15) == pytest.approx(400, rel=0.2)
    assert _kbps(packets, applied) == pytest.approx(800, rel=0.2)
    assert _kbps(packets, change_at + 30) == pytest.approx(800, rel=0.2)
    assert not next(p for p in packets if p.pts == 135).keyframe  # libx264 reconfigures: no extra IDR
    assert _kbps(packets, 150, fps=30) == pytest.approx(300, rel=0.2)  # exact from the next keyframe
    assert encoder.settings.bitrate_kbps == 300 and encoder.reopens == 2  # the VBV resized on frame 150's IDR
    assert [p.pts for p in packets if p.keyframe] == list(range(0, 180, 30))
    assert len(decode_all(packets)) == 180


# --- probing and fallback ---------------------------------------------------------------------------

HARDWARE = ("h264_nvenc", "h264_qsv", "h264_amf", "h264_vaapi", "h264_videotoolbox")
real_open = probe.open_codec_context


class FlakyHardware:
    """Stands in for a hardware encoder context: a real libx264 context underneath that raises
    after ``fail_after`` frames, as a GPU encoder does when the driver resets."""

    def __init__(self, settings: VideoEncoderSettings, fail_after: int) -> None:
        self._ctx = real_open("libx264", probe.settings_for("libx264", settings))
        self._left = fail_after
        self.pix_fmt = "yuv420p"

    @property
    def bit_rate(self) -> int | None:
        return self._ctx.bit_rate

    @bit_rate.setter
    def bit_rate(self, value: int) -> None:
        self._ctx.bit_rate = value

    def encode(self, frame: av.VideoFrame | None = None) -> list[av.Packet]:
        if frame is not None:
            self._left -= 1
            if self._left < 0:
                raise av.error.ExternalError(-542398533, "h264_nvenc: device lost (injected)")
        return self._ctx.encode(frame)


def test_probe_keeps_only_encoders_that_open(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[str] = []

    def failing_open(name: str, settings: VideoEncoderSettings) -> av.VideoCodecContext:
        attempts.append(name)
        if name != "libx264":
            raise av.error.PermissionError(1, f"{name}: no device (injected)")
        return real_open(name, settings)

    monkeypatch.setattr(probe, "available_in_build", lambda name: True)  # listed, as FFmpeg lists them
    monkeypatch.setattr(probe, "open_codec_context", failing_open)
    results = probe.probe_encoders()
    assert list(results) == [*HARDWARE, "libx264"]
    assert [n for n, r in results.items() if r.ok] == ["libx264"]
    assert "no device" in results["h264_nvenc"].error
    assert probe.choose_encoder(VideoEncoderSettings()) == ["libx264"]
    tried = len(attempts)
    probe.probe_encoders()  # cached: nothing is opened again
    assert len(attempts) == tried
    encoder = VideoEncoder(small())
    assert encoder.name == "libx264" and encoder.fallbacks == []  # auto: nothing the user chose failed


def test_auto_prefers_hardware_that_opens(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_open(name: str, settings: VideoEncoderSettings) -> Any:
        if name == "h264_qsv":
            return FlakyHardware(settings, fail_after=10**6)
        if name != "libx264":
            raise av.error.PermissionError(1, f"{name}: no device (injected)")
        return real_open(name, settings)

    monkeypatch.setattr(probe, "available_in_build", lambda name: True)
    monkeypatch.setattr(probe, "open_codec_context", fake_open)
    assert probe.choose_encoder(VideoEncoderSettings()) == ["h264_qsv", "libx264"]
    assert VideoEncoder(small()).name == "h264_qsv"


def test_nv12_path_for_encoders_that_only_take_nv12(monkeypatch: pytest.MonkeyPatch) -> None:
    # QSV takes only NV12; libx264 also accepts NV12, so it stands in to run the conversion for real.
    monkeypatch.setattr(probe, "pixel_format_for", lambda name: "nv12")
    encoder = VideoEncoder(small(encoder="libx264"))
    assert encoder.pix_fmt == "nv12"
    picture = I420Buffer(320, 180)
    picture.fill_from_bgra(moving_card(320, 180, 3))
    nv12 = NV12Buffer(320, 180)
    nv12.fill_from_i420(picture)
    assert np.array_equal(nv12.frame.reformat(format="yuv420p").to_ndarray(), picture.array)
    packets = encoder.encode(picture, 0) + encoder.flush()
    (frame,) = decode_all(packets)
    assert psnr(frame.to_ndarray(format="yuv420p"), picture.array) >= 35.0


def test_forced_encoder_that_cannot_open_falls_back_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_open(name: str, settings: VideoEncoderSettings) -> av.VideoCodecContext:
        if name == "h264_nvenc":
            raise av.error.PermissionError(1, "h264_nvenc: no device (injected)")
        return real_open(name, settings)

    monkeypatch.setattr(probe, "open_codec_context", failing_open)
    events: list[FallbackEvent] = []
    encoder = VideoEncoder(small(encoder="h264_nvenc"), on_fallback=events.append)
    assert encoder.name == "libx264"
    assert len(events) == 1 and events[0].failed == "h264_nvenc" and not events[0].mid_stream
    assert "no device" in events[0].message
    assert len(decode_all(encode_frames(encoder, 3) + encoder.flush())) == 3


def test_mid_stream_failure_falls_back_to_libx264_without_dropping_the_stream(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def fake_open(name: str, settings: VideoEncoderSettings) -> Any:
        if name == "h264_nvenc":
            return FlakyHardware(settings, fail_after=20)
        return real_open(name, settings)

    monkeypatch.setattr(probe, "open_codec_context", fake_open)
    events: list[FallbackEvent] = []
    sink = Collect()
    worker = VideoEncoderWorker(small(encoder="h264_nvenc"), sink, on_fallback=events.append)
    worker.start()
    try:
        assert worker.encoder_name == "h264_nvenc"
        for i in range(40):
            while not worker.submit(moving_card(320, 180, i), i):  # wait for room: every frame matters here
                sink.wait_for(len(sink.packets) + 1, timeout=5)
            if i == 25:
                assert sink.wait_for(21)
    finally:
        worker.stop()
    stats = worker.stats()
    assert stats.encoder == "libx264" and stats.encoded == 40 and stats.errors == 0
    assert len(events) == 1 and events[0].mid_stream and events[0].pts == 20
    assert stats.fallbacks == (events[0],)
    assert "continuing with libx264" in caplog.text
    by_pts = {p.pts: p for p in sink.packets}
    assert sorted(by_pts) == list(range(40))  # the failing frame was re-encoded, nothing lost
    assert by_pts[20].keyframe and NAL_SPS in nal_types(by_pts[20].data)
    assert len(decode_all(sink.packets)) == 40


def test_hardware_that_will_not_reopen_for_a_bitrate_change_hands_over_to_libx264(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[str] = []

    def fake_open(name: str, settings: VideoEncoderSettings) -> Any:
        opened.append(name)
        if name == "h264_qsv":
            if opened.count("h264_qsv") > 1:
                raise av.error.ExternalError(-1, "h264_qsv: session busy (injected)")
            return FlakyHardware(settings, fail_after=10**6)
        return real_open(name, settings)

    monkeypatch.setattr(probe, "open_codec_context", fake_open)
    events: list[FallbackEvent] = []
    encoder = VideoEncoder(small(encoder="h264_qsv", bitrate_kbps=300), on_fallback=events.append)

    def hooks(i: int) -> None:
        if i == 5:
            encoder.set_bitrate(100)  # a big cut: applied on the next frame, by reopening

    packets = encode_frames(encoder, 10, hooks=hooks) + encoder.flush()
    assert [p.pts for p in packets] == list(range(10)) and packets[5].keyframe
    assert encoder.name == "libx264" and encoder.settings.bitrate_kbps == 100
    assert len(events) == 1 and events[0].failed == "h264_qsv" and "session busy" in events[0].reason
    assert len(decode_all(packets)) == 10


# --- the enc-video worker ----------------------------------------------------------------------------


class GateSink(Collect):
    """Holds the encoder thread on its first packet until released (to fill the queue on purpose)."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def put(self, packet: EncodedPacket) -> None:
        self.entered.set()
        self.release.wait(20)
        super().put(packet)


def test_worker_queue_is_bounded_and_submit_copies_the_canvas() -> None:
    sink = GateSink()
    worker = VideoEncoderWorker(small(encoder="libx264"), sink, queue_size=2)
    worker.start()
    canvas = np.zeros((180, 320, 4), np.uint8)
    try:
        canvas[:] = (255, 255, 255, 255)
        assert worker.submit(canvas, 0)
        assert sink.entered.wait(20)  # the worker now sits in the sink with frame 0
        results = []
        for i in range(1, 6):
            canvas[:] = (0, 0, 0, 255) if i % 2 else (255, 255, 255, 255)
            results.append(worker.submit(canvas, i))  # returns at once, full or not
        assert results == [True, True, False, False, False]
        canvas[:] = 128  # the compositor reuses its canvas: queued frames must not change
    finally:
        sink.release.set()
        worker.stop()
    stats = worker.stats()
    assert (stats.encoded, stats.skipped, stats.queued) == (3, 3, 0)
    assert stats.encode_ms_p95 >= stats.encode_ms_p50 > 0 and stats.measured_bitrate_kbps > 0
    lumas = [float(f.to_ndarray(format="yuv420p")[:180].mean()) for f in decode_all(sink.packets)]
    assert len(lumas) == 3
    assert lumas[0] > 200 and lumas[1] < 40 and lumas[2] > 200  # white, black, white: not grey


def test_worker_keyframe_request_and_bitrate_from_another_thread() -> None:
    sink = Collect()
    worker = VideoEncoderWorker(small(encoder="libx264", bitrate_kbps=300), sink)
    worker.start()
    try:
        assert worker.stream_info.profile_level_id == "42e00d"
        for i in range(10):
            if i == 4:  # as the net thread does on a PLI and a REMB
                requests = [
                    threading.Thread(target=worker.force_keyframe, name="pli"),
                    threading.Thread(target=worker.set_bitrate, args=(600,), name="remb"),
                ]
                for t in requests:
                    t.start()
                for t in requests:
                    t.join()
            while not worker.submit(moving_card(320, 180, i), i):
                sink.wait_for(len(sink.packets) + 1, timeout=5)
            assert sink.wait_for(i + 1)
    finally:
        worker.stop()
    keys = [p.pts for p in sink.packets if p.keyframe]
    assert keys == [0, 4]
    assert worker.stats().target_bitrate_kbps == 600


def test_submit_rejects_a_canvas_of_the_wrong_size() -> None:
    worker = VideoEncoderWorker(small(encoder="libx264"), Collect())
    worker.start()
    try:
        with pytest.raises(ValueError, match="320x180"):
            worker.submit(np.zeros((100, 100, 4), np.uint8), 0)
        with pytest.raises(ValueError, match="BGRA"):
            worker.submit(np.zeros((180, 320, 3), np.uint8), 0)
        assert worker.submit(np.zeros((180, 320, 4), np.uint8), 0)  # the slot was given back
    finally:
        worker.stop()


# --- audio -------------------------------------------------------------------------------------------


def _tone(n: int, start: int = 0) -> np.ndarray:
    t = (np.arange(start, start + n) / 48_000).astype(np.float64)
    left = 0.4 * np.sin(2 * np.pi * 440 * t)
    right = 0.3 * np.sin(2 * np.pi * 660 * t)
    return np.stack([left, right], axis=1).astype(np.float32)


def _planar_float(frame: av.AudioFrame) -> np.ndarray:
    data = frame.to_ndarray()
    data = data.reshape(2, -1) if frame.format.is_planar else data.reshape(-1, 2).T
    if data.dtype.kind == "i":  # libopus decodes to s16
        return data.astype(np.float64) / 32768.0
    return data.astype(np.float64)


@pytest.mark.parametrize(("codec", "frame", "decoder"), [("opus", 960, "libopus"), ("aac", 1024, "aac")])
def test_audio_round_trip(codec: str, frame: int, decoder: str) -> None:
    encoder = AudioEncoder(AudioEncoderSettings(codec=codec))  # type: ignore[arg-type]
    assert encoder.frame_size == frame
    info = encoder.stream_info
    assert (info.kind, info.codec, info.sample_rate, info.channels) == ("audio", codec, 48_000, 2)
    assert info.time_base == Fraction(1, 48_000)
    assert info.extradata and (codec != "opus" or info.extradata.startswith(b"OpusHead"))
    packets: list[EncodedPacket] = []
    source = _tone(48_000)
    for start in range(0, 48_000, 700):  # odd block sizes: the encoder regroups them
        packets += encoder.encode(source[start : start + 700])
    packets += encoder.flush()
    steps = {b.pts - a.pts for a, b in zip(packets, packets[1:], strict=False)}
    assert steps == {frame}
    dec = av.CodecContext.create(decoder, "r")
    assert isinstance(dec, av.AudioCodecContext)
    dec.extradata = info.extradata
    dec.sample_rate = 48_000
    dec.layout = "stereo"
    pcm = np.concatenate(
        [_planar_float(f) for p in packets for f in dec.decode(av.Packet(p.data))],  # type: ignore[arg-type]
        axis=1,
    )
    assert pcm.shape[1] >= 46_000
    middle = pcm[:, 10_000:40_000]
    rms = np.sqrt(np.mean(middle.astype(np.float64) ** 2, axis=1))
    assert rms == pytest.approx([0.4 / np.sqrt(2), 0.3 / np.sqrt(2)], rel=0.1)


def test_audio_gaps_are_filled_and_overlaps_trimmed() -> None:
    encoder = AudioEncoder(AudioEncoderSettings(codec="opus"))
    packets = encoder.encode(_tone(960), pts=0)
    packets += encoder.encode(_tone(960, 1440), pts=1440)  # 480 samples went missing
    assert encoder.silence_filled == 480
    packets += encoder.encode(_tone(960, 2000), pts=2000)  # overlaps 400 samples already encoded
    packets += encoder.flush()
    pts = [p.pts for p in packets]
    assert pts == sorted(pts) and pts[-1] - pts[0] == 960 * (len(pts) - 1)
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        encoder.encode(np.zeros((10, 1), np.float32))


def test_audio_worker_encodes_on_its_own_thread() -> None:
    sink = Collect()
    worker = AudioEncoderWorker(AudioEncoderSettings(codec="opus"), sink)
    worker.start()
    try:
        assert worker.stream_info.codec == "opus"
        for i in range(50):
            assert worker.submit(_tone(480, i * 480))
        assert sink.wait_for(24)
    finally:
        worker.stop()
    assert [t.name for t in threading.enumerate() if t.name == "enc-audio"] == []
    assert len(sink.packets) >= 25 and worker.stats().encoded_packets == len(sink.packets)
    assert all(p.kind == "audio" and p.time_base == Fraction(1, 48_000) for p in sink.packets)


def test_encode_benchmark_runs_and_reports_its_fields() -> None:
    from argparse import Namespace

    from studio.bench import encode as bench

    report = bench.run(Namespace(frames=10, json=True))
    assert report["frames_per_case"] == 10 and report["default_x264_preset"] == "superfast"
    assert report["probe"]["libx264"] == "yuv420p" and report["x264_headroom_1080p30"] > 0
    rows = report["results"]
    assert {(r["case"], r["preset"]) for r in rows} >= {("720p30", "superfast"), ("1080p30", "veryfast")}
    assert all(r["fps"] > 0 and r["latency_ms_p95"] >= r["latency_ms_p50"] > 0 for r in rows)
    assert [r["default"] for r in rows if r["encoder"] == "libx264"].count(True) == 2
