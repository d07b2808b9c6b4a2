"""What actually got through to a receiver, from its receiver reports (issue 11: finding a capped link).

A receiver report carries the extended highest sequence number received and the cumulative
number of packets lost. Between two reports the receiver got ``expected - lost`` of the packets
we sent in that sequence range; times the sizes we sent them at (the sender's retransmission
history keeps every packet of the last 1.5 s) over the time between the reports, that is the rate
the link delivered -- libwebrtc's "acknowledged bitrate", from plain RTCP. On a link capped below
what we send it is the cap, so one report tells the rate controller where the link is, where a
loss-based controller that cuts by ``1 - 0.5 x loss`` needs several reports (27 s on a 1 Mbit/s
uplink in the network bench).

Receiver reports come about once a second; a link capped far below what we send shows sooner in
the receiver's NACKs (it asks for each gap as soon as it sees it). :class:`NackedShare` measures
the share of the packets sent over a recent window that were NACKed, one round trip (plus a queue's
worth) after they left: at 40 % or more it is a capped link, and what was not NACKed is what got
through, within a few hundred milliseconds of the cap.

Sizes are RTP payload bytes (what the encoder's bitrate counts); the header overhead is the rate
controller's business. Retransmissions cross the same link: what we resent over the range counts
as delivered too, at the range's loss (at 50 % loss they were a third of what a 1 Mbit/s link
carried, and leaving them out put the link at half its rate), but at most as many bytes as were lost
in the range: each useful retransmission recovers a lost packet, and the rest (repeats, extra copies,
answers to a storm of NACKs) went into the same full queue. Counted whole at the range's loss, a
storm made a 1 Mbit/s link measure 3.7 Mbit/s (63 % NACKed, ~8 Mbit/s resent into it), and the stream
took three steps and 4.8 s of frozen picture to come down to it. Packets the history no longer holds
count at the mean size of those it does.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

MIN_INTERVAL_S = 0.2  # reports closer than this (a compound burst) measure nothing reliable
MAX_INTERVAL_S = 5.0  # ... and this far apart, the sizes are long gone: start over
MAX_SIZE_SAMPLES = 512  # sizes looked up per report at most (every k-th packet of a long range)
NACK_WINDOW_S = 0.3  # packets sent over this long are judged together
NACK_QUEUE_S = 0.15  # a NACK comes one round trip plus up to a queue's delay after its packet left
NACK_MIN_PACKETS = 40  # fewer in the window: too few to tell a share from chance (20 % random loss
# reaches 40 % of 40 packets ~0.1 % of the time)
NACK_EVERY_S = 0.1  # measured at most this often (NACKs come in bursts)
NACK_KEEP_S = 3.0


@dataclass(frozen=True, slots=True)
class Delivery:
    bps: int  # payload bits per second the receiver got between the two reports
    loss: float  # share of the packets sent in that range that it did not get (0..1)
    expected: int  # packets sent in the range
    interval_s: float
    sent_bps: int = 0  # payload bits per second we sent in that range (over the same time)


def useful_resent(resent: float, lost: float, loss: float) -> float:
    """Retransmitted bytes that count as delivered: no more than the ``lost`` bytes they can
    recover, as likely lost as the rest (``loss``)."""
    return min(resent, lost) * (1 - loss)


class DeliveredRate:
    """Feed it one receiver report block at a time (one SSRC); use on one thread."""

    def __init__(self, payload_size: Callable[[int], int | None],
                 clock: Callable[[], float] = time.monotonic,
                 resent_between: Callable[[float, float], int] = lambda start, end: 0) -> None:
        """``payload_size(sequence_number)``: bytes of payload we sent with that 16-bit sequence
        number, or None when no longer known; ``resent_between(start, end)``: payload bytes we
        retransmitted then (they crossed the same link: a capped link's capacity is theirs too)."""
        self._payload_size = payload_size
        self._resent_between = resent_between
        self._clock = clock
        self._last: tuple[float, int, int] | None = None  # (time, extended highest seq, cumulative lost)

    def on_report(self, highest_sequence: int, cumulative_lost: int) -> Delivery | None:
        """One report block; returns what got through since the previous one (None for the first,
        for a repeat of the same range, or for reports too close together or too far apart)."""
        now = self._clock()
        last, self._last = self._last, (now, highest_sequence, cumulative_lost)
        if last is None:
            return None
        then, prev_highest, prev_lost = last
        interval = now - then
        expected = highest_sequence - prev_highest
        if expected <= 0 or not MIN_INTERVAL_S <= interval <= MAX_INTERVAL_S:
            if expected <= 0 or interval < MIN_INTERVAL_S:
                self._last = last  # measure from the earlier report next time
            return None
        lost = min(max(cumulative_lost - prev_lost, 0), expected)
        mean = self._mean_size(prev_highest + 1, highest_sequence)
        if mean is None:
            return None
        received = expected - lost
        resent = useful_resent(self._resent_between(then, now), lost * mean, lost / expected)
        return Delivery(int((received * mean + resent) * 8 / interval), lost / expected, expected, interval,
                        int(expected * mean * 8 / interval))

    def _mean_size(self, first: int, last: int) -> float | None:
        step = max(1, (last - first + 1) // MAX_SIZE_SAMPLES)
        sizes = [s for s in (self._payload_size(seq & 0xFFFF) for seq in range(first, last + 1, step))
                 if s is not None]
        return sum(sizes) / len(sizes) if sizes else None


class NackedShare:
    """What got through over the last window, from the receiver's NACKs; use on one thread."""

    def __init__(self, sent_between: Callable[[float, float], list[tuple[int, int]]],
                 clock: Callable[[], float] = time.monotonic,
                 resent_between: Callable[[float, float], int] = lambda start, end: 0) -> None:
        """``sent_between(start, end)``: (sequence number, payload bytes) of what we sent then;
        ``resent_between``: as for :class:`DeliveredRate`."""
        self._sent_between = sent_between
        self._resent_between = resent_between
        self._clock = clock
        self._nacked: OrderedDict[int, float] = OrderedDict()  # sequence number -> first NACKed
        self._measured = -1e9

    def on_nack(self, sequence_numbers: Iterable[int], rtt_s: float | None) -> Delivery | None:
        """One NACK; returns the window's delivery (at most every ``NACK_EVERY_S``), else None."""
        now = self._clock()
        for seq in sequence_numbers:
            self._nacked.setdefault(seq & 0xFFFF, now)
        while self._nacked and now - next(iter(self._nacked.values())) > NACK_KEEP_S:
            self._nacked.popitem(last=False)
        if now - self._measured < NACK_EVERY_S:
            return None
        end = now - (rtt_s or 0.0) - NACK_QUEUE_S
        window = self._sent_between(end - NACK_WINDOW_S, end)
        if len(window) < NACK_MIN_PACKETS:
            return None
        self._measured = now
        lost = [size for seq, size in window if seq in self._nacked]
        total = sum(size for _, size in window)
        share = len(lost) / len(window)
        resent = useful_resent(self._resent_between(end - NACK_WINDOW_S, end), sum(lost), share)
        return Delivery(int((total - sum(lost) + resent) * 8 / NACK_WINDOW_S), share, len(window),
                        NACK_WINDOW_S, int(total * 8 / NACK_WINDOW_S))


__all__ = ["DeliveredRate", "Delivery", "NackedShare", "useful_resent"]
