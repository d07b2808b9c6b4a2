"""Encoder settings: frozen, validated dataclasses (one rendition each)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from encoders.h264 import PROFILES, Level, Profile, level_for, profile_level_id

RateControl = Literal["cbr", "vbr"]
AudioCodec = Literal["opus", "aac"]

# Preference order for "auto": hardware first, libx264 as the always-available fallback.
VIDEO_ENCODERS: tuple[str, ...] = (
    "h264_nvenc",
    "h264_qsv",
    "h264_amf",
    "h264_vaapi",
    "h264_videotoolbox",
    "libx264",
)
SOFTWARE_ENCODER = "libx264"

# libx264 preset when none is given. Measured with `studio bench encode` (1080p30, 5 Mbps, 2 cores,
# zerolatency): veryfast ~48 fps (too close to the 45 fps floor on a shared 2-core box), superfast
# ~75 fps, ultrafast ~125 fps but visibly blockier. superfast keeps >= 1.5x real-time headroom.
DEFAULT_X264_PRESET = "superfast"
X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)

MAX_KEYFRAME_INTERVAL_S = 2.0

# The main encode's bitrate when the user sets none: ~0.08 bit per pixel, so 1080p30 keeps its
# 5000 kbit/s and a 2160p30 recording gets ~20 Mbit/s (at 5000 it was blocky on any motion).
# Never below 5000 (what every smaller canvas had: small shows keep their quality) nor above 50000.
DEFAULT_BITRATE_KBPS = 5000
DEFAULT_BITS_PER_PIXEL = 0.08
MAX_DEFAULT_BITRATE_KBPS = 50_000


def default_bitrate_kbps(width: int, height: int, fps: int) -> int:
    """The default bitrate for this pixel rate (rounded to 100 kbit/s, within the bounds above)."""
    kbps = round(width * height * fps * DEFAULT_BITS_PER_PIXEL / 100_000) * 100
    return int(min(MAX_DEFAULT_BITRATE_KBPS, max(DEFAULT_BITRATE_KBPS, kbps)))


def _check(cond: bool, field: str, message: str) -> None:
    if not cond:
        raise ValueError(f"encoder settings: {field}: {message}")


@dataclass(frozen=True, slots=True)
class VideoEncoderSettings:
    """One H.264 rendition. ``preset`` "" means the encoder's own low-latency default."""

    encoder: str = "auto"
    width: int = 1920
    height: int = 1080
    fps: int = 30
    bitrate_kbps: int = DEFAULT_BITRATE_KBPS
    rate_control: RateControl = "cbr"
    max_bitrate_kbps: int = 0  # VBR peak; 0 = 1.5x bitrate. CBR always uses the bitrate.
    keyframe_interval_s: float = 1.0
    preset: str = ""
    profile: Profile = "constrained_baseline"

    def __post_init__(self) -> None:
        _check(
            self.encoder == "auto" or self.encoder in VIDEO_ENCODERS,
            "encoder",
            f"{self.encoder!r} is not 'auto' or one of {VIDEO_ENCODERS}",
        )
        _check(
            16 <= self.width <= 8192 and self.width % 2 == 0, "width", f"{self.width} must be even, 16..8192"
        )
        _check(
            16 <= self.height <= 8192 and self.height % 2 == 0,
            "height",
            f"{self.height} must be even, 16..8192",
        )
        _check(1 <= self.fps <= 240, "fps", f"{self.fps} must be 1..240")
        _check(50 <= self.bitrate_kbps <= 200_000, "bitrate_kbps", f"{self.bitrate_kbps} must be 50..200000")
        _check(
            self.rate_control in ("cbr", "vbr"), "rate_control", f"{self.rate_control!r} must be cbr or vbr"
        )
        _check(
            self.max_bitrate_kbps == 0 or self.max_bitrate_kbps >= self.bitrate_kbps,
            "max_bitrate_kbps",
            f"{self.max_bitrate_kbps} must be 0 (auto) or >= bitrate_kbps {self.bitrate_kbps}",
        )
        _check(
            0 < self.keyframe_interval_s <= MAX_KEYFRAME_INTERVAL_S,
            "keyframe_interval_s",
            f"{self.keyframe_interval_s} must be > 0 and <= {MAX_KEYFRAME_INTERVAL_S}",
        )
        _check(self.profile in PROFILES, "profile", f"{self.profile!r} must be one of {PROFILES}")
        _check(
            self.preset == "" or self.encoder != "libx264" or self.preset in X264_PRESETS,
            "preset",
            f"{self.preset!r} is not a libx264 preset {X264_PRESETS}",
        )
        level_for(self.width, self.height, self.fps, 0, self.profile)  # raises when no level fits

    @property
    def gop_frames(self) -> int:
        return max(1, round(self.fps * self.keyframe_interval_s))

    @property
    def peak_bitrate_kbps(self) -> int:
        if self.rate_control == "cbr":
            return self.bitrate_kbps
        return self.max_bitrate_kbps or self.bitrate_kbps * 3 // 2

    @property
    def level(self) -> Level:
        """From resolution and fps only, so a bitrate change never changes the negotiated level."""
        return level_for(self.width, self.height, self.fps, 0, self.profile)

    @property
    def profile_level_id(self) -> str:
        return profile_level_id(self.profile, self.level)

    def with_bitrate(self, kbps: int) -> VideoEncoderSettings:
        """A copy at another bitrate (a VBR peak below it is dropped back to auto)."""
        peak = self.max_bitrate_kbps if self.max_bitrate_kbps >= kbps else 0
        return replace(self, bitrate_kbps=int(kbps), max_bitrate_kbps=peak)


@dataclass(frozen=True, slots=True)
class AudioEncoderSettings:
    """48 kHz stereo. Opus for WebRTC (20 ms frames), AAC for MP4 recordings."""

    codec: AudioCodec = "opus"
    bitrate_kbps: int = 128
    sample_rate: int = 48_000
    channels: int = 2

    def __post_init__(self) -> None:
        _check(self.codec in ("opus", "aac"), "codec", f"{self.codec!r} must be opus or aac")
        _check(6 <= self.bitrate_kbps <= 512, "bitrate_kbps", f"{self.bitrate_kbps} must be 6..512")
        _check(self.sample_rate == 48_000, "sample_rate", f"{self.sample_rate} must be 48000")
        _check(self.channels == 2, "channels", f"{self.channels} must be 2 (stereo)")
