"""What got through to a receiver, from two of its receiver reports and the sizes we sent."""

from __future__ import annotations

from studio.webrtc.delivered_rate import MAX_INTERVAL_S, DeliveredRate, NackedShare


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_second_of_reports_gives_the_rate_and_the_loss_in_that_range() -> None:
    clock = Clock()
    sizes = {seq: 1000 for seq in range(0, 400)}
    rate = DeliveredRate(sizes.get, clock)
    assert rate.on_report(highest_sequence=99, cumulative_lost=0) is None  # the first: nothing to compare
    clock.now += 1.0
    got = rate.on_report(highest_sequence=349, cumulative_lost=50)  # 250 sent, 50 of them lost
    assert got is not None
    assert got.expected == 250 and got.loss == 0.2
    assert got.bps == 200 * 1000 * 8  # 200 packets of 1000 bytes in one second
    assert got.sent_bps == 250 * 1000 * 8


def test_sizes_no_longer_kept_count_at_the_mean_of_those_that_are() -> None:
    clock = Clock()
    sizes = {seq: 500 for seq in range(150, 200)}  # 100..149 gone from the history
    rate = DeliveredRate(sizes.get, clock)
    rate.on_report(99, 0)
    clock.now += 0.5
    got = rate.on_report(199, 0)
    assert got is not None and got.bps == 100 * 500 * 8 * 2


def test_the_sequence_number_wrap_and_reports_that_say_nothing_new() -> None:
    clock = Clock()
    sizes = {seq: 1200 for seq in list(range(65_000, 65_536)) + list(range(0, 500))}
    rate = DeliveredRate(sizes.get, clock)
    rate.on_report(65_099, 3)
    clock.now += 0.1
    assert rate.on_report(65_199, 3) is None  # too soon after the last: measured from the earlier one
    clock.now += 0.9
    got = rate.on_report((1 << 16) + 99, 3)  # one cycle later: extended sequence numbers
    assert got is not None and got.expected == 536 and got.loss == 0.0
    clock.now += 1.0
    assert rate.on_report((1 << 16) + 99, 3) is None  # the same range again: nothing arrived


def test_reports_far_apart_start_over() -> None:
    clock = Clock()
    rate = DeliveredRate(lambda seq: 1000, clock)
    rate.on_report(0, 0)
    clock.now += MAX_INTERVAL_S + 1
    assert rate.on_report(1000, 0) is None
    clock.now += 1.0
    got = rate.on_report(1100, 10)
    assert got is not None and got.expected == 100 and got.bps == 90 * 1000 * 8


def test_retransmissions_took_the_link_too() -> None:
    clock = Clock()
    rate = DeliveredRate(lambda seq: 1000, clock, resent_between=lambda start, end: 50_000)
    rate.on_report(0, 0)
    clock.now += 1.0
    got = rate.on_report(100, 50)  # half of 100 lost; 50 kB resent in that second, half of it lost too
    assert got is not None and got.bps == (50 * 1000 + 25_000) * 8
    assert got.sent_bps == 100 * 1000 * 8  # what the encoder sent, originals only


def test_retransmissions_count_up_to_what_was_lost() -> None:
    # a storm: 300 kB resent into a link that lost 63 of 100 packets of 1000 bytes
    clock = Clock()
    rate = DeliveredRate(lambda seq: 1000, clock, resent_between=lambda start, end: 300_000)
    rate.on_report(0, 0)
    clock.now += 1.0
    got = rate.on_report(100, 63)
    assert got is not None and got.bps == int((37 * 1000 + 63 * 1000 * 0.37) * 8)  # not 37 kB + 111 kB

    sent = [(clock.now - 0.5 + i * 0.005, i, 1000) for i in range(100)]
    share = NackedShare(lambda start, end: [(seq, size) for t, seq, size in sent if start <= t <= end], clock,
                        resent_between=lambda start, end: 300_000)
    window = share.on_nack(range(0, 100, 2), rtt_s=0.02)  # every other packet NACKed
    assert window is not None
    lost = window.loss * window.expected * 1000
    assert abs(window.bps - (window.sent_bps * (1 - window.loss) + lost * (1 - window.loss) * 8 / 0.3)) <= 8


def test_a_window_of_nacks_says_what_got_through_one_round_trip_later() -> None:
    clock = Clock()
    sent = [(clock.now - 0.5 + i * 0.005, i, 1000) for i in range(100)]  # 200 packets/s for 0.5 s

    def sent_between(start: float, end: float) -> list[tuple[int, int]]:
        return [(seq, size) for t, seq, size in sent if start <= t <= end]

    share = NackedShare(sent_between, clock)
    got = share.on_nack(range(0, 100, 2), rtt_s=0.02)  # every other packet NACKed
    assert got is not None and got.expected >= 40
    assert abs(got.loss - 0.5) < 0.05 and abs(got.bps - got.sent_bps * (1 - got.loss)) <= 8
    assert share.on_nack([1], rtt_s=0.02) is None  # measured at most every 0.1 s
