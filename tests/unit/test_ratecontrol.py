"""Rate control: loss-based and delay-based estimates, the smaller wins, within the user's range
(libwebrtc's classic loss rules: < 2 % grow 8 %/s, 2-10 % hold, > 10 % cut by loss/2)."""

from __future__ import annotations

import pytest

from studio.outputs.pipeline import OPUS_BPS, opus_expected_loss, other_bps
from studio.outputs.ratecontrol import CAPACITY_HOLD_S, RateController


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(min_kbps: int = 300, max_kbps: int = 6000, start_kbps: int = 3000) -> tuple[RateController, list[int], Clock]:
    applied: list[int] = []
    clock = Clock()
    return RateController(applied.append, min_kbps, max_kbps, start_kbps, clock=clock), applied, clock


def test_heavy_loss_cuts_even_when_remb_says_the_link_is_wide() -> None:
    rc, applied, clock = make()
    rc.on_remb(6_000_000)
    rc.on_loss_report(0.20)  # 20 % loss: 3000 * (1 - 0.1) = 2700
    assert rc.estimate().loss_bps == 2_700_000 and applied[-1] == 2700
    clock.now += 1.0
    rc.on_loss_report(0.20)
    assert applied[-1] == 2430
    est = rc.estimate()
    assert est.delay_bps == 6_000_000 and est.target_bps == 2_430_000 and est.loss_fraction == 0.2


def test_cuts_wait_for_rtt_plus_300_ms() -> None:
    rc, applied, clock = make()
    rc.on_loss_report(0.30, rtt_s=0.2)
    assert applied == [2550]
    clock.now += 0.4  # < 0.3 s + 0.2 s RTT: the previous cut cannot show in this report yet
    rc.on_loss_report(0.30)
    assert applied == [2550]
    clock.now += 0.2
    rc.on_loss_report(0.30)
    assert applied == [2550, 2167]


def test_moderate_loss_holds_and_low_loss_grows_8_percent_per_second() -> None:
    rc, applied, clock = make(start_kbps=1000)
    for _ in range(5):
        clock.now += 1.0
        rc.on_loss_report(0.05)
    assert applied == [] and rc.target_kbps == 1000
    rc.on_loss_report(0.0)
    assert applied == [1081]
    rc.on_loss_report(0.0)  # same second: no second growth step
    assert applied == [1081]
    clock.now += 1.0
    rc.on_loss_report(0.01)
    assert applied == [1081, 1168]


def test_remb_limits_and_the_user_range_clamps() -> None:
    rc, applied, clock = make(min_kbps=300, max_kbps=2000, start_kbps=2000)
    rc.on_remb(800_000)
    assert applied == [800]
    rc.on_remb(100_000)  # below the floor: the floor (a 1 Mbit/s link still carries 300 kbit/s)
    assert applied == [800, 300]
    for _ in range(20):
        clock.now += 1.0
        rc.on_loss_report(0.5)
    assert rc.target_kbps == 300
    rc.on_remb(50_000_000)
    for _ in range(40):
        clock.now += 1.0
        rc.on_loss_report(0.0)
    assert rc.target_kbps == 2000 and applied[-1] == 2000


def test_small_wobble_is_not_applied() -> None:
    rc, applied, _ = make(start_kbps=3000)
    rc.on_remb(3_050_000)
    rc.on_remb(2_900_000)
    assert applied == []
    rc.on_remb(2_500_000)
    assert applied == [2500]


def test_invalid_range() -> None:
    with pytest.raises(ValueError):
        RateController(lambda kbps: None, 500, 400, 450)


def test_remb_that_only_follows_a_simple_picture_is_not_a_limit() -> None:
    rc, applied, clock = make(start_kbps=5000)
    rc.on_send_rate(420_000)  # a test pattern: the encoder undershoots its 5000 kbit/s target
    rc.on_remb(450_000)  # the receiver's estimate grows only with what it receives
    assert applied == [] and rc.target_kbps == 5000 and not rc.estimate().delay_limits
    rc.on_remb(330_000)  # one dip to 0.79x what we send: jitter
    rc.on_send_rate(440_000)
    assert applied == [] and not rc.estimate().delay_limits
    rc.on_send_rate(1_500_000)  # a busy picture: more than the receiver says it gets...
    assert applied == []
    rc.on_send_rate(1_400_000)  # ...twice in a row: that is the link
    assert applied == [330] and rc.estimate().delay_limits
    rc.on_remb(340_000)  # the receiver keeps up with what we now send: no limit...
    rc.on_send_rate(350_000)
    assert not rc.estimate().delay_limits and rc.target_kbps == 330  # ...but no jump back to 5000
    clock.now += 1.0
    rc.on_loss_report(0.0)
    assert rc.target_kbps == 337  # it probes up from there, slowly near where REMB limited (2 %/s)


def test_remb_far_below_what_we_send_limits_at_once() -> None:
    rc, applied, _ = make(start_kbps=3000)
    rc.on_send_rate(2_000_000)
    rc.on_remb(900_000)
    assert applied == [900]


