"""Hand RTCP feedback that reaches one aiortc sender on to our encoder.

aiortc applies PLI/FIR and REMB only to its own encoder (``RTCRtpSender._handle_rtcp_packet``);
with pre-encoded packets they would be lost. :func:`attach` wraps that method on one sender
instance: it counts NACK/PLI/FIR/REMB, calls our callbacks, then lets aiortc do the rest (NACK
retransmission, RTT from receiver reports).
"""

from __future__ import annotations

import logging
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
