"""Retransmission history sized in time for one aiortc sender (issue 11, item 1).

aiortc 1.16's ``RTCRtpSender`` keeps the last 128 packets (``RTP_HISTORY_SIZE``): 0.2 s at
5 Mbit/s, so under loss most NACKs arrive after the packet is gone. :func:`attach` gives one
sender a history that keeps every packet for ``max_age_s`` (at least 1 s, whatever the bitrate),
bounded by ``max_packets`` so a runaway bitrate cannot eat memory (OBS keeps ~4000), and answers
NACKs from it: through RTX when negotiated, at most once per ``min_resend_s`` per packet (one NACK
list repeated at once is answered once), counting what it resent and what it could not.

aiortc writes ``history[seq % 128] = packet`` in ``_run_rtp``; :class:`RtpHistory` takes that write
and keys by the packet's own sequence number. Reading goes through our ``_retransmit``.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from aiortc import RTCRtpSender
from aiortc.rtp import RtpPacket, wrap_rtx
from aiortc.utils import uint16_add

from studio.webrtc import internals, trace

DEFAULT_MAX_AGE_S = 1.5  # > 1 s: a NACK after the receiver's give-up time (<= 0.3 s) plus an RTT
DEFAULT_MAX_PACKETS = 4096


@dataclass
class RetransmitCounters:
    nacked: int = 0  # packets asked for
    retransmissions: int = 0  # packets sent again
    unanswered: int = 0  # asked for but no longer (or never) in the history
    suppressed: int = 0  # asked again within min_resend_s of the last resend
    repeats: int = 0  # asked again after a resend: the resend or the NACK was lost
    extra_copies: int = 0  # copies sent beyond one per answer


@dataclass
class _Entry:
    packet: RtpPacket
    sent_at: float
    resent_at: float | None = None
    resends: int = 0


class RtpHistory:
    """Sent packets by sequence number, oldest first, bounded by age and count."""

    def __init__(
        self,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        max_packets: int = DEFAULT_MAX_PACKETS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_age_s <= 0 or max_packets < 1:
            raise ValueError(f"RtpHistory: need max_age_s > 0 and max_packets >= 1 ({max_age_s}, {max_packets})")
        self.max_age_s = max_age_s
        self.max_packets = max_packets
        self._clock = clock
        self._entries: OrderedDict[int, _Entry] = OrderedDict()
        self._resent: deque[tuple[float, int]] = deque()  # (time, payload bytes) of retransmissions

    def __len__(self) -> int:
        return len(self._entries)

    def __setitem__(self, _slot: int, packet: RtpPacket) -> None:
        # aiortc's ``__rtp_history[seq % RTP_HISTORY_SIZE] = packet``: the slot is not ours to use
        self.put(packet)

    def put(self, packet: RtpPacket) -> None:
        now = self._clock()
        self._entries.pop(packet.sequence_number, None)
        self._entries[packet.sequence_number] = _Entry(packet, now)
        self._evict(now)

    def span_s(self) -> float:
        """Seconds between the oldest and the newest packet kept."""
        if not self._entries:
            return 0.0
        first = next(iter(self._entries.values()))
        last = next(reversed(self._entries.values()))
        return last.sent_at - first.sent_at

    def entry(self, sequence_number: int) -> _Entry | None:
        now = self._clock()
        self._evict(now)
        return self._entries.get(sequence_number)

    def sent_at(self, sequence_number: int) -> float | None:
        """When this sequence number was first sent, while kept (``feedback`` reads it)."""
        entry = self._entries.get(sequence_number)
        return None if entry is None else entry.sent_at

    def payload_size(self, sequence_number: int) -> int | None:
        """Payload bytes sent with this sequence number, while kept (``delivered_rate`` reads it)."""
        entry = self._entries.get(sequence_number)
        return None if entry is None else len(entry.packet.payload)

    def note_resent(self, payload_bytes: int) -> None:
        """A retransmission left: it took the link's capacity too (``delivered_rate`` counts it)."""
        now = self._clock()
        self._resent.append((now, payload_bytes))
        while self._resent and now - self._resent[0][0] > self.max_age_s:
            self._resent.popleft()

    def resent_between(self, start: float, end: float) -> int:
        """Payload bytes retransmitted in ``[start, end]`` (the last ``max_age_s`` are kept)."""
        return sum(size for t, size in self._resent if start <= t <= end)

    def sent_between(self, start: float, end: float) -> list[tuple[int, int]]:
        """(sequence number, payload bytes) of the packets first sent in ``[start, end]``, newest first."""
        found = []
        for seq, entry in reversed(self._entries.items()):
            if entry.sent_at > end:
                continue
            if entry.sent_at < start:
                break
            found.append((seq, len(entry.packet.payload)))
        return found

    def _evict(self, now: float) -> None:
        entries = self._entries
        while entries:
            oldest = next(iter(entries.values()))
            if len(entries) <= self.max_packets and now - oldest.sent_at <= self.max_age_s:
                break
            entries.popitem(last=False)


