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

A capped link (issue 11: a 1 Mbit/s uplink) is found from each receiver report
(:meth:`RateController.on_receiver_report`; ``feedback.ReceiverReport``, also made from a window of
NACKs, which shows a cap within a few hundred milliseconds): the report says what got through
(``studio.webrtc.delivered_rate``). When the link is clearly the limit -- heavy loss (>= 25 %:
random loss does not look like that), or loss over 10 % with the report's round trip above its
floor (a queue) in two reports in a row -- the estimate drops at once to 0.8x what was delivered
(plus what the session sends besides video), as libwebrtc's AIMD backs off to 0.85x the
acknowledged bitrate (which counts headers). That rate is then the link's capacity: the estimate
does not grow past 0.8x of it for ``CAPACITY_HOLD_S`` (probing into a full token bucket costs a
burst of loss and a freeze every time), and never while the round trip shows a queue. Not taken
for the link: a measurement that began before the last back-off took effect (what was queued
still drains), and one that sent far above our average (an IDR lost over a small bucket while the
link idled around it). Once these reports arrive, REMB limits only while they show congestion too
(loss, or a queue in two reports in a row; ``CORROBORATE_S``), and never below 0.8x a measured
capacity.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from studio.webrtc import trace

log = logging.getLogger(__name__)

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
# x the delivered rate when the link is the limit. libwebrtc backs off to 0.85x a throughput that
# counts every header; ours is payload plus a fixed allowance (``other_bps``), so 0.8x keeps the
# same room: on a 1 Mbit/s link ~790 kbit/s of payload (the simulated link in the tests).
BACKOFF = 0.8
CAPPED_LOSS = 0.25  # loss this heavy in one report: the link is far below what we send
BURST = 1.5  # a measurement that sent this much more than our average rate is one burst
QUEUE_DELAY_S = 0.06  # a report's round trip this far above its floor: a queue is building
# ...in this many reports in a row, for a queue to count (a busy machine's late reads come and go:
# measured +55 ms on a clean link, and with 5 % random loss one such report took 12 % loss for a cap)
QUEUE_REPORTS = 2
QUEUE_DELAY_SHARE = 0.5  # ... and at least this share of the floor (long links jitter more)
RTT_FLOOR_WINDOW_S = 30.0
CAPACITY_HOLD_S = 30.0  # no growth past BACKOFF x a measured capacity for this long
# After a back-off to the link, what was sent before it still drains (and the ladder's step sends an
# IDR): a report whose measurement began before the back-off had taken effect (this long after it)
# measures that, not the link (measured: 47 % lost, 1063 kbit/s through, then 0.35 s later 81 % and
# 527 kbit/s on the same 1 Mbit/s link), and cuts nothing.
BACKOFF_TAKES_S = 0.3
ENCODER_RETARGET_S = 1.0  # an encoder sends at a new target within this long (x264: next IDR)
# Once receiver reports tell us what gets through, REMB limits only while they show congestion
# (loss or a queue) within this long: a relay's estimator on a busy machine dips for no congestion at
# all (measured: REMB 0.65x what we sent while two viewers started, the stream at 540p for 25 s).
CORROBORATE_S = 3.0


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
        self._rtts: deque[tuple[float, float]] = deque()  # (time, round trip) of recent reports
        self._queue_reports = 0  # reports in a row whose round trip showed a queue
        self._capacity_bps: int | None = None  # what a capped link delivered (session rate)...
        self._capacity_at = -1e9  # ...and when
        self._last_overshoot = -1e9  # the last correction for an encoder sending over its target
        self._ceiling_bps: int | None = None  # no growth past this while the capacity holds
        self._delivery_seen = False  # reports with a delivered rate arrive (REMB then needs corroboration)
        self._congested_at = -1e9  # the last report with loss or a queue
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
            now = self._clock()
            allowed = None if self._capacity_bps is None else int(self._capacity_bps * BACKOFF)
            # a second of sending that began once the encoder had a second to retarget (x264's VBV
            # reopens at the next IDR) after the back-off
            settled = now - self._capacity_at >= ENCODER_RETARGET_S + BACKOFF_TAKES_S + 1.0
            if allowed is not None and settled and now - self._capacity_at < CAPACITY_HOLD_S \
                    and sent > allowed and now - self._last_overshoot >= GROWTH_INTERVAL_S:
                # more leaves than the budget says (measured: 1.4-1.7x a 360p30 rendition's target on
                # the 1 Mbit/s uplink: Opus and RED's copies of it, which the budget did not count
                # before ``set_other_bps``, and x264's fresh VBV after each reopen): ask for less
                # (the ladder's last rung, 360p at half rate, is what a very small link gets)
                self._loss_bps = max(self.min_bps + self._other, int(self._loss_bps * allowed / sent))
                self._ceiling_bps = self._loss_bps
                self._last_overshoot = now
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
        self.on_receiver_report(fraction_lost, rtt_s)

    def on_receiver_report(self, fraction_lost: float, rtt_s: float | None = None,
                           delivered_bps: int | None = None, measured_s: float = 0.0,
                           window_sent_bps: int | None = None) -> None:
        """One receiver report about the video: fraction lost since the previous one (0..1), its
        own round trip (None when unknown), the video rate that got through since the previous
        report (``delivered_rate``; None when unknown), how long ago what it measured began and
        what we sent over that range (None when unknown)."""
        loss = min(max(float(fraction_lost), 0.0), 1.0)
        with self._lock:
            now = self._clock()
            queueing = False
            if rtt_s is not None and rtt_s >= 0:
                self._rtt_s = rtt_s
                queueing = self._queueing_locked(now, rtt_s)
                self._queue_reports = self._queue_reports + 1 if queueing else 0
            self._loss_fraction = loss
            link = None if delivered_bps is None else max(0, int(delivered_bps)) + self._other
            if link is not None:
                self._delivery_seen = True
            # a window that sent far above our average is a burst (an IDR over a small bucket): the
            # link was idle around it, so what got through says nothing about its rate (measured:
            # 1080p at ~300 kbit/s on a busy machine "found" a 1 Mbit/s link at 300 kbit/s), and its
            # loss is the pacer's business
            burst = (window_sent_bps is not None and self._sent_bps is not None
                     and window_sent_bps > BURST * self._sent_bps)
            if (loss >= LOSS_LOW and not burst) or self._queue_reports >= QUEUE_REPORTS:
                self._congested_at = now
            # a queue alone (no loss) is not enough: on a busy machine a relay's late reads look like
            # one (measured: +55 ms on a clean link), and what got through then is only what we sent
            capped = link is not None and not burst and (
                loss >= CAPPED_LOSS or (self._queue_reports >= QUEUE_REPORTS and loss > LOSS_HIGH))
            stale = now - measured_s < self._capacity_at + BACKOFF_TAKES_S  # began before the last back-off
            if (loss > LOSS_HIGH or capped) and not stale and not burst \
                    and now - self._last_decrease >= DECREASE_INTERVAL_S + self._rtt_s:
                if capped and link is not None:
                    # what got through is the link: back off from it, not from the last estimate
                    # again (a second cut while the queue drains would compound to the floor); it is
                    # also REMB's floor from now on (``_target_locked``)
                    self._capacity_bps, self._capacity_at = link, now
                    base = min(self._loss_bps, self._target_locked() + self._other)
                    cut = min(base, int(link * BACKOFF))
                    self._ceiling_bps = int(link * BACKOFF)
                    log.info("rate: the link is the limit (%.0f %% lost, %d kbit/s got through): %d -> %d kbit/s",
                             loss * 100, link // 1000, base // 1000, cut // 1000)
                else:
                    cut = int(min(self._loss_bps, self._target_locked() + self._other) * (1.0 - 0.5 * loss))
                self._loss_bps = cut
                self._link_bps = cut
                self._last_decrease = now
                self._last_growth = now  # no growth right after a cut
            elif loss < LOSS_LOW and not queueing and now - self._last_growth >= GROWTH_INTERVAL_S:
                # grow from the current estimate (REMB may be what limits it)
                base = min(self._loss_bps, self._target_locked() + self._other)
                link_bps = self._link_bps
                if link_bps is not None and base > link_bps * FORGET_LINK:
                    self._link_bps = link_bps = None
                near = link_bps is not None and base >= link_bps * NEAR_LINK
                grown = int(base * (GROWTH_NEAR_LINK_PER_S if near else GROWTH_PER_S)) + 1000
                if self._ceiling_bps is not None and now - self._capacity_at < CAPACITY_HOLD_S:
                    grown = min(grown, max(base, self._ceiling_bps))
                self._loss_bps = grown
                self._last_growth = now
            if trace.enabled():
                trace.event("rate_report", loss=round(loss, 3), rtt_ms=None if rtt_s is None else round(rtt_s * 1000, 1),
                            delivered_kbps=None if link is None else link // 1000,
                            measured_s=round(measured_s, 3), burst=burst, capped=capped, stale=stale,
                            estimate_kbps=self._loss_bps // 1000)
        self._update()

    def set_other_bps(self, bps: int) -> None:
        """What the session sends besides video changed (audio RED adds a copy of the Opus rate per
        redundant block): both estimates are of the whole session, so the video gets what is left."""
        with self._lock:
            self._other = max(0, int(bps))
        self._update()

    @property
    def other_bps(self) -> int:
        with self._lock:
            return self._other

    # --- state ----------------------------------------------------------------------------------

    def estimate(self) -> RateEstimate:
        with self._lock:
            return RateEstimate(self._target_locked(), self._delay_bps, self._delay_limits_locked(),
                                self._loss_bps, self._loss_fraction)

    @property
    def target_kbps(self) -> int:
        return self.estimate().target_bps // 1000

    @property
    def link_capped(self) -> bool:
        """A capped link was measured within the hold (``CAPACITY_HOLD_S``): the link, not random
        loss, is what limits the stream now."""
        with self._lock:
            return self._capacity_bps is not None and self._clock() - self._capacity_at < CAPACITY_HOLD_S

    # --- internals -------------------------------------------------------------------------------

    def _clamp(self, bps: int) -> int:
        return min(max(bps, self.min_bps), self.max_bps)

    def _queueing_locked(self, now: float, rtt_s: float) -> bool:
        """(locked) Whether this round trip is clearly above the floor of the recent ones."""
        rtts = self._rtts
        while rtts and now - rtts[0][0] > RTT_FLOOR_WINDOW_S:
            rtts.popleft()
        floor = min((r for _, r in rtts), default=rtt_s)
        rtts.append((now, rtt_s))
        return rtt_s - floor > max(QUEUE_DELAY_S, QUEUE_DELAY_SHARE * floor)

    def _limit_by_delay(self) -> None:
        """(locked) REMB is the limit now: congestion showed at about that rate."""
        self._delay_limits = True
        if self._delay_bps is not None and self._delay_bps > 0:
            self._link_bps = self._delay_bps

    def _delay_limits_locked(self) -> bool:
        if self._delay_bps is None or not self._delay_limits:
            return False
        return not self._delivery_seen or self._clock() - self._congested_at <= CORROBORATE_S

    def _target_locked(self) -> int:
        delay = self.max_bps + self._other
        if self._delay_limits_locked() and self._delay_bps is not None:
            delay = self._delay_bps
            if self._capacity_bps is not None and self._clock() - self._capacity_at < CAPACITY_HOLD_S:
                # a measured capacity knows the link better than a relay's estimator (aiortc's fell
                # to half of a 1 Mbit/s cap and held the stream on its floor)
                delay = max(delay, int(self._capacity_bps * BACKOFF))
        return self._clamp(min(delay, self._loss_bps) - self._other)

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
