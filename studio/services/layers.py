"""Per-viewer layers in the embedded relay: each viewer of ``X`` watches ``X`` or its low layer ``X.low``.

The studio publishes a second, small encode of the same program as ``X.low`` (video only;
``studio.outputs.low_layer``). For every viewer the relay decides from that viewer's own
feedback which one it gets, so one viewer on a weak link no longer drags everyone down:

- weak (its REMB below 0.7x the main layer's rate, or > 10 % of the packets sent to it NACKed)
  for ``DOWN_HOLD_S``: switch to the low layer. (A receiver's delay-based estimate only grows to
  about what it receives, so REMB near the main layer's rate proves nothing; clearly below it, the
  receiver is telling us it cannot keep up.)
- on the low layer, REMB cannot show room for the main one (it follows the low rate), so after
  ``UP_HOLD_S`` with < 2 % NACKed the viewer tries the main layer again; a try that fails within
  ``UP_HOLD_S`` doubles the wait before the next one (up to ``MAX_UP_HOLD_S``).

A viewer's receiver reports say more (``feedback.ReceiverReport``: its loss, and what got through
since its previous report): a report with heavy loss (>= 25 %: a link far below the main layer)
moves the viewer down at once, without the hold, and what it delivered is that viewer's capacity.
While the main layer does not fit in 0.85x that capacity the viewer tries it again only after
``CAPPED_UP_HOLD_S`` (its link may have got better): a try into a link known to be too small is a
second or two of frozen picture for nothing.

A switch happens at the new layer's next keyframe (one is asked for upstream); until then the
viewer keeps getting the old layer. Each layer's packets are rebased onto the viewer's own
timeline at the switch (the new keyframe follows the last frame it got by one frame), so its
decoder sees one continuous stream. Audio always comes from the main stream.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import av

from studio.webrtc.feedback import ReceiverReport

HIGH, LOW = "high", "low"
LOW_SUFFIX = ".low"
FRAME_TICKS = 3000  # one 30 fps frame on the 90 kHz RTP clock
DOWN_HOLD_S = 1.0
UP_HOLD_S = 10.0
MAX_UP_HOLD_S = 80.0
WEAK_REMB = 0.7  # x the main layer's rate
WEAK_NACKS = 0.10  # share of the packets sent to the viewer that it reported lost
STRONG_NACKS = 0.02
CAPPED_LOSS = 0.25  # one report with this much loss: the viewer's link is far below the main layer
FITS_CAPACITY = 0.85  # the main layer fits a viewer's measured capacity below this share of it
CAPPED_UP_HOLD_S = 60.0


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
        self._nacks = 0
        self._sent = 0
        self._up_hold = UP_HOLD_S
        self._went_up_at = -1e9
        self._report: ReceiverReport | None = None  # the last report looked at
        self._capacity_bps: int | None = None  # video rate a capped link delivered to this viewer
        self._went_down_at = -1e9

    def decide(self, remb_bps: int | None, nacks: int, packets_sent: int, main_bps: int,
               low_available: bool, report: ReceiverReport | None = None) -> str | None:
        """Look at the viewer's feedback (cumulative NACK and sent counts, its latest receiver
        report); returns the layer a switch has just been decided for (it needs a keyframe), else None."""
        sent = max(1, packets_sent - self._sent)
        lost = max(0, nacks - self._nacks) / sent
        self._nacks, self._sent = nacks, packets_sent
        reported: float | None = None  # loss in a receiver report not looked at before
        delivered: int | None = None
        if report is not None and report is not self._report:
            self._report = report
            reported = report.delivered.loss if report.delivered is not None else report.fraction_lost
            delivered = report.delivered.bps if report.delivered is not None else None
        if not low_available:  # no low layer (any more): the main one, at its next keyframe
            self._leaning = None
            if self.wanted == HIGH:
                return None
            self.wanted = HIGH
            return HIGH
        now = self._clock()
        capped = reported is not None and reported >= CAPPED_LOSS
        if capped and delivered is not None:
            self._capacity_bps = delivered
        if self.wanted == HIGH:
            # a report's moderate loss is no reason: random loss is as bad on the low layer (measured
            # at 5 % loss: viewers held on 360p that never looked strong enough to come back)
            weak = (remb_bps is not None and remb_bps < main_bps * WEAK_REMB) or lost > WEAK_NACKS or capped
            target = LOW if weak else HIGH
        else:
            strong = lost < STRONG_NACKS and not capped
            capacity = self._capacity_bps
            fits = capacity is None or main_bps <= capacity * FITS_CAPACITY
            target = HIGH if strong and (fits or now - self._went_down_at >= CAPPED_UP_HOLD_S) else LOW
        if target == self.wanted:
            self._leaning = None
            return None
        if self._leaning != target:
            self._leaning, self._leaning_since = target, now
        hold = (0.0 if capped else DOWN_HOLD_S) if target == LOW else self._up_hold
        if now - self._leaning_since < hold:
            return None
        self.wanted, self._leaning = target, None
        if target == HIGH:
            self._went_up_at = now
        else:  # a try of the main layer that failed soon: wait longer before the next one
            self._went_down_at = now
            failed_try = now - self._went_up_at < UP_HOLD_S
            self._up_hold = min(self._up_hold * 2, MAX_UP_HOLD_S) if failed_try else UP_HOLD_S
        return target

    def accept(self, layer: str, packet: av.Packet) -> av.Packet | None:
        """What this viewer gets of ``layer``'s video ``packet``: it rebased, or None."""
        if layer == self.wanted != self.current and packet.is_keyframe:
            assert packet.pts is not None
            self.current = layer
            self.switches += 1
            self._offset[layer] = 0 if self._last_pts is None else self._last_pts + FRAME_TICKS - packet.pts
        if layer != self.current:
            return None
        out = _rebased(packet, self._offset[layer])
        self._last_pts = out.pts
        return out


def base_name(stream_name: str) -> str | None:
    """``X.low`` -> ``X``; None for a main stream."""
    return stream_name[: -len(LOW_SUFFIX)] if stream_name.endswith(LOW_SUFFIX) else None