def attach(
    sender: RTCRtpSender,
    *,
    max_age_s: float = DEFAULT_MAX_AGE_S,
    max_packets: int = DEFAULT_MAX_PACKETS,
    min_resend_s: float = 0.005,
    repeat_copies: int = 2,
    slow_reask_s: float = 0.05,
    max_copy_share: float = 0.12,
    clock: Callable[[], float] = time.monotonic,
) -> RetransmitCounters:
    """Give ``sender`` a time-sized history and our NACK answers (before it starts sending).

    Copies of an answer, where a lost one costs a freeze. A receiver asks again only after its own
    retry interval, and Chromium's is 100 ms whenever it cannot measure the round trip (a
    receive-only peer never can): each lost answer (or lost NACK) costs a whole interval, and two in
    a row are a freeze. So a packet asked for again after we resent it goes out ``repeat_copies``
    times; and once a receiver is seen to re-ask no sooner than ``slow_reask_s`` after our answers,
    its first answers go out that many times too, while no more than ``max_copy_share`` of what we
    sent in the last second was NACKed (random loss, not a full link that copies would choke).
    A receiver that re-asks quickly (our relay's ingest: ~10 ms) gets single answers."""
    if repeat_copies < 1:
        raise ValueError(f"rtp_history.attach: repeat_copies must be >= 1, got {repeat_copies}")
    history = RtpHistory(max_age_s, max_packets, clock)
    counters = RetransmitCounters()
    setattr(sender, internals.SENDER_HISTORY, history)
    reasks: deque[float] = deque(maxlen=8)  # the receiver's last re-ask delays after our answers
    first_nacks: deque[float] = deque()  # when packets were first NACKed, the last second

    def copies_for(entry: _Entry, now: float) -> int:
        if entry.resends:
            return repeat_copies
        first_nacks.append(now)
        while first_nacks and now - first_nacks[0] > 1.0:
            first_nacks.popleft()
        if len(reasks) < 2 or min(reasks) < slow_reask_s:
            return 1  # a quick (or not yet known) re-asker: a lost answer costs little
        sent_per_s = len(history) / max(history.span_s(), 0.1)
        return repeat_copies if len(first_nacks) <= max_copy_share * sent_per_s else 1

    async def retransmit(sequence_number: int) -> None:
        counters.nacked += 1
        entry = history.entry(sequence_number)
        if entry is None:
            counters.unanswered += 1
            trace.event("rtx_unanswered", seq=sequence_number, kept=len(history))
            return
        now = clock()
        # a repeat within min_resend_s is a duplicate list, not a retry. Not half our RTT, as it was:
        # that RTT comes from receiver reports, late by the receiver's own delays (18-60 ms on a busy
        # machine), and the relay's ingest re-asks after 10 ms: most of its retries were dropped here
        if entry.resent_at is not None and now - entry.resent_at < min_resend_s:
            counters.suppressed += 1
            trace.event("rtx_suppressed", seq=sequence_number, since_ms=round(1000 * (now - entry.resent_at), 2))
            return
        if entry.resent_at is not None:
            counters.repeats += 1
            reasks.append(now - entry.resent_at)
            trace.event("rtx_repeat", seq=sequence_number, resends=entry.resends,
                        since_ms=round(1000 * (now - entry.resent_at), 1))
        copies = copies_for(entry, now)
        counters.extra_copies += copies - 1
        entry.resent_at = now
        entry.resends += 1
        trace.event("rtx_sent", seq=sequence_number, copies=copies, age_ms=round(1000 * (now - entry.sent_at), 1))
        for _ in range(copies):
            packet = entry.packet
            rtx_payload_type = getattr(sender, internals.SENDER_RTX_PAYLOAD_TYPE)
            if rtx_payload_type is not None:  # each copy its own RTX sequence number
                rtx_seq = getattr(sender, internals.SENDER_RTX_SEQUENCE_NUMBER)
                packet = wrap_rtx(packet, payload_type=rtx_payload_type, sequence_number=rtx_seq,
                                  ssrc=sender._rtx_ssrc)
                setattr(sender, internals.SENDER_RTX_SEQUENCE_NUMBER, uint16_add(rtx_seq, 1))
            data = packet.serialize(getattr(sender, internals.SENDER_HEADER_EXTENSIONS_MAP))
            counters.retransmissions += 1
            history.note_resent(len(entry.packet.payload))
            await sender.transport._send_rtp(data)

    setattr(sender, "_retransmit", retransmit)  # noqa: B010 (instance override)
    return counters


__all__ = ["DEFAULT_MAX_AGE_S", "DEFAULT_MAX_PACKETS", "RetransmitCounters", "RtpHistory", "attach"]
