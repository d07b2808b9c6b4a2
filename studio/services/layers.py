"""Per-viewer layers in the embedded relay: each viewer of ``X`` watches ``X`` or its low layer ``X.low``.

The studio publishes a second, small encode of the same program as ``X.low`` (video only;
``studio.outputs.low_layer``). For every viewer the relay decides from that viewer's own
feedback which one it gets, so one viewer on a weak link no longer drags everyone down. A viewer
goes down for lack of capacity, never for random loss: the NACK/RED machinery repairs random loss,
and the low layer would lose as much (measured at 2 % loss per leg: viewers moved down on NACK
counts watched 360p for more than half of the time). Capacity runs short when

- a receiver report (or a window of NACKs, ``feedback``) states heavy loss (>= 25 %: a link far
  below the main layer): down at once, without a hold, and what it delivered is that viewer's
  capacity. Main-layer packets stop at once too: they cannot get through, and queued in front of the
  low layer's keyframe they would only delay it;
- the viewer's REMB stays below 0.7x the main layer's rate for ``DOWN_HOLD_S`` (a receiver's
  delay-based estimate only grows to about what it receives, so REMB near the main layer's rate
  proves nothing; clearly below it, the receiver is telling us it cannot keep up);
- loss comes with a queue for ``DOWN_HOLD_S``: a report with >= 5 % loss whose round trip is over
  twice the viewer's floor and 50 ms above it (a full link's queue; random loss does not queue).

On the low layer REMB cannot show room for the main one (it follows the low rate), so after
``UP_HOLD_S`` without those signs the viewer tries the main layer again; a try that fails within
``UP_HOLD_S`` doubles the wait before the next one (up to ``MAX_UP_HOLD_S``). While the main layer
does not fit in 0.85x a measured capacity the viewer tries it again only after ``CAPPED_UP_HOLD_S``
(its link may have got better): a try into a link known to be too small is a second or two of frozen
picture for nothing.

A switch happens at the new layer's next keyframe (one is asked for upstream); until then the
viewer keeps getting the old layer (unless its packets cannot get through, above). Each layer's
packets are rebased onto the viewer's own timeline at the switch (the new keyframe follows the last
frame it got by one frame), so its decoder sees one continuous stream. Audio always comes from the
main stream.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import av

from studio.webrtc.delivered_rate import Delivery
from studio.webrtc.feedback import ReceiverReport

HIGH, LOW = "high", "low"
LOW_SUFFIX = ".low"
FRAME_TICKS = 3000  # one 30 fps frame on the 90 kHz RTP clock
DOWN_HOLD_S = 1.0
UP_HOLD_S = 10.0
MAX_UP_HOLD_S = 80.0
WEAK_REMB = 0.7  # x the main layer's rate
REMB_GROWING = 1.03  # a REMB this much above the one REMB_GROWTH_S earlier: an estimate still ramping up
REMB_GROWTH_S = 1.0
CAPPED_LOSS = 0.25  # one report with this much loss: the viewer's link is far below the main layer
FITS_CAPACITY = 0.85  # the main layer fits a viewer's measured capacity below this share of it
CAPPED_UP_HOLD_S = 60.0
QUEUE_LOSS = 0.05  # loss in a report that, with a queue, says the link is full
QUEUE_RTT_FACTOR = 2.0  # a queue: the round trip over this x the viewer's floor ...
QUEUE_RTT_ADDED_S = 0.05  # ... and this much above it
LOSS_WINDOW_S = 1.0  # receiver reports are judged over this long together ...
LOSS_MIN_PACKETS = 40  # ... and only with this many packets sent
RTT_FLOOR_S = 60.0  # the floor is the lowest round trip over this long (a path may change)


class RateMeter:
    """Bits per second of what passed over the last second."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._recent: deque[tuple[float, int]] = deque()
        self._bytes = 0

    def add(self, size: int) -> None:
        now = self._clock()
        self._recent.append((now, size))
        self._bytes += size
        while self._recent and self._recent[0][0] < now - 1.0:
            self._bytes -= self._recent.popleft()[1]

    @property
    def bps(self) -> int:
        return self._bytes * 8


