"""H.264 facts the encoders and outputs share: levels, profiles, SDP profile-level-id, Annex B NALs.

Levels come from ITU-T H.264 Table A-1: the smallest level whose macroblock rate (MaxMBPS), frame
size (MaxFS, and the sqrt(8 * MaxFS) bound on each dimension) and bitrate (MaxBR) fit the stream.

Profile: the default is **constrained baseline** (SDP ``42e0xx``). Every WebRTC endpoint must decode
it (RFC 7742), aiortc only offers it, and browsers map ``42e0``/``42c0`` to the same decoder. Main and
High save roughly 10-15 % bits (CABAC, 8x8 transform) and stay selectable for recording-first use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Profile = Literal["constrained_baseline", "main", "high"]
PROFILES: tuple[Profile, ...] = ("constrained_baseline", "main", "high")

# profile -> (profile_idc, constraint flags byte as written in the SDP profile-level-id)
_PROFILE_IDC: dict[str, tuple[int, int]] = {
    "constrained_baseline": (0x42, 0xE0),
    "main": (0x4D, 0x40),  # constraint_set1: also decodable by main-profile decoders
    "high": (0x64, 0x00),
}

# profile -> the name libavcodec encoders take in their "profile" option
X264_PROFILE_NAME: dict[str, str] = {"constrained_baseline": "baseline", "main": "main", "high": "high"}


@dataclass(frozen=True, slots=True)
class Level:
    idc: int  # level_idc as coded in the SPS: 31 for level 3.1
    max_mbps: int  # macroblocks per second
    max_fs: int  # macroblocks per frame
    max_br_kbps: int  # Baseline/Main; High allows 1.25x

    @property
    def name(self) -> str:
        return f"{self.idc // 10}.{self.idc % 10}"


LEVELS: tuple[Level, ...] = (
    Level(10, 1_485, 99, 64),
    Level(11, 3_000, 396, 192),
    Level(12, 6_000, 396, 384),
    Level(13, 11_880, 396, 768),
    Level(20, 11_880, 396, 2_000),
    Level(21, 19_800, 792, 4_000),
    Level(22, 20_250, 1_620, 4_000),
    Level(30, 40_500, 1_620, 10_000),
    Level(31, 108_000, 3_600, 14_000),
    Level(32, 216_000, 5_120, 20_000),
    Level(40, 245_760, 8_192, 20_000),
    Level(41, 245_760, 8_192, 50_000),
    Level(42, 522_240, 8_704, 50_000),
    Level(50, 589_824, 22_080, 135_000),
    Level(51, 983_040, 36_864, 240_000),
    Level(52, 2_073_600, 36_864, 240_000),
    Level(60, 4_177_920, 139_264, 240_000),
    Level(61, 8_355_840, 139_264, 480_000),
    Level(62, 16_711_680, 139_264, 800_000),
)


def level_for(
    width: int, height: int, fps: float, bitrate_kbps: int = 0, profile: Profile = "constrained_baseline"
) -> Level:
    """The smallest level that carries ``width`` x ``height`` at ``fps`` (and ``bitrate_kbps``)."""
    if width <= 0 or height <= 0 or fps <= 0:
        raise ValueError(f"level_for: width, height and fps must be positive, got {width}x{height}@{fps}")
    if profile not in _PROFILE_IDC:
        raise ValueError(f"level_for: unknown profile {profile!r}, expected one of {PROFILES}")
    mb_w, mb_h = math.ceil(width / 16), math.ceil(height / 16)
    frame_mbs = mb_w * mb_h
    mbps = frame_mbs * fps
    br_factor = 1.25 if profile == "high" else 1.0
    for level in LEVELS:
        side_limit = math.sqrt(8 * level.max_fs)
        if (
            frame_mbs <= level.max_fs
            and mb_w <= side_limit
            and mb_h <= side_limit
            and mbps <= level.max_mbps
            and bitrate_kbps <= level.max_br_kbps * br_factor
        ):
            return level
    raise ValueError(f"no H.264 level fits {width}x{height}@{fps} at {bitrate_kbps} kbps")


def profile_level_id(profile: Profile, level: Level) -> str:
    """The six hex digits of the SDP ``profile-level-id`` (RFC 6184), e.g. ``42e028``."""
    if profile not in _PROFILE_IDC:
        raise ValueError(f"profile_level_id: unknown profile {profile!r}, expected one of {PROFILES}")
    idc, constraints = _PROFILE_IDC[profile]
    return f"{idc:02x}{constraints:02x}{level.idc:02x}"


# --- Annex B ---------------------------------------------------------------------------------------

NAL_SLICE = 1
NAL_IDR = 5
NAL_SEI = 6
NAL_SPS = 7
NAL_PPS = 8


def split_annexb(data: bytes) -> list[bytes]:
    """NAL unit payloads (without start codes) of an Annex B access unit."""
    starts: list[tuple[int, int]] = []  # (start code position, payload position)
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        code_at = i - 1 if i > 0 and data[i - 1] == 0 else i
        starts.append((code_at, i + 3))
        i = data.find(b"\x00\x00\x01", i + 3)
    nals = []
    for k, (_, payload_at) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(data)
        if end > payload_at:
            nals.append(data[payload_at:end])
    return nals


def nal_types(data: bytes) -> list[int]:
    return [nal[0] & 0x1F for nal in split_annexb(data)]


def is_idr(data: bytes) -> bool:
    return NAL_IDR in nal_types(data)


def parameter_sets(data: bytes) -> bytes | None:
    """SPS + PPS of an access unit as Annex B (what MP4/MKV muxers turn into avcC), else None."""
    nals = split_annexb(data)
    sps = [n for n in nals if n[0] & 0x1F == NAL_SPS]
    pps = [n for n in nals if n[0] & 0x1F == NAL_PPS]
    if not sps or not pps:
        return None
    return b"".join(b"\x00\x00\x00\x01" + n for n in sps + pps)


def sps_profile_level(data: bytes) -> tuple[int, int, int] | None:
    """(profile_idc, constraint flags, level_idc) from the first SPS in ``data``."""
    for nal in split_annexb(data):
        if nal[0] & 0x1F == NAL_SPS and len(nal) >= 4:
            return nal[1], nal[2], nal[3]
    return None
