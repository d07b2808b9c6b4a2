"""A viewer moved off a layer its link cannot carry: what it was sent before is not resent."""

from __future__ import annotations

import asyncio
from typing import cast

from aiortc import RTCRtpSender
from aiortc.rtp import RtpPacket

from studio.webrtc import internals
from studio.webrtc.forget_sent import ForgetSent
from studio.webrtc.rtp_history import RtpHistory


class Clock:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


class Sender:
    """The parts of aiortc's sender that are used: its history and its NACK answer."""

    def __init__(self, clock: Clock) -> None:
        self.resent: list[int] = []
        setattr(self, internals.SENDER_HISTORY, RtpHistory(clock=clock))

    async def _retransmit(self, sequence_number: int) -> None:
        self.resent.append(sequence_number)

    def send(self, *sequence_numbers: int) -> None:
        for seq in sequence_numbers:
            getattr(self, internals.SENDER_HISTORY).put(RtpPacket(sequence_number=seq, payload=b"x" * 100))


def test_packets_sent_before_forget_are_not_resent_until_they_have_left_the_history() -> None:
    clock = Clock()
    sender = Sender(clock)
    state = ForgetSent.attach(cast(RTCRtpSender, sender), clock)
    retransmit = sender._retransmit
    sender.send(*range(65_530, 65_536), *range(0, 4))  # across the wrap
    asyncio.run(retransmit(65_531))  # before: answered
    state.forget()  # the viewer moves to the low layer: those packets are no use to it
    sender.send(4, 5)  # the low layer's keyframe
    for seq in (65_532, 2, 4, 5):
        asyncio.run(retransmit(seq))
    assert sender.resent == [65_531, 4, 5] and state.skipped == 2
    clock.now += 2.0  # the forgotten packets are out of the history: their numbers may come round again
    asyncio.run(retransmit(2))
    assert sender.resent[-1] == 2 and not state.forgotten
