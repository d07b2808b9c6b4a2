"""What the studio's sender learns from a real receiver: each receiver report's loss, round trip
and delivered rate, and a capped link seen in the NACKs first (issue 11: ``feedback.ReceiverReport``);
and what it no longer resends once a new picture has started (a ladder step's IDR).

Two real aiortc peers (``lossy_link``: the sender set up as the WHIP output's video, the receiver as
the relay's ingest); half of the packets are dropped at the packet level, as a link capped at half
of what we send would.
"""

from __future__ import annotations

import asyncio
import contextlib

from lossy_link import FRAME_S, WAIT, LossyPair, open_pair

from studio.webrtc import feedback
from studio.webrtc.feedback import ReceiverReport


def test_reports_say_what_got_through_and_heavy_loss_shows_in_the_nacks_first() -> None:
    async def main() -> None:
        pair = await open_pair()
        reports: list[ReceiverReport] = []
        arrived = asyncio.Event()

        def on_report(report: ReceiverReport) -> None:
            reports.append(report)
            arrived.set()

        async def until(condition: object) -> None:
            async def wait() -> None:
                while not condition():  # type: ignore[operator]
                    arrived.clear()
                    await arrived.wait()

            await asyncio.wait_for(wait(), WAIT)

        async def source(p: LossyPair) -> None:
            index = 0
            while True:  # ~6 packets a frame at 30 fps: ~1.7 Mbit/s, a keyframe a second
                p.push(index, keyframe=index % 30 == 0, size=7000)
                index += 1
                await asyncio.sleep(FRAME_S)

        counters = feedback.attach(pair.sender, on_report=on_report)
        feeding = asyncio.create_task(source(pair))
        try:
            await until(lambda: any(r.delivered is not None for r in reports))
            clean = next(r for r in reports if r.delivered is not None)
            assert clean.delivered is not None and clean.delivered.loss == 0.0 and not clean.from_nacks
            assert 800_000 < clean.delivered.bps < 3_000_000  # about what the source sends
            assert counters.last_report is not None

            pair.shim.decide = lambda seq, rtx, copy: seq % 2 == 0  # half of everything, resends too
            start = len(reports)
            await until(lambda: any(r.from_nacks for r in reports[start:]))
            fast = next(r for r in reports[start:] if r.from_nacks)
            assert fast.delivered is not None and fast.fraction_lost >= 0.4
            await until(lambda: any(not r.from_nacks and r.fraction_lost > 0.3 for r in reports[start:]))
            slow = [r for r in reports[start:] if not r.from_nacks and r.delivered is not None]
            if slow:  # a report over a range wholly inside the loss: half of it got through
                assert slow[-1].delivered is not None and slow[-1].delivered.loss > 0.3
        finally:
            feeding.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeding
            await pair.close()

    asyncio.run(main())


def test_after_a_new_picture_starts_nacks_for_older_packets_go_unanswered() -> None:
    async def main() -> None:
        pair = await open_pair()
        try:
            counters = feedback.attach(pair.sender)
            pair.push(0, keyframe=True)
            await pair.play(1, 3)
            await pair.wait_received(lambda got: got[-1:] == [3])
            old = pair.shim.media_seqs()[-1]  # the last packet of the old picture
            ssrc = pair.sender._ssrc
            await pair.receiver._send_rtcp_nack(ssrc, [old])  # before the step: answered
            await pair.shim.wait_for(lambda: pair.shim.retransmitted(old) == 1)

            counters.picture_restarted()  # the step's IDR comes next
            before = len(pair.shim.media_seqs())
            pair.push(4, keyframe=True)
            await pair.wait_received(lambda got: got[-1:] == [4])
            new = pair.shim.media_seqs()[before]  # the IDR's first packet
            await pair.receiver._send_rtcp_nack(ssrc, [old, new])
            await pair.shim.wait_for(lambda: pair.shim.retransmitted(new) == 1)

            assert pair.shim.retransmitted(old) == 1  # not again: the receiver drops that frame at the IDR
            assert counters.stale_nacks == 1
            assert counters.nacks == 3  # every NACK still counts (stats, the capped-link share)
            pair.assert_intact()
        finally:
            await pair.close()

    asyncio.run(main())
