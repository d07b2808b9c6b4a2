"""Encoded packets and the fan-out contract between one encoder and many outputs.

One encode feeds every output (DESIGN.md, frame flow). Outputs implement ``PacketSink``: ``put``
must return at once (a slow output drops and counts, it never stalls the encoder).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, Protocol

import av

MediaKind = Literal["video", "audio"]


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """What a sink needs to set up its container or RTP sender for one stream."""

    kind: MediaKind
    codec: str  # "h264", "opus", "aac"
    time_base: Fraction
    width: int = 0
    height: int = 0
    fps: int = 0
    sample_rate: int = 0
    channels: int = 0
    profile_level_id: str = ""  # H.264 only: six hex digits, e.g. "42e028"
    extradata: bytes | None = None  # codec private data (e.g. AAC AudioSpecificConfig)


@dataclass(frozen=True, slots=True)
class EncodedPacket:
    """One encoded access unit. ``data`` is Annex B for H.264, raw frames for Opus/AAC."""

    kind: MediaKind
    data: bytes
    pts: int  # in ``time_base`` units of the stream
    time_base: Fraction
    keyframe: bool
    capture_ns: int = 0  # composite/capture time (perf_counter_ns) for latency accounting

    def to_av(self) -> av.Packet:
        packet = av.Packet(self.data)
        packet.pts = self.pts
        packet.dts = self.pts
        packet.time_base = self.time_base
        packet.is_keyframe = self.keyframe
        return packet


class PacketSink(Protocol):
    def put(self, packet: EncodedPacket) -> None:
        """Take a packet without blocking."""
        ...
