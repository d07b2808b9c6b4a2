"""Hand RTCP feedback that reaches one aiortc sender on to our encoder.

aiortc applies PLI/FIR and REMB only to its own encoder (``RTCRtpSender._handle_rtcp_packet``);
with pre-encoded packets they would be lost. :func:`attach` wraps that method on one sender
instance: it counts NACK/PLI/FIR/REMB, calls our callbacks, then lets aiortc do the rest (NACK
retransmission, RTT from receiver reports). It also notes when the receiver last sent anything at
all (receiver reports come about once a second): ``studio.webrtc.liveness`` ends a session whose
receiver has gone quiet long before ICE consent (about 30 s) would.

Each receiver report block about the sender becomes a :class:`ReceiverReport` (``on_report``): the
loss it states, this report's own round-trip time (aiortc keeps only a slow average, 85 % of the
previous value, which hides a queue building up) and what got through since the previous report
(``delivered_rate``, from the sizes in the sender's retransmission history). A link capped far
below what we send also shows in the NACKs within a few hundred milliseconds: when 40 % or more of
a recent window was NACKed, ``on_report`` gets a report made from them (``from_nacks``). The rate
controller finds a capped link from these in one report.

When the stream starts a new picture (the ladder's step to another rendition, whose first frame is
an IDR), NACKs for packets sent before it are not answered (``FeedbackCounters.picture_restarted``):
the receiver drops those frames at the new IDR anyway, and on the capped link that caused the step
their retransmissions (measured: 189 in the second of a 2 Mbit/s cap, ~0.8 s of the link) crowd out
the new IDR, which then needs retransmissions and keyframe requests of its own.
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
    RtcpReceiverInfo,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSrPacket,
    unpack_remb_fci,
)

from studio.webrtc import internals
from studio.webrtc.delivered_rate import NACK_QUEUE_S, DeliveredRate, Delivery, NackedShare
from studio.webrtc.rtp_history import RtpHistory

log = logging.getLogger(__name__)

NACKED_CAPPED = 0.4  # this share of a window NACKed: a capped link (random loss is not this heavy)
STALE_WINDOW_S = 1.5  # a new picture's older packets go unanswered this long (the history's age)


@dataclass(frozen=True, slots=True)
class ReceiverReport:
    """One receiver report block about our stream."""

    fraction_lost: float  # since the receiver's previous report (0..1), as it states it
    cumulative_lost: int
    highest_sequence: int  # extended (cycles << 16 | sequence number)
    rtt_s: float | None  # this report's round trip (None when it answers an older sender report)
    delivered: Delivery | None  # what got through since the previous report (None when unknown)
    from_nacks: bool = False  # not an RTCP report: a capped link seen in the NACKs (``NackedShare``)

    @property
    def measured_s(self) -> float:
        """How long ago what this report measured began (its delivered rate's window)."""
        if self.delivered is None:
            return 0.0
        return self.delivered.interval_s + (NACK_QUEUE_S + (self.rtt_s or 0.0) if self.from_nacks else 0.0)


@dataclass
class FeedbackCounters:
    plis: int = 0
    firs: int = 0
    nacks: int = 0  # lost packets reported
    remb_bps: int | None = None
    rtcp_packets: int = 0  # any RTCP from the receiver (RR, REMB, NACK, PLI...)
    last_rtcp_at: float | None = None  # time.monotonic() of the last one; None until the first
    last_report: ReceiverReport | None = None  # the latest report about this sender (RTCP or NACKs)
    picture_started_at: float | None = None  # time.monotonic() of the last new picture (on the loop)
    stale_nacks: int = 0  # NACKed packets not answered: sent before a new picture started

    def picture_restarted(self, now: float | None = None) -> None:
        """The next video packet begins a new picture (an IDR of another rendition): NACKs for
        what was sent before go unanswered from now on. Call on the event loop's thread, before
        the picture's first packet is handed to the sender."""
        self.picture_started_at = time.monotonic() if now is None else now

    def feedback_age_s(self, now: float | None = None) -> float | None:
        """Seconds since the receiver last sent RTCP (None before it ever did)."""
        if self.last_rtcp_at is None:
            return None
        return max(0.0, (time.monotonic() if now is None else now) - self.last_rtcp_at)


def attach(
    sender: RTCRtpSender,
    on_keyframe_request: Callable[[], None] | None = None,
    on_remb: Callable[[int], None] | None = None,
    on_report: Callable[[ReceiverReport], None] | None = None,
) -> FeedbackCounters:
    counters = FeedbackCounters()
    original: Callable[[AnyRtcpPacket], Awaitable[None]] = sender._handle_rtcp_packet

    def payload_size(sequence_number: int) -> int | None:
        history = getattr(sender, internals.SENDER_HISTORY, None)  # ours once rtp_history is attached
        return history.payload_size(sequence_number) if isinstance(history, RtpHistory) else None

    def sent_between(start: float, end: float) -> list[tuple[int, int]]:
        history = getattr(sender, internals.SENDER_HISTORY, None)
        return history.sent_between(start, end) if isinstance(history, RtpHistory) else []

    def resent_between(start: float, end: float) -> int:
        history = getattr(sender, internals.SENDER_HISTORY, None)
        return history.resent_between(start, end) if isinstance(history, RtpHistory) else 0

    def answerable(lost: list[int]) -> list[int]:
        """The NACKed sequence numbers worth resending: none sent before a new picture started."""
        started = counters.picture_started_at
        if started is None or time.monotonic() - started > STALE_WINDOW_S:
            return lost
        history = getattr(sender, internals.SENDER_HISTORY, None)
        if not isinstance(history, RtpHistory):
            return lost

        def stale(seq: int) -> bool:  # one lookup per NACKed packet, not a set of the last 1.5 s per NACK
            sent = history.sent_at(seq & 0xFFFF)
            return sent is not None and started - STALE_WINDOW_S <= sent <= started

        keep = [seq for seq in lost if not stale(seq)]
        counters.stale_nacks += len(lost) - len(keep)
        return keep

    delivered = DeliveredRate(payload_size, resent_between=resent_between)
    nacked = NackedShare(sent_between, resent_between=resent_between)

    def report_of(block: RtcpReceiverInfo) -> ReceiverReport:
        rtt = None
        # as aiortc does, but this report alone: it answers the last sender report we sent
        lsr, lsr_time = getattr(sender, internals.SENDER_LSR, None), getattr(sender, internals.SENDER_LSR_TIME, None)
        if lsr is not None and lsr_time is not None and block.lsr == lsr and block.dlsr:
            rtt = max(0.0, time.time() - lsr_time - block.dlsr / 65536)
        return ReceiverReport(block.fraction_lost / 256.0, block.packets_lost, block.highest_sequence, rtt,
                              delivered.on_report(block.highest_sequence, block.packets_lost))

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
            if on_report is not None:
                fast = nacked.on_nack(packet.lost, getattr(sender, internals.SENDER_RTT, None))
                if fast is not None and fast.loss >= NACKED_CAPPED:
                    counters.last_report = report = ReceiverReport(fast.loss, -1, -1, None, fast, from_nacks=True)
                    call(on_report, report)
            packet.lost = answerable(packet.lost)  # what aiortc's handler below resends
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
        elif isinstance(packet, RtcpRrPacket | RtcpSrPacket):
            for block in packet.reports:
                if block.ssrc == sender._ssrc:
                    counters.last_report = report = report_of(block)
                    call(on_report, report)
        await original(packet)

    setattr(sender, "_handle_rtcp_packet", handle)  # noqa: B010 (instance override)
    return counters
