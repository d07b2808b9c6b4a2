"""Hand RTCP feedback that reaches one aiortc sender on to our encoder.

aiortc applies PLI/FIR and REMB only to its own encoder (``RTCRtpSender._handle_rtcp_packet``);
with pre-encoded packets they would be lost. :func:`attach` wraps that method on one sender
instance: it counts NACK/PLI/FIR/REMB, calls our callbacks, then lets aiortc do the rest (NACK
retransmission, RTT from receiver reports). It also notes when the receiver last sent anything at
all (receiver reports come about once a second): ``studio.webrtc.liveness`` ends a session whose
receiver has gone quiet long before ICE consent (about 30 s) would.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiortc import RTCRtpSender
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    AnyRtcpPacket,
    RtcpPsfbPacket,
    RtcpRtpfbPacket,
    unpack_remb_fci,
)

log = logging.getLogger(__name__)


@dataclass
class FeedbackCounters:
    plis: int = 0
    firs: int = 0
    nacks: int = 0  # lost packets reported
    remb_bps: int | None = None
    rtcp_packets: int = 0  # any RTCP from the receiver (RR, REMB, NACK, PLI...)
    last_rtcp_at: float | None = None  # time.monotonic() of the last one; None until the first

    def feedback_age_s(self, now: float | None = None) -> float | None:
        """Seconds since the receiver last sent RTCP (None before it ever did)."""
        if self.last_rtcp_at is None:
            return None
        return max(0.0, (time.monotonic() if now is None else now) - self.last_rtcp_at)


def attach(
    sender: RTCRtpSender,
    on_keyframe_request: Callable[[], None] | None = None,
    on_remb: Callable[[int], None] | None = None,
) -> FeedbackCounters:
    counters = FeedbackCounters()
    original: Callable[[AnyRtcpPacket], Awaitable[None]] = sender._handle_rtcp_packet

    def call(callback: Callable[..., None] | None, *args: object) -> None:
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:  # a broken callback must not break RTCP handling
            log.exception("RTCP feedback callback %r failed", callback)

    async def handle(packet: AnyRtcpPacket) -> None:
        counters.rtcp_packets += 1
        counters.last_rtcp_at = time.monotonic()
        if isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
            counters.nacks += len(packet.lost)
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
            if packet.fmt == RTCP_PSFB_PLI:
                counters.plis += 1
            else:
                counters.firs += 1
            call(on_keyframe_request)
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            try:
                bitrate, ssrcs = unpack_remb_fci(packet.fci)
            except ValueError:
                bitrate, ssrcs = 0, []
            if sender._ssrc in ssrcs:
                counters.remb_bps = bitrate
                call(on_remb, bitrate)
        await original(packet)

    setattr(sender, "_handle_rtcp_packet", handle)  # noqa: B010 (instance override)
    return counters
