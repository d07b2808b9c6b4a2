"""Rate adaptation end to end: packet loss on the studio's uplink reaches the rate controller
through real RTCP receiver reports, the ladder steps the stream down to its own smaller rendition,
a viewer gets the smaller picture, and the recording keeps the full one from the main encode."""

from __future__ import annotations

import random
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

import av
from aiortc.rtp import is_rtcp
from pattern_show import pattern_collection
from whep_viewer import open_viewer

from studio.audio.mixer import AudioMixer
from studio.engine import Studio
from studio.net.loop import NetLoop
from studio.outputs.pipeline import OutputPipeline, StreamTarget
from studio.outputs.whip_events import OutputStatus, WhipStats
from studio.services.relay import RelayServer

LOSS = 0.3


def test_uplink_loss_steps_the_stream_down_and_the_recording_keeps_the_full_picture(tmp_path: Path) -> None:
    col = pattern_collection()
    studio = Studio(col)
    mixer = AudioMixer()
    net = NetLoop()
    net.start()
    pipeline = OutputPipeline(studio, mixer, net=net)
    relay = RelayServer(port=0, keyframe_request_interval_s=0.0)
    net.run(relay.start())
    recording = tmp_path / "rec.mkv"
    live = threading.Event()
    stepped_down = threading.Event()
    seen: list[WhipStats] = []
    pipeline.stream_state.connect(lambda s: live.set() if s.state is OutputStatus.LIVE else None)

    def watch(stats: WhipStats) -> None:
        seen.append(stats)
        if stats.ladder_step not in ("", "720p30"):
            stepped_down.set()

    pipeline.stream_stats.connect(watch)
    lossy = threading.Event()
    try:
        studio.start()
        mixer.start()
        pipeline.start_recording(recording)
        # 1500 kbit/s at most: below 720p's step-up threshold (1659), so a step down stays down
        stream = pipeline.start_streaming(StreamTarget(relay.url("/whip/live"), max_bitrate_kbps=1500))
        assert live.wait(60), stream.state
        assert seen == [] or seen[-1].ladder_step in ("", "720p30")

        async def drop_uplink_packets() -> None:
            # the studio's own DTLS transport loses 30 % of its RTP (RTCP and the relay untouched)
            transport = stream._senders[0].transport
            send: Callable[[bytes], Awaitable[None]] = transport._send_rtp
            rng = random.Random(7)

            async def lossy_send(data: bytes) -> None:
                if lossy.is_set() and not is_rtcp(data) and rng.random() < LOSS:
                    return
                await send(data)

            transport._send_rtp = lossy_send  # type: ignore[method-assign]

        net.run(drop_uplink_packets())
        lossy.set()
        assert stepped_down.wait(60), [(s.packet_loss_pct, s.loss_target_bps, s.ladder_step) for s in seen]
        lossy.clear()
        reported = [s for s in seen if s.packet_loss_pct > 10]
        assert reported, "no receiver report with the loss reached the stats"
        last = seen[-1]
        assert last.loss_target_bps is not None and last.loss_target_bps < 1_500_000
        assert last.target_bitrate_bps <= last.loss_target_bps
        assert sorted(pipeline.video_fanout.sink_names) == ["recorder", "whip"]

        async def watch_stream() -> set[tuple[int, int]]:
            viewer = await open_viewer(relay.url("/whep/live"))
            try:
                frames = await viewer.wait("video", 20)
                return {(f.width, f.height) for f in frames[-10:]}  # type: ignore[attr-defined]
            finally:
                await viewer.close()

        sizes = net.run(watch_stream(), 60)
        assert sizes and all(h < 720 for _, h in sizes), sizes
    finally:
        lossy.clear()
        pipeline.close()
        mixer.stop()
        studio.stop()
        net.run(relay.stop())
        net.stop()
    with av.open(str(recording)) as container:
        sizes_recorded = {(f.width, f.height) for f in container.decode(video=0)}
    assert sizes_recorded == {(1280, 720)}
