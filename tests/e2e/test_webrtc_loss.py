"""Loss injected at the packet level between two real aiortc peers on 127.0.0.1 (issue 11).

The sender is set up like the studio's WHIP output, the receiver like the relay's ingest
(``lossy_link``); chosen RTP packets (originals and retransmissions) are dropped on arrival.
"""

from __future__ import annotations

import asyncio

from aiortc.rtp import RTP_HISTORY_SIZE
from lossy_link import LossyPair, open_pair

from studio.webrtc import pacer


def run(test: object) -> None:
    async def main() -> None:
        pair = await open_pair()
        try:
            await test(pair)  # type: ignore[operator]
        finally:
            await pair.close()

    asyncio.run(main())


def test_a_nack_is_asked_again_until_the_retransmission_gets_through() -> None:
    async def body(pair: LossyPair) -> None:
        pair.push(0, keyframe=True)
        await pair.wait_received(lambda got: got == [0])
        # this test is about retries: a loaded machine must not make it a give-up
        pair.nack.min_give_up_s = pair.nack.max_give_up_s = 5.0
        victim: list[int] = []

        def decide(seq: int, rtx: bool, copy: int) -> bool:
            if not victim and not rtx and copy == 0 and 3 in pair.sent:
                victim.append(seq)  # the first packet of frame 3
            # the original and the first two answers are lost (the second went out twice: a repeat);
            # the third one arrives
            return bool(victim) and seq == victim[0] and copy < 4

        pair.shim.decide = decide
        await pair.play(1, 2)
        pair.push(3)
        await pair.wait_received(lambda got: 3 in got)
        await pair.play(4, 3)
        await pair.wait_received(lambda got: got[-1:] == [6])

        assert pair.received_indexes() == list(range(7))  # in order, nothing lost, nothing held
        pair.assert_intact()
        assert victim and pair.shim.retransmitted(victim[0]) >= 4
        assert pair.nack.counters.retried >= 2  # asked again by the timer, not just once
        assert pair.nack.counters.given_up == 0 and pair.buffer.frames_dropped == 0
        assert pair.counters.retransmissions >= 4 and pair.counters.repeats >= 1 and pair.counters.extra_copies >= 1
        assert pair.keyframe_requests == 0

    run(body)


def test_a_hole_is_given_up_by_time_and_the_stream_waits_for_a_keyframe() -> None:
    async def body(pair: LossyPair) -> None:
        pair.push(0, keyframe=True)
        await pair.wait_received(lambda got: got == [0])
        lost: list[int] = []

        def decide(seq: int, rtx: bool, copy: int) -> bool:
            if not lost and not rtx and copy == 0 and 2 in pair.sent:
                lost.append(seq)  # the first packet of frame 2
            return seq in lost  # never arrives, however often it is asked for

        pair.shim.decide = decide
        pair.push(1)
        await pair.wait_received(lambda got: got == [0, 1])
        pair.push(2)  # its first packet is lost for good
        # later frames flow but must be held: they reference the broken one
        play = asyncio.create_task(pair.play(3, 60))
        await asyncio.wait_for(pair.keyframe_asked.wait(), 30)
        play.cancel()
        await asyncio.gather(play, return_exceptions=True)
        assert pair.received_indexes() == [0, 1]
        pair.push(100, keyframe=True)  # the encoder answers the request
        await pair.play(101, 2)
        await pair.wait_received(lambda got: got[-1:] == [102])

        assert pair.received_indexes() == [0, 1, 100, 101, 102]
        pair.assert_intact()
        assert pair.nack.counters.given_up >= 1 and pair.nack.counters.retried >= 1
        assert pair.buffer.frames_dropped >= 1 and not pair.buffer.awaiting_keyframe
        assert pair.shim.retransmitted(lost[0]) >= 1  # the sender answered; the network ate it

    run(body)


def test_a_nack_for_a_packet_older_than_aiortcs_history_is_answered() -> None:
    async def body(pair: LossyPair) -> None:
        pair.push(0, keyframe=True)
        await pair.play(1, 14, size=20_000)  # ~17 packets a frame: > 128 packets in half a second
        await pair.wait_received(lambda got: got[-1:] == [14])
        media = pair.shim.media_seqs()
        old = media[5]
        assert len(media) - 5 > RTP_HISTORY_SIZE  # aiortc's own history has overwritten it

        never_sent = (media[0] - 1000) % 65536
        ssrc = pair.sender._ssrc
        await pair.receiver._send_rtcp_nack(ssrc, [never_sent])
        await pair.receiver._send_rtcp_nack(ssrc, [old])
        await pair.shim.wait_for(lambda: pair.shim.retransmitted(old) == 1)

        assert pair.counters.retransmissions == 1
        assert pair.counters.unanswered == 1  # the one it never had
        pair.assert_intact()

    run(body)


def test_an_idr_leaves_paced_and_arrives_whole() -> None:
    async def body(pair: LossyPair) -> None:
        transport_pacer = getattr(pair.sender.transport, "_studio_pacer", None)
        assert isinstance(transport_pacer, pacer.Pacer)
        assert pair.sender._ssrc in transport_pacer.paced_ssrcs
        before = transport_pacer.packets_paced
        pair.push(0, keyframe=True, size=60_000)  # ~50 packets, far above the burst allowance
        await pair.play(1, 3)
        await pair.wait_received(lambda got: got[-1:] == [3])

        assert pair.received_indexes() == [0, 1, 2, 3]
        pair.assert_intact()
        assert transport_pacer.packets_paced > before  # part of the IDR waited for its turn
        assert transport_pacer.queued == 0

    run(body)
