"""Per-viewer layer choice in the relay: decisions from one viewer's feedback, with holds, and
switches at the new layer's keyframe onto the viewer's own continuous timeline."""

from __future__ import annotations

import random
from fractions import Fraction
from typing import cast

import av
from aiortc import RTCPeerConnection

from studio.services.layers import (
    CAPPED_UP_HOLD_S,
    FRAME_TICKS,
    HIGH,
    LOW,
    UP_HOLD_S,
    RateMeter,
    ViewerLayer,
    base_name,
)
from studio.services.relay import RelayStream, _Ingest, _Viewer
from studio.webrtc.delivered_rate import DeliveredRate, Delivery
from studio.webrtc.feedback import FeedbackCounters, ReceiverReport
from studio.webrtc.packet_track import EncodedPacketTrack


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def pkt(pts: int, key: bool = False) -> av.Packet:
    p = av.Packet(b"\x00\x00\x00\x01\x65" if key else b"\x00\x00\x00\x01\x41")
    p.pts = p.dts = pts
    p.time_base = Fraction(1, 90000)
    p.is_keyframe = key
    return p


def test_a_weak_viewer_goes_low_after_the_hold_and_tries_the_main_layer_again_later() -> None:
    clock = Clock()
    layer = ViewerLayer(clock)
    main_bps = 2_000_000
    assert layer.decide(1_700_000, main_bps, True) is None  # 0.85x: the estimate follows us
    assert layer.decide(800_000, main_bps, True) is None  # it fell, below 0.7x: weak, the hold starts
    clock.now = 0.5
    assert layer.decide(800_000, main_bps, True) is None
    clock.now = 1.0
    assert layer.decide(800_000, main_bps, True) == LOW and layer.wanted == LOW
    for t in range(2, 12):  # clean on the low layer: after 10 s it tries the main one again
        clock.now = float(t)
        assert layer.decide(600_000, main_bps, True) is None
    clock.now = 12.0
    assert layer.decide(600_000, main_bps, True) == HIGH
    clock.now = 13.0  # the try fails at once: the receiver's estimate backs off...
    layer.decide(1_200_000, main_bps, True)
    clock.now = 13.5
    layer.decide(700_000, main_bps, True)
    clock.now = 14.5
    assert layer.decide(700_000, main_bps, True) == LOW
    for t in range(15, 35):  # ...so the next try waits 20 s
        clock.now = float(t)
        assert layer.decide(600_000, main_bps, True) is None
    clock.now = 35.0
    assert layer.decide(600_000, main_bps, True) == HIGH


def test_a_fresh_estimate_ramping_up_is_no_reason_to_go_low() -> None:
    clock = Clock()
    layer = ViewerLayer(clock)
    remb = 300_000.0
    for step in range(40):  # Chromium's estimate starts low and grows ~8 % a second
        clock.now = step * 0.5
        assert layer.decide(int(remb), 2_000_000, True) is None
        remb *= 1.04
    assert layer.wanted == HIGH


def test_an_estimate_that_stays_far_below_the_main_layer_moves_the_viewer_down() -> None:
    clock = Clock()
    layer = ViewerLayer(clock)
    decided = []
    for step in range(12):  # a receiver on a weak link from the start: its estimate does not grow
        clock.now = step * 0.25
        decided.append(layer.decide(300_000, 2_000_000, True))
    assert decided.count(LOW) == 1 and layer.wanted == LOW


def test_without_a_low_layer_every_viewer_stays_on_the_main_one() -> None:
    clock = Clock()
    layer = ViewerLayer(clock)
    for t in range(5):
        clock.now = t
        assert layer.decide(100_000, 2_000_000, False, report(0.5, 500_000)) is None
    assert layer.wanted == HIGH


def test_the_switch_waits_for_a_keyframe_and_continues_the_viewers_timeline() -> None:
    layer = ViewerLayer()
    got = [layer.accept(HIGH, pkt(1000, True)), layer.accept(HIGH, pkt(4000))]
    assert [p.pts for p in got if p is not None] == [1000, 4000]
    layer.wanted = LOW
    assert layer.accept(LOW, pkt(777_000)) is None  # not a keyframe: keep the main layer
    assert layer.accept(HIGH, pkt(7000)) is not None
    switched = layer.accept(LOW, pkt(780_000, True))
    assert switched is not None and switched.pts == 7000 + FRAME_TICKS and switched.is_keyframe
    assert layer.accept(HIGH, pkt(10_000)) is None  # the main layer no longer reaches it
    nxt = layer.accept(LOW, pkt(783_000))
    assert nxt is not None and nxt.pts == 13_000 and layer.current == LOW and layer.switches == 1


