"""The contract between the relay's guest ingest and the studio's guest sources (issue 15).

The embedded relay accepts a co-host's browser over WHIP (H.264 or VP8 video, Opus audio) and
hands each accepted guest to the studio as one :class:`GuestLink`. The relay owns the link and
the network; the studio owns decoding (a guest source's worker thread), the guest's mixer
channel and the guest's return feed (the program minus the guest's own voice).

Threads: the relay calls :class:`GuestMediaSink` methods on the ``net`` loop, so a sink only
queues (bounded, dropping the oldest) and returns. The studio calls
:meth:`GuestLink.push_return_audio` from its audio thread; the link crosses to the loop itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import av

GuestMediaKind = Literal["video", "audio"]
GuestCodec = Literal["h264", "vp8", "opus"]
GuestEndReason = Literal["left", "kicked", "revoked", "timeout", "error"]


@dataclass(frozen=True)
class GuestPacket:
    """One depayloaded frame from a guest: a whole video access unit or one Opus packet."""

    kind: GuestMediaKind
    codec: GuestCodec
    packet: av.Packet  # pts in the RTP clock (90 kHz video, 48 kHz audio), time_base set


class GuestMediaSink(Protocol):
    """What a guest's media is delivered to (the studio's guest source). Net loop; never block."""

    def on_guest_packet(self, packet: GuestPacket) -> None: ...

    def on_guest_ended(self, reason: GuestEndReason) -> None: ...


class GuestLink(Protocol):
    """One accepted guest on the relay, from ingest to ``ended``."""

    @property
    def guest_id(self) -> str: ...

    @property
    def display_name(self) -> str: ...  # viewer-chosen: plain text only

    @property
    def has_video(self) -> bool: ...  # False for an audio-only guest (no camera)

    def attach(self, sink: GuestMediaSink) -> None:
        """Start delivering this guest's packets to ``sink`` (replaces an earlier sink)."""

    def detach(self) -> None:
        """Stop delivering; packets that arrive afterwards are dropped."""

    def request_keyframe(self) -> None:
        """Ask the guest's browser for a keyframe (a new sink, or a decoder that lost sync)."""

    def push_return_audio(self, packet: av.Packet) -> None:
        """Send one Opus packet (48 kHz, 20 ms) of the guest's return feed. Any thread."""
