"""NACK retries on an RTT-based timer with a time limit, and the jitter buffer's give-up."""

from __future__ import annotations

import asyncio

import pytest
from aiortc.rtp import RtpPacket

from studio.webrtc.nack_retry import NackRetry
from studio.webrtc.passthrough import MarkerJitterBuffer

KEY = b"\x00\x00\x00\x01\x67\x42\x00\x1f\x00\x00\x00\x01\x65\x88"
DELTA = b"\x00\x00\x00\x01\x41\x9a"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _rtp(seq: int, ts: int = 0, data: bytes = b"", marker: bool = False, ssrc: int = 7) -> RtpPacket:
    packet = RtpPacket(payload_type=97, sequence_number=seq, timestamp=ts, marker=int(marker), ssrc=ssrc)
    packet._data = data  # type: ignore[attr-defined]  # what aiortc's depayloader sets
    return packet


class Recorder:
    def __init__(self) -> None:
        self.nacks: list[list[int]] = []
        self.given_up: list[list[int]] = []

    def nack(self, ssrc: int, seqs: list[int]) -> None:
        assert ssrc == 7
        self.nacks.append(seqs)

    def give_up(self, seqs: list[int]) -> None:
        self.given_up.append(sorted(seqs))


def in_loop(body: object) -> None:
    async def main() -> None:
        body()  # type: ignore[operator]

    asyncio.run(main())


def test_a_gap_is_nacked_at_once_then_again_each_retry_interval_then_given_up() -> None:
    def body() -> None:
        clock, rec = Clock(), Recorder()
        nack = NackRetry(
            rec.nack, rec.give_up, default_rtt_s=0.04, retry_rtts=1.5, give_up_rtts=4, min_give_up_s=0.1, clock=clock
        )
        assert nack.retry_s() == pytest.approx(0.06) and nack.give_up_s() == pytest.approx(0.16)  # 1.5, 4 RTTs
        assert nack.add(_rtp(10)) is False
        assert nack.add(_rtp(13)) is False  # aiortc must not send its own NACK
        assert rec.nacks == [[11, 12]]
        clock.now += 0.03
        nack.poll()
        assert rec.nacks == [[11, 12]]  # not yet: less than the retry interval
        clock.now += 0.03
        nack.poll()
        assert rec.nacks == [[11, 12], [11, 12]]
        nack.add(_rtp(12))  # one of them arrives
        clock.now += 0.06
        nack.poll()
        assert rec.nacks[-1] == [11]
        clock.now += 0.04  # 0.16 s after the gap: give up
        nack.poll()
        assert rec.given_up == [[11]]
        assert nack.missing == set()
        assert nack.counters.given_up == 1 and nack.counters.recovered == 1 and nack.counters.retried == 3
        nack.close()

    in_loop(body)


def test_requests_stop_at_the_limit_and_the_rtt_comes_from_answered_nacks() -> None:
    def body() -> None:
        clock, rec = Clock(), Recorder()
        nack = NackRetry(
            rec.nack, rec.give_up, default_rtt_s=0.05, retry_rtts=1.5, give_up_rtts=4, max_requests=2, min_give_up_s=0.1,
            clock=clock,
        )
        nack.add(_rtp(1))
        nack.add(_rtp(3))
        clock.now += 0.02
        nack.add(_rtp(2))  # answered 20 ms after the only request
        assert nack.rtt_s == pytest.approx(0.02)
        assert nack.retry_s() == pytest.approx(0.03) and nack.give_up_s() == 0.1  # bounded below by 100 ms
        nack.add(_rtp(5))
        for _ in range(5):
            clock.now += 0.031
            nack.poll()
        assert rec.nacks.count([4]) == 2  # the first request and one retry: the limit
        assert rec.given_up == [[4]]
        nack.close()

    in_loop(body)


def test_with_a_tiny_round_trip_the_requests_are_spread_over_the_whole_give_up_window() -> None:
    def body() -> None:
        clock, rec = Clock(), Recorder()
        nack = NackRetry(rec.nack, rec.give_up, default_rtt_s=0.001, clock=clock)  # loopback: ~1 ms
        asked_at: list[float] = []
        nack.add(_rtp(1))
        start = clock.now
        nack.add(_rtp(3))  # seq 2 is lost and never comes, however often it is asked for
        while not rec.given_up:
            if len(rec.nacks) > len(asked_at):
                asked_at.append(round(clock.now - start, 4))
            clock.now += 0.0005
            nack.poll()
        waits = [round(b - a, 4) for a, b in zip(asked_at, asked_at[1:], strict=False)]
        assert asked_at[1] == pytest.approx(0.01, abs=0.001)  # the first retry is quick
        assert waits == sorted(waits)  # then further and further apart
        assert 3 < len(asked_at) < nack.max_requests  # requests left over: not spent early
        assert asked_at[-1] > 0.5 * nack.give_up_s()  # still asking in the second half of the window
        assert rec.given_up == [[2]] and clock.now - start == pytest.approx(nack.give_up_s(), abs=0.001)
        nack.close()

    in_loop(body)


