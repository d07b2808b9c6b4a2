"""What the studio's sender learns from a real receiver: each receiver report's loss, round trip
and delivered rate, and a capped link seen in the NACKs first (issue 11: ``feedback.ReceiverReport``).

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
