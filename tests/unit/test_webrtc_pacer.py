"""The pacer: video beyond the burst allowance waits its turn; audio, RTCP and RTX never wait."""

from __future__ import annotations

import asyncio

import pytest
from aiortc.rtp import RtcpPacket, RtcpRrPacket, RtpPacket

from studio.webrtc.pacer import Pacer

VIDEO, AUDIO, RTX = 0x1111, 0x2222, 0x3333


def rtp(ssrc: int, seq: int, size: int = 1200) -> bytes:
    return RtpPacket(payload_type=96, sequence_number=seq, ssrc=ssrc, payload=b"\x55" * size).serialize()


def ssrc_of(data: bytes) -> int:
    return int.from_bytes(data[8:12], "big")


class Wire:
    def __init__(self, expected: int) -> None:
        self.sent: list[bytes] = []
        self.expected = expected
        self.done = asyncio.Event()

    async def send(self, data: bytes) -> None:
        self.sent.append(data)
        if len(self.sent) >= self.expected:
            self.done.set()


def test_a_burst_beyond_the_allowance_is_queued_and_priority_packets_overtake_it() -> None:
    async def main() -> None:
        video = [rtp(VIDEO, seq) for seq in range(40)]  # 48 KB: ~0.4 s at 1 Mbit/s
        audio, rtx = rtp(AUDIO, 1, 160), rtp(RTX, 7)
        rtcp = bytes(RtcpRrPacket(ssrc=5))
        assert RtcpPacket.parse(rtcp)
        wire = Wire(len(video) + 3)
        pacer = Pacer(wire.send, min_rate_bps=1_000_000, burst_s=0.01, max_queue_s=1.0)
        pacer.paced_ssrcs.add(VIDEO)
        for packet in video:
            await pacer.send_rtp(packet)
        assert 0 < len(wire.sent) < len(video)  # the bucket's worth left, the rest waits
        assert pacer.queued == len(video) - len(wire.sent) and pacer.packets_paced == pacer.queued
        already = len(wire.sent)
        for packet in (audio, rtcp, rtx):
            await pacer.send_rtp(packet)
        assert wire.sent[already : already + 3] == [audio, rtcp, rtx]  # ahead of the queued video
        await asyncio.wait_for(wire.done.wait(), 30)
        assert [p for p in wire.sent if ssrc_of(p) == VIDEO] == video  # order kept
        assert pacer.queued == 0

    asyncio.run(main())


def test_an_ordinary_frame_leaves_at_once() -> None:
    async def main() -> None:
        frame = [rtp(VIDEO, seq) for seq in range(10)]  # 12 KB: one frame at ~3 Mbit/s
        wire = Wire(len(frame))
        pacer = Pacer(wire.send, min_rate_bps=8_000_000)  # 2.5 x 3.2 Mbit/s; 15 ms burst = 15 KB
        pacer.paced_ssrcs.add(VIDEO)
        for packet in frame:
            await pacer.send_rtp(packet)
        assert wire.sent == frame and pacer.packets_paced == 0

    asyncio.run(main())


def test_no_packet_waits_longer_than_the_queue_limit() -> None:
    async def main() -> None:
        video = [rtp(VIDEO, seq) for seq in range(30)]
        wire = Wire(len(video))
        # a tiny rate that would take seconds: the queue limit sends them anyway
        pacer = Pacer(wire.send, min_rate_bps=10_000, burst_s=0.0, max_queue_s=0.02)
        pacer.paced_ssrcs.add(VIDEO)
        for packet in video:
            await pacer.send_rtp(packet)
        await asyncio.wait_for(wire.done.wait(), 30)
        assert wire.sent == video and pacer.packets_flushed > 0

    asyncio.run(main())


def test_pacer_settings_are_checked() -> None:
    async def send(data: bytes) -> None:
        pass

    with pytest.raises(ValueError, match="factor"):
        Pacer(send, factor=0.5)