def test_the_give_up_time_is_bounded_by_default_to_200_300_ms() -> None:
    assert NackRetry(lambda s, q: None, lambda q: None, default_rtt_s=0.5).give_up_s() == 0.3
    assert NackRetry(lambda s, q: None, lambda q: None, default_rtt_s=0.001).give_up_s() == 0.2


def test_a_given_up_hole_drops_the_broken_frames_and_holds_until_a_keyframe() -> None:
    asked: list[int] = []
    buffer = MarkerJitterBuffer(on_keyframe_needed=lambda: asked.append(1))
    assert buffer.add(_rtp(1, 0, KEY, marker=True))[1] is not None
    # frame 2 (seqs 2-3) loses seq 2; frame 3 (seq 4) and frame 4 (seq 5) follow
    assert buffer.add(_rtp(3, 3000, b"\x00\x00\x00\x01\x41tail", marker=True)) == (False, None)
    assert buffer.add(_rtp(4, 6000, DELTA, marker=True)) == (False, None)
    buffer.give_up([2])
    assert buffer.awaiting_keyframe and asked
    # what was behind the hole, and later deltas, never come out
    assert buffer.add(_rtp(5, 9000, DELTA, marker=True)) == (False, None)
    assert buffer.frames_dropped >= 2
    pli, frame = buffer.add(_rtp(6, 12000, KEY, marker=True))
    assert pli is False  # the relay's rate-limited path was asked instead of aiortc's PLI
    assert frame is not None and frame.timestamp == 12000 and frame.data == KEY
    assert not buffer.awaiting_keyframe
    _, frame = buffer.add(_rtp(7, 15000, DELTA, marker=True))
    assert frame is not None and frame.data == DELTA


def test_a_keyframe_whose_start_was_lost_is_not_passed_on() -> None:
    buffer = MarkerJitterBuffer(on_keyframe_needed=lambda: None)
    buffer.add(_rtp(1, 0, KEY, marker=True))
    # an IDR in three packets; its first one is given up: the rest must not pass as a keyframe
    buffer.add(_rtp(3, 3000, b"\x00\x00\x00\x01\x65mid"))
    buffer.add(_rtp(4, 3000, b"\x00\x00\x00\x01\x65end", marker=True))
    buffer.give_up([2])
    assert buffer.add(_rtp(5, 6000, DELTA, marker=True))[1] is None
    assert buffer.awaiting_keyframe


def test_a_hole_older_than_the_buffer_asks_for_a_keyframe_through_the_callback() -> None:
    asked: list[int] = []
    buffer = MarkerJitterBuffer(capacity=16, on_keyframe_needed=lambda: asked.append(1))
    buffer.add(_rtp(1, 0, KEY, marker=True))
    for seq in range(3, 20):  # seq 2 never comes
        pli, frame = buffer.add(_rtp(seq, seq * 3000, DELTA, marker=True))
        assert pli is False and frame is None
    assert asked and buffer.awaiting_keyframe
    assert buffer.add(_rtp(20, 60000, KEY, marker=True))[1] is not None


def test_resends_of_given_up_packets_arriving_late_do_not_take_the_buffer_back() -> None:
    # after an outage: a 400-packet hole is given up, live packets flow from a keyframe on, then the
    # sender's answers for the hole (from its history) arrive late; they must be dropped, not taken
    # for a restarted stream (which moved the origin back to them and stalled the buffer)
    buffer = MarkerJitterBuffer(on_keyframe_needed=lambda: None)
    assert buffer.add(_rtp(1, 0, KEY, marker=True))[1] is not None
    assert buffer.add(_rtp(402, 400 * 3000, KEY, marker=True))[1] is None  # behind the hole
    buffer.give_up(list(range(2, 402)))
    _, frame = buffer.add(_rtp(403, 401 * 3000, KEY, marker=True))
    assert frame is not None and frame.timestamp == 401 * 3000
    for seq in range(2, 300):  # the late answers
        assert buffer.add(_rtp(seq, seq * 3000, DELTA, marker=True)) == (False, None)
    assert not buffer.awaiting_keyframe
    _, frame = buffer.add(_rtp(404, 402 * 3000, DELTA, marker=True))
    assert frame is not None and frame.timestamp == 402 * 3000  # live frames keep flowing


def test_a_stream_that_restarts_behind_the_origin_is_followed_once_only_it_arrives() -> None:
    # a publisher whose sequence numbers start again below ours: while nothing comes ahead of the
    # origin for half a second, its packets are a restart (a keyframe there resumes the stream)
    clock = [0.0]
    buffer = MarkerJitterBuffer(on_keyframe_needed=lambda: None, clock=lambda: clock[0])
    assert buffer.add(_rtp(5000, 0, KEY, marker=True))[1] is not None
    clock[0] = 0.1
    assert buffer.add(_rtp(3000, 90000, KEY, marker=True)) == (False, None)  # late: dropped
    clock[0] = 0.7
    buffer.add(_rtp(3001, 93000, KEY, marker=True))  # still only behind: the stream restarted
    _, frame = buffer.add(_rtp(3002, 96000, KEY, marker=True))
    assert frame is not None and frame.timestamp == 96000