def test_rate_meter_and_names() -> None:
    clock = Clock()
    meter = RateMeter(clock)
    for i in range(30):
        clock.now = i / 30
        meter.add(1000)
    assert meter.bps == 240_000
    clock.now = 5.0
    meter.add(10)
    assert meter.bps == 80
    assert base_name("live.low") == "live" and base_name("live") is None


def report(loss: float, delivered_bps: int) -> ReceiverReport:
    return ReceiverReport(loss, 0, 0, 0.02, Delivery(delivered_bps, loss, 100, 1.0))


def test_a_report_with_heavy_loss_moves_the_viewer_down_at_once() -> None:
    clock = Clock()
    layer = ViewerLayer(clock)
    main_bps = 2_000_000
    assert layer.decide(None, main_bps, True, report(0.0, 2_000_000)) is None
    clock.now = 0.3
    # half of what was sent lost: a link far below the main layer, no hold
    assert layer.decide(None, main_bps, True, report(0.5, 900_000)) == LOW


def test_the_main_layer_is_not_tried_while_it_does_not_fit_the_viewers_link() -> None:
    clock = Clock()
    layer = ViewerLayer(clock)
    assert layer.decide(None, 2_000_000, True, report(0.5, 900_000)) == LOW
    for t in range(1, 60):  # clean on the low layer for a minute: 2 Mbit/s still does not fit 900 kbit/s
        clock.now = float(t)
        assert layer.decide(None, 2_000_000, True, report(0.0, 500_000)) is None
    decided = None
    for t in range(60, 75):  # ...but after a minute its link may have got better: a try, after the hold
        clock.now = float(t)
        decided = decided or layer.decide(None, 2_000_000, True, report(0.0, 500_000))
    assert decided == HIGH


def nacked(loss: float, delivered_bps: int) -> ReceiverReport:
    """A capped link seen in a window of NACKs (``feedback.NackedShare``)."""
    return ReceiverReport(loss, -1, -1, None, Delivery(delivered_bps, loss, 60, 0.3), from_nacks=True)


def test_a_reading_of_the_capped_link_that_is_too_high_does_not_send_the_viewer_back_early() -> None:
    clock = Clock()
    layer = ViewerLayer(clock)
    assert layer.decide(None, 2_000_000, True, nacked(0.55, 900_000)) == LOW
    clock.now = 0.2  # a window that counted a burst from the link's queue: 3x the cap
    assert layer.decide(None, 2_000_000, True, nacked(0.45, 2_900_000)) is None
    for t in range(1, 59):  # 2 Mbit/s does not fit the link: no try for a minute
        clock.now = float(t)
        assert layer.decide(None, 2_000_000, True, report(0.0, 500_000)) is None


def test_a_main_layer_that_fits_the_measured_link_is_tried_after_the_usual_hold() -> None:
    clock = Clock()
    layer = ViewerLayer(clock)
    assert layer.decide(None, 2_000_000, True, report(0.5, 900_000)) == LOW
    decided = None
    for t in range(1, 12):  # the studio's own stream stepped down to 700 kbit/s: it fits now
        clock.now = float(t)
        decided = decided or layer.decide(None, 700_000, True, report(0.0, 500_000))
    assert decided == HIGH


def test_moderate_reported_loss_is_no_reason_to_go_low() -> None:
    clock = Clock()
    layer = ViewerLayer(clock)
    for t in range(5):  # 15 % random loss: the low layer would lose as much
        clock.now = float(t)
        assert layer.decide(None, 2_000_000, True, report(0.15, 1_700_000)) is None
    assert layer.wanted == HIGH


# ---- at the packet level: a viewer's downlink, its receiver reports, the relay's decision ----------


