"""The retransmission history is sized in time (>= 1 s at any bitrate), bounded in packets."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest
from aiortc import RTCRtpSender
from aiortc.rtp import RTP_HISTORY_SIZE, HeaderExtensionsMap, RtpPacket

from studio.webrtc import internals, rtp_history
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


class FakeTransport:
    def __init__(self) -> None:
        self.sent: list[RtpPacket] = []

    async def _send_rtp(self, data: bytes) -> None:
        self.sent.append(RtpPacket.parse(data))


class FakeSender:
    """The parts of aiortc's RTCRtpSender that ``rtp_history.attach`` reads and writes."""

    def __init__(self, rtx_payload_type: int | None) -> None:
        self.transport = FakeTransport()
        self._ssrc, self._rtx_ssrc = 1111, 2222
        setattr(self, internals.SENDER_RTX_PAYLOAD_TYPE, rtx_payload_type)
        setattr(self, internals.SENDER_RTX_SEQUENCE_NUMBER, 500)
        setattr(self, internals.SENDER_HEADER_EXTENSIONS_MAP, HeaderExtensionsMap())


@pytest.mark.parametrize("rtx_payload_type", [98, None])
def test_a_packet_asked_for_again_after_its_resend_goes_out_twice(rtx_payload_type: int | None) -> None:
    clock = Clock()
    sender = FakeSender(rtx_payload_type)
    counters = rtp_history.attach(cast(RTCRtpSender, sender), min_resend_s=0.005, clock=clock)
    history = getattr(sender, internals.SENDER_HISTORY)
    for seq in range(10, 20):
        history.put(RtpPacket(payload_type=97, sequence_number=seq, ssrc=1111, payload=bytes([seq]) * 100))
    retransmit = sender._retransmit  # type: ignore[attr-defined]

    async def nacks() -> None:
        await retransmit(12)  # the first request: one copy
        clock.now += 0.001
        await retransmit(12)  # the same NACK list again at once: not a new request
        clock.now += 0.1  # the receiver's retry interval (Chromium: 100 ms without an RTT)
        await retransmit(12)  # the resend (or the NACK) was lost: two copies this time
        await retransmit(13)  # another packet's first request: one copy

    asyncio.run(nacks())
    sent = sender.transport.sent
    if rtx_payload_type is None:
        originals = [(p.sequence_number, p.payload) for p in sent]
    else:
        assert all(p.ssrc == 2222 and p.payload_type == rtx_payload_type for p in sent)
        assert [p.sequence_number for p in sent] == [500, 501, 502, 503]  # each copy its own RTX number
        originals = [(int.from_bytes(p.payload[:2], "big"), p.payload[2:]) for p in sent]
    assert originals == [(12, bytes([12]) * 100)] * 3 + [(13, bytes([13]) * 100)]
    assert counters.nacked == 4 and counters.suppressed == 1
    assert counters.repeats == 1 and counters.extra_copies == 1 and counters.retransmissions == 4


def _answers(reask_s: float, nacked_per_s: int) -> list[int]:
    """Copies sent per first request, after a receiver has twice re-asked ``reask_s`` after our
    answers, with ``nacked_per_s`` first requests a second out of 300 packets a second."""
    clock = Clock()
    sender = FakeSender(98)
    rtp_history.attach(cast(RTCRtpSender, sender), clock=clock)
    history = getattr(sender, internals.SENDER_HISTORY)
    end = fill(history, clock, 300, 1.0)  # seqs 0..299 over the last second
    retransmit = sender._retransmit  # type: ignore[attr-defined]
    copies = []

    async def nacks() -> None:
        for seq in (10, 20):  # answered, then asked again: the receiver's retry interval
            await retransmit(seq)
            clock.now += reask_s
            await retransmit(seq)
        seq = end
        for _ in range(nacked_per_s):  # a second of first requests, the stream going on meanwhile
            for _ in range(300 // nacked_per_s):
                history.put(RtpPacket(sequence_number=seq % 65536))
                seq += 1
                clock.now += 1 / 300
            before = len(sender.transport.sent)
            await retransmit((seq - 2) % 65536)
            copies.append(len(sender.transport.sent) - before)

    asyncio.run(nacks())
    return copies


def test_first_answers_go_twice_to_a_receiver_that_re_asks_slowly_under_random_loss() -> None:
    # Chromium without an RTT: re-asks after 100 ms; 5 % of 300 packets/s NACKed
    assert set(_answers(0.1, 15)) == {2}
    # our relay's ingest re-asks after ~10 ms: a lost answer costs little, one copy
    assert set(_answers(0.01, 15)) == {1}
    # a full link (a third NACKed): copies would feed the loss, single answers once the share shows
    heavy = _answers(0.1, 100)
    assert set(heavy[50:]) == {1} and heavy.count(2) <= 0.12 * 300
