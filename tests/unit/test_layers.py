"""Per-viewer layer choice in the relay: decisions from one viewer's feedback, with holds, and
switches at the new layer's keyframe onto the viewer's own continuous timeline."""

from __future__ import annotations

from fractions import Fraction

import av

from studio.services.layers import FRAME_TICKS, HIGH, LOW, RateMeter, ViewerLayer, base_name
from studio.webrtc.delivered_rate import Delivery
from studio.webrtc.feedback import ReceiverReport


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
    assert layer.decide(1_700_000, 0, 100, main_bps, True) is None  # 0.85x: the estimate follows us
    assert layer.decide(800_000, 0, 200, main_bps, True) is None  # weak: the hold starts
    clock.now = 0.5
    assert layer.decide(800_000, 0, 300, main_bps, True) is None
    clock.now = 1.0
    assert layer.decide(800_000, 0, 400, main_bps, True) == LOW and layer.wanted == LOW
    for t in range(2, 12):  # clean on the low layer: after 10 s it tries the main one again
        clock.now = float(t)
        assert layer.decide(600_000, 0, 400 + t * 100, main_bps, True) is None
    clock.now = 12.0
    assert layer.decide(600_000, 0, 1700, main_bps, True) == HIGH
    clock.now = 13.0  # the try fails at once...
    layer.decide(700_000, 0, 1800, main_bps, True)
    clock.now = 14.0
    assert layer.decide(700_000, 0, 1900, main_bps, True) == LOW
    for t in range(15, 35):  # ...so the next try waits 20 s
        clock.now = float(t)
        assert layer.decide(600_000, 0, 1900 + t * 100, main_bps, True) is None
    clock.now = 35.0
    assert layer.decide(600_000, 0, 5500, main_bps, True) == HIGH


def test_nacks_alone_make_a_viewer_weak() -> None:
    clock = Clock()
    layer = ViewerLayer(clock)
    layer.decide(None, 0, 1000, 2_000_000, True)
    layer.decide(None, 150, 2000, 2_000_000, True)  # 15 % of the packets sent NACKed
    clock.now = 1.0
    assert layer.decide(None, 300, 3000, 2_000_000, True) == LOW


def test_without_a_low_layer_every_viewer_stays_on_the_main_one() -> None:
    clock = Clock()
    layer = ViewerLayer(clock)
    for t in range(5):
        clock.now = t
        assert layer.decide(100_000, 0, 100 * t, 2_000_000, False) is None
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
    assert layer.decide(None, 0, 100, main_bps, True, report(0.0, 2_000_000)) is None
    clock.now = 0.3
    # half of what was sent lost: a link far below the main layer, no hold
    assert layer.decide(None, 0, 200, main_bps, True, report(0.5, 900_000)) == LOW


def test_the_main_layer_is_not_tried_while_it_does_not_fit_the_viewers_link() -> None:
    clock = Clock()
    layer = ViewerLayer(clock)
    assert layer.decide(None, 0, 100, 2_000_000, True, report(0.5, 900_000)) == LOW
    sent = 100
    for t in range(1, 60):  # clean on the low layer for a minute: 2 Mbit/s still does not fit 900 kbit/s
        clock.now = float(t)
        sent += 100
        assert layer.decide(None, 0, sent, 2_000_000, True, report(0.0, 500_000)) is None
    decided = None
    for t in range(60, 75):  # ...but after a minute its link may have got better: a try, after the hold
        clock.now = float(t)
        sent += 100
        decided = decided or layer.decide(None, 0, sent, 2_000_000, True, report(0.0, 500_000))
    assert decided == HIGH


def test_a_main_layer_that_fits_the_measured_link_is_tried_after_the_usual_hold() -> None:
    clock = Clock()
    layer = ViewerLayer(clock)
    assert layer.decide(None, 0, 100, 2_000_000, True, report(0.5, 900_000)) == LOW
    sent = 100
    decided = None
    for t in range(1, 12):  # the studio's own stream stepped down to 700 kbit/s: it fits now
        clock.now = float(t)
        sent += 100
        decided = decided or layer.decide(None, 0, sent, 700_000, True, report(0.0, 500_000))
    assert decided == HIGH


def test_moderate_reported_loss_is_no_reason_to_go_low() -> None:
    clock = Clock()
    layer = ViewerLayer(clock)
    for t in range(5):  # 15 % random loss: the low layer would lose as much
        clock.now = float(t)
        assert layer.decide(None, 0, 100 * (t + 1), 2_000_000, True, report(0.15, 1_700_000)) is None
    assert layer.wanted == HIGH