def test_the_video_target_leaves_room_for_audio_and_headers() -> None:
    applied: list[int] = []
    clock = Clock()
    rc = RateController(applied.append, 300, 6000, 3000, clock=clock, other_bps=150_000)
    rc.on_remb(1_000_000)  # a 1 Mbit/s link for the whole session
    assert applied == [850] and rc.estimate().target_bps == 850_000
    rc.on_remb(300_000)  # below what audio needs: video still gets its floor
    assert applied[-1] == 300


def test_growth_slows_near_the_rate_where_congestion_last_showed() -> None:
    rc, applied, clock = make(start_kbps=1000)
    rc.on_send_rate(1_000_000)
    rc.on_remb(450_000)  # far below what we send: the link is about 450 kbit/s
    assert applied == [450]
    rc.on_remb(2_000_000)  # the queue drained: REMB no longer limits
    rc.on_send_rate(450_000)
    assert not rc.estimate().delay_limits
    for _ in range(3):
        clock.now += 1.0
        rc.on_loss_report(0.0)
    assert applied[-1] == 480  # 2 %/s near 450 (applied once 5 % up), not 8 %/s (567)


# --- receiver reports with what got through (a capped link found in one report) -------------------

OTHER = 198_000  # Opus 128 kbit/s + headers, as the pipeline sets it


def make_session(start_kbps: int = 5000) -> tuple[RateController, Clock]:
    clock = Clock()
    return RateController(lambda kbps: None, 300, 6000, start_kbps, clock=clock, other_bps=OTHER), clock


def test_one_report_with_heavy_loss_backs_off_to_what_got_through() -> None:
    rc, clock = make_session()
    rc.on_send_rate(2_100_000)
    rc.on_receiver_report(0.5, 0.01, delivered_bps=800_000)  # half lost: the link carried 800 + 198
    assert rc.target_kbps == (int((800_000 + OTHER) * 0.8) - OTHER) // 1000  # 600, in one report
    clock.now += 0.5
    # a report over the last second: most of it before the back-off, what was queued still drains
    rc.on_receiver_report(0.6, 0.01, delivered_bps=500_000, measured_s=1.0)
    assert rc.target_kbps == 600  # not a second cut
    clock.now += 1.0
    rc.on_receiver_report(0.45, 0.01, delivered_bps=700_000, measured_s=1.0)  # all after it: still capped
    assert rc.target_kbps == (int((700_000 + OTHER) * 0.8) - OTHER) // 1000  # the link as it is now


