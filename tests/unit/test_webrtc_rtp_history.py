"""The retransmission history is sized in time (>= 1 s at any bitrate), bounded in packets."""

from __future__ import annotations

import pytest
from aiortc.rtp import RTP_HISTORY_SIZE, RtpPacket

from studio.webrtc.rtp_history import RtpHistory


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def fill(history: RtpHistory, clock: Clock, packets_per_s: int, seconds: float, first: int = 0) -> int:
    seq = first
    for _ in range(int(packets_per_s * seconds)):
        history[seq % RTP_HISTORY_SIZE] = RtpPacket(sequence_number=seq % 65536)  # as aiortc writes it
        seq += 1
        clock.now += 1 / packets_per_s
    return seq


@pytest.mark.parametrize("packets_per_s", [50, 500, 2000])  # ~0.5, 5 and 20 Mbit/s of 1200-byte packets
def test_history_keeps_more_than_a_second_at_any_rate(packets_per_s: int) -> None:
    clock = Clock()
    history = RtpHistory(max_age_s=1.5, max_packets=4096, clock=clock)
    last = fill(history, clock, packets_per_s, 3.0)
    assert history.span_s() >= 1.0
    assert len(history) > RTP_HISTORY_SIZE or packets_per_s * 1.5 <= RTP_HISTORY_SIZE
    one_second_ago = last - packets_per_s
    assert history.entry(one_second_ago % 65536) is not None
    assert history.entry((last - int(packets_per_s * 1.6)) % 65536) is None  # older than max_age_s


def test_history_is_bounded_in_packets_at_runaway_rates() -> None:
    clock = Clock()
    history = RtpHistory(max_age_s=1.5, max_packets=4096, clock=clock)
    fill(history, clock, 20_000, 1.0)
    assert len(history) == 4096


def test_history_survives_the_sequence_number_wrap() -> None:
    clock = Clock()
    history = RtpHistory(clock=clock)
    fill(history, clock, 500, 1.0, first=65_300)
    assert history.entry(65_535) is not None and history.entry(100) is not None


def test_history_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="max_age_s"):
        RtpHistory(max_age_s=0)


def test_retransmissions_are_kept_by_time_for_the_delivered_rate() -> None:
    clock = Clock()
    history = RtpHistory(clock=clock)
    history.note_resent(1000)
    clock.now += 0.5
    history.note_resent(500)
    assert history.resent_between(clock.now - 1.0, clock.now) == 1500
    assert history.resent_between(clock.now - 0.1, clock.now) == 500
    clock.now += 2.0
    history.note_resent(10)
    assert history.resent_between(0.0, clock.now) == 10  # older than the history's age: gone
