"""The stream's target bitrate from two estimates: delay-based (REMB) and loss-based (RTCP RR).

REMB alone never lowers the rate for loss (at 20 % random loss the receiver's delay estimate can
stay at the top), so a loss-based estimate runs beside it, after libwebrtc's classic
``SendSideBandwidthEstimation``: on each receiver report with

- loss < 2 %: grow by 8 % (plus 1 kbit/s) at most once a second,
- 2-10 %: hold,
- > 10 %: cut to ``rate * (1 - 0.5 * loss)`` at most once per 300 ms + RTT (a cut must be able to
  show in the next report before the next one).

The target is the smaller of the two, within the user's range. REMB only limits while it says the
receiver gets clearly less than we send (``APP_LIMITED``): a receiver's delay-based estimator only grows
to ~1.5x what it receives, so on a simple picture (a test pattern: 400 kbit/s at a 5000 target)
REMB tracks the encoder's output, not the link, and following it would starve the stream and drop
the ladder for no congestion at all (measured with the embedded relay: REMB 405 kbit/s on
loopback). Rises are then bounded by the loss-based estimate's 8 %/s, which probes like
libwebrtc's additive increase. Changes are applied when they
differ by more than 5 % from what the encoder runs at: with libx264 a change no longer costs an
IDR (``encoders.video``), so following the estimate closely is cheap; the 5 % keeps REMB's
wobble from reconfiguring the encoder every second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

LOSS_LOW = 0.02
LOSS_HIGH = 0.10
GROWTH_PER_S = 1.08
# Near the rate where congestion last showed, grow this slowly (libwebrtc's AIMD does the same near
# its link capacity estimate): measured on a 1 Mbit/s uplink, 8 %/s overshot the link again every
# ~15 s and each overshoot (with an IDR) cost 50 % loss for a second.
GROWTH_NEAR_LINK_PER_S = 1.02
NEAR_LINK = 0.9
FORGET_LINK = 1.15  # grown this far past it without congestion: the link got better, forget it
GROWTH_INTERVAL_S = 1.0
DECREASE_INTERVAL_S = 0.3
APPLY_CHANGE = 0.05  # relative difference that is worth telling the encoder about
# REMB at least this share of what we send: the receiver keeps up, the estimate is not a limit.
# aiortc's estimator answers a (often spurious, CPU jitter) overuse with 0.85x the incoming rate;
# a real bottleneck shows as far less than we send (1 Mbit/s link, 1.5 sent: REMB ~0.85 = 0.57x).
APP_LIMITED = 0.75
BELOW_SAMPLES = 2  # ...and in this many send-rate samples in a row (a dip and its recovery is jitter)
CONGESTED = 0.5  # REMB this far below what we send limits at once


@dataclass(frozen=True, slots=True)
class RateEstimate:
    target_bps: int  # min of both estimates, clamped to the user's range
    delay_bps: int | None  # last REMB (None before the first)
    delay_limits: bool  # REMB below what we send: the delay-based estimate is the limit
    loss_bps: int  # loss-based estimate
    loss_fraction: float | None  # last reported fraction lost (None before the first report)


class RateController:
    """Thread-safe: REMB and receiver reports arrive on the net thread; ``apply_kbps`` is called
    outside the lock with the new target whenever it moved enough."""

    def __init__(
        self,
        apply_kbps: Callable[[int], None],
        min_kbps: int,
        max_kbps: int,
        start_kbps: int,
        clock: Callable[[], float] = time.monotonic,
        other_bps: int = 0,
    ) -> None:
        """``other_bps``: what else the session sends (audio, packet headers). Both estimates are of
        the whole session (REMB covers every stream; loss-based grows from what is sent), so the
        video target is what they leave after it."""
        if not 0 < min_kbps <= max_kbps:
            raise ValueError(f"bitrate range {min_kbps}..{max_kbps} kbps is not valid")
        self._apply = apply_kbps
        self.min_bps, self.max_bps = min_kbps * 1000, max_kbps * 1000
        self._clock = clock
        self._lock = threading.Lock()
        start_bps = self._clamp(start_kbps * 1000)
        self._delay_bps: int | None = None
        self._sent_bps: int | None = None
        self._below = 0  # send-rate samples in a row with REMB clearly below what we send
        self._delay_limits = False
        self._other = max(0, other_bps)
        self._loss_bps = start_bps + self._other
        self._loss_fraction: float | None = None
        self._rtt_s = 0.0
        self._last_growth = -1e9
        self._link_bps: int | None = None  # the session rate where congestion last showed
        self._last_decrease = -1e9
        self.applied_kbps = start_bps // 1000

    # --- inputs (any thread) -------------------------------------------------------------------

    def on_remb(self, bps: int) -> None:
        """The receiver's delay-based estimate (REMB), in bits per second."""
        with self._lock:
            self._delay_bps = max(0, int(bps))
            sent = self._sent_bps
            if sent is None or self._delay_bps < sent * CONGESTED:
                self._limit_by_delay()
            elif self._delay_bps >= sent * APP_LIMITED:
                self._delay_limits = False
                self._below = 0
        self._update()

    def on_send_rate(self, bps: int) -> None:
        """What left our sender over the last interval (audio + video), in bits per second."""
        with self._lock:
            sent = self._sent_bps = max(0, int(bps))
            if self._delay_bps is not None and self._delay_bps < sent * APP_LIMITED:
                self._below += 1
                if self._below >= BELOW_SAMPLES:
                    self._limit_by_delay()
            else:
                self._below = 0
                self._delay_limits = False
        self._update()

    def on_loss_report(self, fraction_lost: float, rtt_s: float | None = None) -> None:
        """One receiver report: fraction of packets lost since the previous one (0..1)."""
        loss = min(max(float(fraction_lost), 0.0), 1.0)
        with self._lock:
            now = self._clock()
            if rtt_s is not None and rtt_s >= 0:
                self._rtt_s = rtt_s
            self._loss_fraction = loss
            if loss < LOSS_LOW:
                if now - self._last_growth >= GROWTH_INTERVAL_S:
                    # grow from the current estimate (REMB may be what limits it)
                    base = min(self._loss_bps, self._target_locked() + self._other)
                    link = self._link_bps
                    if link is not None and base > link * FORGET_LINK:
                        self._link_bps = link = None
                    near = link is not None and base >= link * NEAR_LINK
                    self._loss_bps = int(base * (GROWTH_NEAR_LINK_PER_S if near else GROWTH_PER_S)) + 1000
                    self._last_growth = now
            elif loss > LOSS_HIGH and now - self._last_decrease >= DECREASE_INTERVAL_S + self._rtt_s:
                base = min(self._loss_bps, self._target_locked() + self._other)
                self._loss_bps = int(base * (1.0 - 0.5 * loss))
                self._link_bps = self._loss_bps
                self._last_decrease = now
                self._last_growth = now  # no growth right after a cut
        self._update()

    # --- state ----------------------------------------------------------------------------------

    def estimate(self) -> RateEstimate:
        with self._lock:
            return RateEstimate(self._target_locked(), self._delay_bps, self._delay_limits_locked(),
                                self._loss_bps, self._loss_fraction)

    @property
    def target_kbps(self) -> int:
        return self.estimate().target_bps // 1000

    # --- internals -------------------------------------------------------------------------------

    def _clamp(self, bps: int) -> int:
        return min(max(bps, self.min_bps), self.max_bps)

    def _limit_by_delay(self) -> None:
        """(locked) REMB is the limit now: congestion showed at about that rate."""
        self._delay_limits = True
        if self._delay_bps is not None and self._delay_bps > 0:
            self._link_bps = self._delay_bps

    def _delay_limits_locked(self) -> bool:
        return self._delay_bps is not None and self._delay_limits

    def _target_locked(self) -> int:
        total = min(self._delay_bps if self._delay_limits_locked() and self._delay_bps is not None
                    else self.max_bps + self._other, self._loss_bps)
        return self._clamp(total - self._other)

    def _update(self) -> None:
        with self._lock:
            target = self._target_locked()
            # the loss-based estimate grows from what is actually allowed (as libwebrtc's does from
            # the current estimate), so when REMB stops limiting the rate probes up 8 %/s, not at once
            self._loss_bps = min(max(self._loss_bps, self.min_bps + self._other),
                                 target + self._other, self.max_bps + self._other)
            kbps = target // 1000
            at_bound = kbps in (self.min_bps // 1000, self.max_bps // 1000)
            if kbps == self.applied_kbps or (
                not at_bound and abs(kbps - self.applied_kbps) <= self.applied_kbps * APPLY_CHANGE
            ):
                return
            self.applied_kbps = kbps
        self._apply(kbps)