def test_random_loss_without_a_queue_is_not_taken_for_a_cap() -> None:
    rc, clock = make_session(start_kbps=2000)
    rc.on_receiver_report(0.0, 0.02, delivered_bps=2_000_000)
    before = rc.target_kbps * 1000
    clock.now += 1.0
    rc.on_receiver_report(0.2, 0.02, delivered_bps=1_600_000)  # 20 % lost, round trip flat
    assert abs(rc.target_kbps - (int((before + OTHER) * 0.9) - OTHER) // 1000) <= 1  # the classic cut


def test_the_link_counts_as_capped_from_a_measured_capacity_for_the_hold() -> None:
    rc, _, clock = make()
    rc.on_receiver_report(0.0, 0.02, delivered_bps=2_000_000)
    clock.now += 1.0
    rc.on_receiver_report(0.2, 0.02, delivered_bps=1_600_000)  # random loss, round trip flat
    assert not rc.link_capped
    clock.now += 1.0
    rc.on_receiver_report(0.5, 0.02, delivered_bps=800_000)  # half lost: the link is the limit
    assert rc.link_capped
    clock.now += CAPACITY_HOLD_S
    assert not rc.link_capped


def test_a_queue_stops_growth_and_with_loss_is_taken_for_the_link() -> None:
    rc, clock = make_session(start_kbps=3000)
    rc.on_receiver_report(0.0, 0.020, delivered_bps=2_400_000)
    before = rc.target_kbps
    for _ in range(3):
        clock.now += 1.0
        rc.on_receiver_report(0.0, 0.090, delivered_bps=1_900_000)  # +70 ms: a queue (or a busy relay)
        assert rc.target_kbps == before  # no growth, and no cut from a round trip alone
    clock.now += 1.0
    rc.on_receiver_report(0.12, 0.110, delivered_bps=1_900_000)  # the queue overflows: the link is full
    assert rc.target_kbps == (int((1_900_000 + OTHER) * 0.8) - OTHER) // 1000  # not the classic 0.94x


def test_no_growth_past_a_measured_capacity_for_the_hold_then_slowly() -> None:
    rc, clock = make_session()
    rc.on_receiver_report(0.5, 0.01, delivered_bps=800_000)
    settled = rc.target_kbps
    for _ in range(29):
        clock.now += 1.0
        rc.on_receiver_report(0.0, 0.01, delivered_bps=settled * 1000)
        assert rc.target_kbps == settled
    for _ in range(3):
        clock.now += 1.0
        rc.on_receiver_report(0.0, 0.01, delivered_bps=settled * 1000)
    assert settled < rc.target_kbps < settled * 1.1  # the hold is over: 2 %/s near the link


def test_once_reports_arrive_remb_limits_only_with_loss_or_a_queue() -> None:
    rc, clock = make_session()
    rc.on_receiver_report(0.0, 0.01, delivered_bps=2_000_000)
    before = rc.target_kbps
    rc.on_send_rate(2_200_000)
    rc.on_remb(1_200_000)  # a relay's estimator dips while its machine is busy...
    rc.on_send_rate(2_200_000)
    assert rc.target_kbps == before  # ...with no loss and no queue in our reports: not a limit
    clock.now += 1.0
    rc.on_receiver_report(0.03, 0.01, delivered_bps=2_000_000)  # loss: now REMB is believed
    rc.on_remb(1_200_000)
    rc.on_send_rate(2_200_000)
    rc.on_send_rate(2_200_000)
    assert rc.target_kbps == (1_200_000 - OTHER) // 1000
    clock.now += 4.0  # and no longer once the reports are clean for a while
    rc.on_receiver_report(0.0, 0.01, delivered_bps=1_000_000)
    assert rc.estimate().delay_limits is False


def test_remb_below_a_measured_capacity_does_not_pull_the_stream_further() -> None:
    rc, clock = make_session()
    rc.on_send_rate(2_000_000)
    rc.on_receiver_report(0.5, 0.01, delivered_bps=800_000)
    rc.on_remb(500_000)  # aiortc's estimator at half the cap
    assert rc.target_kbps == (int((800_000 + OTHER) * 0.8) - OTHER) // 1000


def test_a_burst_lost_over_a_small_bucket_is_not_taken_for_the_link() -> None:
    rc, clock = make_session()
    rc.on_send_rate(400_000)  # a simple picture: far below the link on average
    # a window with an IDR: 2.7 Mbit/s for 0.3 s, half of it lost in a small token bucket
    rc.on_receiver_report(0.5, None, delivered_bps=1_350_000, measured_s=0.5, window_sent_bps=2_700_000)
    assert rc.target_kbps == 5000  # pacing's business, not the rate's
    rc.on_remb(150_000)  # ...nor does it make a dip of REMB believable
    rc.on_send_rate(400_000)
    rc.on_send_rate(400_000)
    assert rc.target_kbps == 5000
    rc.on_send_rate(2_100_000)  # the same loss while we send that much all the time: the link
    clock.now += 1.0
    rc.on_receiver_report(0.5, None, delivered_bps=1_000_000, measured_s=0.5, window_sent_bps=2_000_000)
    assert rc.target_kbps == (int((1_000_000 + OTHER) * 0.8) - OTHER) // 1000


def test_one_late_report_with_random_loss_is_not_taken_for_a_cap() -> None:
    rc, clock = make_session(start_kbps=2000)
    rc.on_receiver_report(0.0, 0.004, delivered_bps=800_000)  # a simple picture: 800 kbit/s of 2000 allowed
    before = rc.target_kbps * 1000
    clock.now += 1.0
    rc.on_receiver_report(0.12, 0.070, delivered_bps=700_000)  # a busy relay read it late, 12 % lost
    # the classic cut from the estimate, not 0.8x the little we happened to send
    assert abs(rc.target_kbps - (int((before + OTHER) * 0.94) - OTHER) // 1000) <= 1


def test_an_encoder_sending_over_its_target_on_a_measured_link_is_asked_for_less() -> None:
    rc, clock = make_session()
    rc.on_send_rate(2_000_000)
    rc.on_receiver_report(0.5, 0.01, delivered_bps=800_000)  # the link: 998 kbit/s, 798 allowed
    target = rc.target_kbps
    clock.now += 1.0
    rc.on_send_rate(1_000_000)  # the second of the cut itself: the encoder is still retargeting
    assert rc.target_kbps == target
    clock.now += 2.0
    rc.on_send_rate(1_000_000)  # the encoder makes 1.4x its target (plus audio): over the link's share
    assert rc.target_kbps < target
    lowered = rc.target_kbps
    rc.on_send_rate(1_000_000)  # once a second at most
    assert rc.target_kbps == lowered
    for _ in range(10):
        clock.now += 1.0
        rc.on_send_rate(700_000)  # fits now: no more cuts, and no growth past the link's share
        rc.on_receiver_report(0.0, 0.01, delivered_bps=600_000)
    assert rc.target_kbps == lowered


def test_audio_red_copies_come_out_of_the_video_target() -> None:
    rc, clock = make_session(start_kbps=1000)
    rc.set_other_bps(other_bps(0))
    plain = rc.target_kbps
    rc.set_other_bps(other_bps(2))  # RED: each packet carries two earlier ones, Opus's rate twice more
    assert rc.other_bps == other_bps(0) + 2 * OPUS_BPS
    assert rc.target_kbps == plain - 2 * OPUS_BPS // 1000  # the session's estimate is unchanged
    rc.set_other_bps(other_bps(0))
    assert rc.target_kbps == plain  # the copies' share goes back to the video


def test_opus_fec_is_off_while_red_carries_a_copy() -> None:
    assert opus_expected_loss(12.0, 0) == 12.0
    assert opus_expected_loss(12.0, 1) == opus_expected_loss(30.0, 2) == 0.0