def _rebased(packet: av.Packet, offset: int) -> av.Packet:
    if offset == 0:
        return packet  # shared by every viewer on the same timeline: no copy
    assert packet.pts is not None
    out = av.Packet(bytes(packet))
    out.pts = out.dts = packet.pts + offset
    out.time_base = packet.time_base
    out.is_keyframe = packet.is_keyframe
    return out


class ViewerLayer:
    """One viewer's layer: the decision (``decide``) and the packets it gets (``accept``).
    Used on the relay's loop thread only."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.current = HIGH
        self.wanted = HIGH
        self.switches = 0
        self._offset = {HIGH: 0, LOW: 0}
        self._last_pts: int | None = None
        self._leaning: str | None = None  # the layer the feedback points to, and since when
        self._leaning_since = 0.0
        self._up_hold = UP_HOLD_S
        self._went_up_at = -1e9
        self._report: ReceiverReport | None = None  # the last report looked at
        self._capacity_bps: int | None = None  # video rate a full link delivered to this viewer
        self._capacity_at = -1e9
        self._went_down_at = -1e9
        self._rtts: deque[tuple[float, float]] = deque()  # (time, round trip) for the floor
        self._deliveries: deque[tuple[float, Delivery]] = deque()  # the receiver reports' last second
        self._queued = False  # the last report: loss with a queue
        self._starved = False  # going down because the main layer cannot get through: stop sending it
        self._rembs: deque[tuple[float, int]] = deque()  # (time, REMB) on the main layer, the last second
        self.reason = ""  # why the last switch was decided (for the log)

    def decide(self, remb_bps: int | None, main_bps: int, low_available: bool,
               report: ReceiverReport | None = None) -> str | None:
        """Look at the viewer's feedback (its REMB, its latest receiver report); returns the layer a
        switch has just been decided for (it needs a keyframe), else None."""
        now = self._clock()
        reported: float | None = None  # loss in a receiver report not looked at before
        delivered: int | None = None
        if report is not None and report is not self._report:
            self._report = report
            reported, delivered = self._measured(report, now)
            if report.rtt_s is not None:  # else it answers an older sender report: no new round trip
                queue = self._queueing(report.rtt_s, now)
                if reported is not None:
                    self._queued = queue and reported >= QUEUE_LOSS
        if not low_available:  # no low layer (any more): the main one, at its next keyframe
            self._leaning, self._starved = None, False
            if self.wanted == HIGH:
                return None
            self.wanted, self.reason = HIGH, "no low layer"
            return HIGH
        capped = reported is not None and reported >= CAPPED_LOSS
        short = capped or self._queued  # signs of a link too small for what it gets now
        if short and delivered is not None:  # a full link: what got through is what it carries
            # the lowest figure since the viewer last came to the main layer: a window of NACKs or a
            # report that counts a burst from the link's queue (or retransmissions) reads high, and
            # one figure up to 3x the cap sent a viewer back into a 1 Mbit/s link within 10 s
            same_try = self._capacity_bps is not None and self._capacity_at >= self._went_up_at
            self._capacity_bps = min(delivered, self._capacity_bps or delivered) if same_try else delivered
            self._capacity_at = now
        if self.wanted == HIGH:
            # a REMB still growing towards the main layer's rate is a fresh estimate ramping up
            # (Chromium's starts low and grows some 8 % a second: a viewer moved down on it watched
            # 360p on a clean link); one that stays or falls there is a receiver that cannot keep up
            ramping = remb_bps is None or self._ramping(remb_bps, now)
            weak = short or (remb_bps is not None and remb_bps < main_bps * WEAK_REMB and not ramping)
            target = LOW if weak else HIGH
            why = ("heavy loss" if capped else "loss with a queue" if self._queued else
                   f"REMB {remb_bps} bit/s fell below the main layer's {main_bps}")
        else:
            capacity = self._capacity_bps
            fits = capacity is None or main_bps <= capacity * FITS_CAPACITY
            target = HIGH if not short and (fits or now - self._went_down_at >= CAPPED_UP_HOLD_S) else LOW
            why = "a try of the main layer" + ("" if fits else f" (its link carried {capacity} bit/s)")
        if target == self.wanted:
            self._leaning = None
            return None
        if self._leaning != target:
            self._leaning, self._leaning_since = target, now
        hold = (0.0 if capped else DOWN_HOLD_S) if target == LOW else self._up_hold
        if now - self._leaning_since < hold:
            return None
        self.wanted, self._leaning, self.reason = target, None, why
        if target == HIGH:
            self._went_up_at = now
            self._starved = False
            self._rembs.clear()
        else:  # a try of the main layer that failed soon: wait longer before the next one
            self._went_down_at = now
            self._starved = capped
            failed_try = now - self._went_up_at < UP_HOLD_S
            self._up_hold = min(self._up_hold * 2, MAX_UP_HOLD_S) if failed_try else UP_HOLD_S
        return target

    @property
    def starved(self) -> bool:
        """Going down because the main layer cannot get through (its packets stop at once)."""
        return self._starved

    def _measured(self, report: ReceiverReport, now: float) -> tuple[float | None, int | None]:
        """The loss and delivered rate to judge by, or (None, None) while too few packets back them:
        a window of NACKs as it comes (it holds enough packets), receiver reports summed over the last
        ``LOSS_WINDOW_S`` (Chromium sends one with each NACK and REMB: a few hundred ms, a handful of
        packets, and 2 lost of 7 at 2 % random loss is no capped link)."""
        delivery = report.delivered
        if delivery is None:
            return None, None
        if report.from_nacks:
            return delivery.loss, delivery.bps
        window = self._deliveries
        window.append((now, delivery))
        while window and window[0][0] <= now - LOSS_WINDOW_S:
            window.popleft()
        expected = sum(d.expected for _, d in window)
        if expected < LOSS_MIN_PACKETS:
            return None, None
        lost = sum(d.loss * d.expected for _, d in window)
        seconds = sum(d.interval_s for _, d in window)
        return lost / expected, int(sum(d.bps * d.interval_s for _, d in window) / seconds)

    def _ramping(self, remb_bps: int, now: float) -> bool:
        """Whether the receiver's estimate is still growing (or too new to tell, and not falling)."""
        rembs = self._rembs
        rembs.append((now, remb_bps))
        while len(rembs) > 1 and rembs[1][0] <= now - REMB_GROWTH_S:
            rembs.popleft()
        then, earlier = rembs[0]
        return remb_bps > earlier * REMB_GROWING or (now - then < REMB_GROWTH_S and remb_bps >= earlier)

    def _queueing(self, rtt_s: float, now: float) -> bool:
        """Whether this round trip shows a queue over the viewer's floor (and keep it for the floor)."""
        while self._rtts and self._rtts[0][0] < now - RTT_FLOOR_S:
            self._rtts.popleft()
        self._rtts.append((now, rtt_s))
        floor = min(r for _, r in self._rtts)
        return rtt_s > max(floor * QUEUE_RTT_FACTOR, floor + QUEUE_RTT_ADDED_S)

    def accept(self, layer: str, packet: av.Packet) -> av.Packet | None:
        """What this viewer gets of ``layer``'s video ``packet``: it rebased, or None."""
        if layer == self.wanted != self.current and packet.is_keyframe:
            assert packet.pts is not None
            self.current = layer
            self.switches += 1
            self._offset[layer] = 0 if self._last_pts is None else self._last_pts + FRAME_TICKS - packet.pts
        if layer != self.current or (self._starved and layer != self.wanted):
            return None
        out = _rebased(packet, self._offset[layer])
        self._last_pts = out.pts
        return out


def base_name(stream_name: str) -> str | None:
    """``X.low`` -> ``X``; None for a main stream."""
    return stream_name[: -len(LOW_SUFFIX)] if stream_name.endswith(LOW_SUFFIX) else None