class Downlink:
    """The relay's packets to one viewer, one by one, through random loss and/or a token bucket
    (``capacity_bps``, a 100 ms queue, as the network bench's ``tc tbf``); the viewer's receiver
    report every second becomes a ``ReceiverReport`` as ``feedback`` makes it (``DeliveredRate``
    over the sizes sent, the round trip with the queue's delay)."""

    SIZE = 1200  # payload bytes per packet
    BASE_RTT_S = 0.02

    def __init__(self, clock: Clock, loss: float = 0.0, capacity_bps: int | None = None, seed: int = 7) -> None:
        self.clock, self.loss, self.capacity_bps = clock, loss, capacity_bps
        self._random = random.Random(seed)
        self._delivered = DeliveredRate(lambda seq: self.SIZE, clock=clock)
        self._backlog_bits = 0.0
        self._sent = self._received = 0
        self._highest = -1

    def run(self, seconds: float, rate_bps: int) -> ReceiverReport:
        """Send at ``rate_bps`` for ``seconds`` (the clock moves on); then the viewer's report."""
        gap = self.SIZE * 8 / rate_bps
        end = self.clock.now + seconds
        while self.clock.now + gap <= end + 1e-9:
            self.clock.now += gap
            if self.capacity_bps is not None:
                self._backlog_bits = max(0.0, self._backlog_bits - self.capacity_bps * gap)
            seq, self._sent = self._sent, self._sent + 1
            if self.capacity_bps is not None:
                if self._backlog_bits + self.SIZE * 8 > self.capacity_bps * 0.1:
                    continue  # the queue is full: dropped
                self._backlog_bits += self.SIZE * 8
            if self._random.random() < self.loss:
                continue
            self._received += 1
            self._highest = seq
        self.clock.now = end
        lost = self._highest + 1 - self._received
        queue_s = self._backlog_bits / self.capacity_bps if self.capacity_bps else 0.0
        delivery = self._delivered.on_report(self._highest, lost)
        return ReceiverReport(delivery.loss if delivery else 0.0, lost, self._highest, self.BASE_RTT_S + queue_s,
                              delivery)


def watch(layer: ViewerLayer, link: Downlink, seconds: int, main_bps: int = 2_000_000,
          low_bps: int = 500_000, every_s: float = 1.0) -> list[tuple[float, str]]:
    """A viewer on ``link`` for ``seconds``, a report every ``every_s``: the layer it wants sends at
    its rate; the decisions."""
    decided = []
    for _ in range(round(seconds / every_s)):
        report = link.run(every_s, main_bps if layer.wanted == HIGH else low_bps)
        switch = layer.decide(None, main_bps, True, report)
        if switch is not None:
            decided.append((link.clock.now, switch))
    return decided


def test_random_loss_that_retransmissions_repair_keeps_the_main_layer() -> None:
    for loss in (0.02, 0.05, 0.15):  # the network bench's loss profiles: NACKs and RED repair them
        clock = Clock()
        layer = ViewerLayer(clock)
        assert watch(layer, Downlink(clock, loss=loss), 60) == [], loss


def test_short_reports_with_a_handful_of_packets_are_judged_together() -> None:
    # Chromium sends a report with each NACK and REMB: at 500 kbit/s a quarter second holds ~13
    # packets, and 2 of them lost at 5 % random loss is no capped link
    clock = Clock()
    layer = ViewerLayer(clock)
    assert watch(layer, Downlink(clock, loss=0.05, seed=0), 60, main_bps=500_000, every_s=0.25) == []
    link = Downlink(clock, capacity_bps=250_000)  # half of it: down within the second
    decided = watch(layer, link, 2, main_bps=500_000, every_s=0.25)
    assert decided and decided[0][1] == LOW and decided[0][0] <= 61.0


def test_a_link_far_below_the_main_layer_moves_the_viewer_down_at_its_first_report_and_keeps_it_there() -> None:
    clock = Clock()
    layer = ViewerLayer(clock)
    link = Downlink(clock)
    assert watch(layer, link, 5) == []
    link.capacity_bps = 1_000_000  # the viewer's link capped at half the main layer
    assert watch(layer, link, 1) == [(6.0, LOW)]
    # the low layer fits, clean: but 2 Mbit/s does not fit what the link carried, no try for a while
    assert watch(layer, link, int(CAPPED_UP_HOLD_S) - 2) == []
    assert watch(layer, link, int(UP_HOLD_S) + 5)[0][1] == HIGH  # then one: the link may have got better


