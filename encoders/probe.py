"""Which H.264 encoders really work here, and how to open one.

FFmpeg builds list hardware encoders whose driver or device is missing, so listing proves nothing:
``probe_encoders`` opens each candidate at a small size and encodes one frame. Results are cached
for the process (``clear_probe_cache`` forgets them). Every codec context in this package is opened
through ``open_codec_context`` so tests can inject failures in one place.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from fractions import Fraction

import av
import numpy as np

from encoders.colorspace import tag_bt601
from encoders.h264 import X264_PROFILE_NAME
from encoders.settings import (
    DEFAULT_X264_PRESET,
    SOFTWARE_ENCODER,
    VIDEO_ENCODERS,
    X264_PRESETS,
    VideoEncoderSettings,
)

log = logging.getLogger(__name__)

PROBE_WIDTH, PROBE_HEIGHT = 320, 240
VBV_INIT = 0.5  # libx264's initial VBV fill, a share of the buffer (x264's own: 0.9; see codec_options)


def available_in_build(name: str) -> bool:
    """Whether this FFmpeg build has the encoder at all (it may still fail to open)."""
    try:
        av.codec.Codec(name, "w")
    except (av.FFmpegError, ValueError):
        return False
    return True


def pixel_format_for(name: str) -> str:
    """yuv420p when the encoder takes it (no conversion), else nv12 (QSV, most hardware)."""
    try:
        formats = [f.name for f in av.codec.Codec(name, "w").video_formats or ()]
    except (av.FFmpegError, ValueError):
        return "yuv420p"
    if not formats or "yuv420p" in formats:
        return "yuv420p"
    return "nv12"


def codec_options(name: str, settings: VideoEncoderSettings) -> dict[str, str]:
    """Low-latency, no-B-frame, SPS/PPS-before-every-IDR options for each encoder."""
    peak = settings.peak_bitrate_kbps
    profile = X264_PROFILE_NAME[settings.profile]
    level = settings.level.name
    cbr = settings.rate_control == "cbr"
    if name == "libx264":
        # No nal-hrd: x264 refuses to change VBV parameters under NAL HRD, and the live bitrate
        # changes (encoders.video) need that; maxrate == bitrate keeps the rate constant anyway.
        # vbv-init: x264 opens with its VBV buffer 90 % full, i.e. 0.9 s of allowance on top of the
        # rate, which a fresh rate control (starting at a low QP) spends. Mid-stream opens are
        # common (a new rate's VBV at the next IDR, a ladder step's size, a scaled rendition started
        # when the link turns weak), and the stream before has used its buffer already: the 360p30
        # rendition sent 1.13-1.19x its target in the seconds after each; half a buffer keeps it
        # within 5 % (tests/unit/test_stream_rendition_rate.py)
        params = ["repeat-headers=1", "scenecut=0", "bframes=0", "force-cfr=1", f"vbv-init={VBV_INIT:g}"]
        return {
            "preset": settings.preset or DEFAULT_X264_PRESET,
            "tune": "zerolatency",
            "profile": profile,
            "level": level,
            "forced-idr": "1",
            "maxrate": f"{peak}k",
            "bufsize": f"{peak}k",  # 1 s of VBV: low delay, as OBS does for streaming
            "x264-params": ":".join(params),
        }
    if name == "h264_nvenc":
        # Without a global header NVENC repeats SPS/PPS before each IDR (repeatSPSPPS).
        return {
            "preset": settings.preset or "p4",
            "tune": "ll",
            "rc": "cbr" if cbr else "vbr",
            "zerolatency": "1",
            "delay": "0",
            "forced-idr": "1",
            "no-scenecut": "1",
            "profile": profile,
            "level": level,
            "maxrate": f"{peak}k",
            "bufsize": f"{peak}k",
        }
    if name == "h264_qsv":
        return {
            "preset": settings.preset or "veryfast",
            "look_ahead": "0",
            "async_depth": "1",
            "forced_idr": "1",
            "profile": profile,
            "maxrate": f"{peak}k",
            "bufsize": f"{peak}k",
        }
    if name == "h264_amf":
        return {
            "usage": "lowlatency",
            "quality": settings.preset or "speed",
            "rc": "cbr" if cbr else "vbr_peak",
            "header_spacing": str(settings.gop_frames),
            "forced_idr": "1",
            "profile": profile,
            "maxrate": f"{peak}k",
            "bufsize": f"{peak}k",
        }
    if name == "h264_videotoolbox":
        return {"realtime": "1", "allow_sw": "0", "profile": profile, "prio_speed": "1"}
    if name == "h264_vaapi":
        return {"rc_mode": "CBR" if cbr else "VBR", "profile": profile, "maxrate": f"{peak}k"}
    raise ValueError(f"unknown video encoder {name!r}, expected one of {VIDEO_ENCODERS}")


def open_codec_context(name: str, settings: VideoEncoderSettings) -> av.VideoCodecContext:
    """Create and open an encoder context for ``settings`` (raises av.FFmpegError/ValueError)."""
    ctx = av.CodecContext.create(name, "w")
    if not isinstance(ctx, av.VideoCodecContext):
        raise ValueError(f"{name!r} is not a video encoder")
    ctx.width = settings.width
    ctx.height = settings.height
    ctx.pix_fmt = pixel_format_for(name)
    ctx.time_base = Fraction(1, settings.fps)
    ctx.framerate = Fraction(settings.fps, 1)
    ctx.gop_size = settings.gop_frames
    ctx.max_b_frames = 0
    ctx.bit_rate = settings.bitrate_kbps * 1000
    tag_bt601(ctx)
    ctx.options = codec_options(name, settings)
    ctx.open()
    return ctx


@dataclass(frozen=True, slots=True)
class ProbeResult:
    name: str
    ok: bool
    error: str = ""
    pix_fmt: str = ""
    open_ms: float = 0.0


_cache: dict[str, ProbeResult] = {}
_cache_lock = threading.Lock()


def probe_one(name: str) -> ProbeResult:
    """Open ``name`` at a small size and encode one frame; never raises."""
    if not available_in_build(name):
        return ProbeResult(name, False, "not in this FFmpeg build")
    settings = VideoEncoderSettings(
        encoder=name if name in VIDEO_ENCODERS else SOFTWARE_ENCODER,
        width=PROBE_WIDTH,
        height=PROBE_HEIGHT,
        fps=30,
        bitrate_kbps=500,
    )
    started = time.perf_counter()
    try:
        ctx = open_codec_context(name, settings)
        pix_fmt = ctx.pix_fmt or ""
        frame = av.VideoFrame.from_numpy_buffer(
            np.full((PROBE_HEIGHT * 3 // 2, PROBE_WIDTH), 128, np.uint8), format="yuv420p"
        )
        if pix_fmt != "yuv420p":
            frame = frame.reformat(format=pix_fmt)
        frame.pts = 0
        packets = list(ctx.encode(frame)) + list(ctx.encode(None))
        if not packets:
            return ProbeResult(name, False, "opened but produced no packet", pix_fmt)
    except Exception as exc:  # any failure means "not usable here"; the reason is reported
        return ProbeResult(name, False, f"{type(exc).__name__}: {exc}")
    return ProbeResult(name, True, "", pix_fmt, (time.perf_counter() - started) * 1000)


def probe_encoders(
    candidates: tuple[str, ...] = VIDEO_ENCODERS, refresh: bool = False
) -> dict[str, ProbeResult]:
    """Probe each candidate once per process (cached); preference order is kept."""
    results: dict[str, ProbeResult] = {}
    for name in candidates:
        with _cache_lock:
            cached = None if refresh else _cache.get(name)
        if cached is None:
            cached = probe_one(name)
            with _cache_lock:
                _cache[name] = cached
            if cached.ok:
                log.info("video encoder %s opens (%.1f ms)", name, cached.open_ms)
            else:
                log.debug("video encoder %s unusable: %s", name, cached.error)
        results[name] = cached
    return results


def clear_probe_cache() -> None:
    with _cache_lock:
        _cache.clear()


def usable_encoders(refresh: bool = False) -> list[str]:
    """Encoders that open here, best first."""
    return [name for name, r in probe_encoders(refresh=refresh).items() if r.ok]


def choose_encoder(settings: VideoEncoderSettings) -> list[str]:
    """Encoders to try, in order: the forced one (if any) or every usable one, then libx264."""
    order = [settings.encoder] if settings.encoder != "auto" else usable_encoders()
    if SOFTWARE_ENCODER not in order:
        order.append(SOFTWARE_ENCODER)
    return order


def settings_for(name: str, settings: VideoEncoderSettings) -> VideoEncoderSettings:
    """``settings`` bound to one concrete encoder (a libx264 preset never leaks to hardware)."""
    auto_x264 = settings.encoder == "auto" and name == SOFTWARE_ENCODER and settings.preset in X264_PRESETS
    preset = settings.preset if name == settings.encoder or auto_x264 else ""
    return replace(settings, encoder=name, preset=preset)


def doctor_report() -> dict[str, object]:
    """For `studio doctor`: which encoders really open here, and what "auto" would pick."""
    results = probe_encoders()
    usable = [name for name, r in results.items() if r.ok]
    return {
        "ok": bool(usable),
        "auto_picks": usable[0] if usable else None,
        "encoders": {name: ("opens" if r.ok else f"unusable: {r.error}") for name, r in results.items()},
    }