def test_a_link_a_little_short_fills_its_queue_and_the_viewer_goes_down_after_the_hold() -> None:
    clock = Clock()
    layer = ViewerLayer(clock)
    link = Downlink(clock)
    assert watch(layer, link, 5) == []
    link.capacity_bps = 1_800_000  # 10 % short: ~10 % loss, like random loss, but with a full queue
    decided = watch(layer, link, 4)
    assert decided and decided[0][1] == LOW and decided[0][0] > 6.0  # not at the first report
    assert watch(layer, link, int(CAPPED_UP_HOLD_S) - 5) == []  # measured: the main layer does not fit


def test_a_viewer_on_the_low_layer_with_random_loss_tries_the_main_layer_again() -> None:
    clock = Clock()
    layer = ViewerLayer(clock)
    assert layer.decide(1_900_000, 2_000_000, True) is None
    clock.now = 1.0
    assert layer.decide(1_000_000, 2_000_000, True) is None  # the receiver backed off
    clock.now = 2.0
    assert layer.decide(1_000_000, 2_000_000, True) == LOW
    decided = watch(layer, Downlink(clock, loss=0.05), int(UP_HOLD_S) + 2)
    assert [layer for _, layer in decided] == [HIGH]


def test_main_layer_packets_stop_at_once_when_they_cannot_get_through() -> None:
    clock = Clock()
    layer = ViewerLayer(clock)
    assert layer.accept(HIGH, pkt(0, True)) is not None
    assert layer.decide(None, 2_000_000, True, report(0.6, 800_000)) == LOW
    assert layer.accept(HIGH, pkt(3000)) is None  # 60 % lost: it would only queue before the low keyframe
    assert layer.accept(LOW, pkt(500_000)) is None
    switched = layer.accept(LOW, pkt(503_000, True))
    assert switched is not None and switched.pts == FRAME_TICKS and layer.current == LOW


def test_main_layer_packets_go_on_until_the_low_keyframe_when_they_still_get_through() -> None:
    clock = Clock()
    layer = ViewerLayer(clock)
    assert layer.accept(HIGH, pkt(0, True)) is not None
    layer.decide(1_900_000, 2_000_000, True)
    clock.now = 1.0
    layer.decide(1_000_000, 2_000_000, True)
    clock.now = 2.0
    assert layer.decide(1_000_000, 2_000_000, True) == LOW
    assert layer.accept(HIGH, pkt(3000)) is not None  # the picture goes on until the switch
    assert layer.accept(LOW, pkt(500_000, True)) is not None and layer.current == LOW


def test_a_viewers_keyframe_requests_go_to_the_layer_it_watches_or_moves_to() -> None:
    main, low = RelayStream("live", 1.0), RelayStream("live.low", 1.0)
    main.low = low
    asked: list[str] = []
    main.request_keyframe = lambda: asked.append("main")  # type: ignore[method-assign]
    low.request_keyframe = lambda: asked.append("low")  # type: ignore[method-assign]
    viewer = _Viewer(id="v", pc=cast(RTCPeerConnection, None))
    main.request_viewer_keyframe(viewer)  # a PLI from a viewer of the main layer
    viewer.layer.wanted = LOW  # moving down (or there): the main layer's keyframe would not reach it
    main.request_viewer_keyframe(viewer)
    viewer.layer.current = LOW
    main.request_viewer_keyframe(viewer)
    viewer.layer.wanted = HIGH  # a try of the main layer starts at its keyframe
    main.request_viewer_keyframe(viewer)
    assert asked == ["main", "low", "low", "main"]


def test_a_viewer_moved_down_on_heavy_loss_gets_no_retransmissions_of_the_main_layer() -> None:
    main, low = RelayStream("live", 1.0), RelayStream("live.low", 1.0)
    main.low = low
    low.ingest = cast(_Ingest, object())  # the low layer is published
    asked: list[str] = []
    low.request_keyframe = lambda: asked.append("low")  # type: ignore[method-assign]
    rtcp = FeedbackCounters()
    viewer = _Viewer(id="v", pc=cast(RTCPeerConnection, None), tracks={"video": EncodedPacketTrack("video")},
                     rtcp=rtcp)
    rtcp.last_report = nacked(0.6, 800_000)  # 60 % of a window NACKed: the link is far below the main layer
    main.decide_layer(viewer)
    # its NACKs for what it was sent go unanswered (``feedback``): they would crowd out the low keyframe
    assert viewer.layer.wanted == LOW and asked == ["low"] and rtcp.picture_started_at is not None
