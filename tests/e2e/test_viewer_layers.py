"""One weak viewer no longer drags everyone down: the studio publishes a low layer to its own
relay beside the main stream, and the relay moves only the viewer whose feedback says it cannot
keep up onto it (at a keyframe), while the other keeps the full picture."""

from __future__ import annotations

import asyncio
import threading

from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, pack_remb_fci
from pattern_show import pattern_collection
from whep_viewer import Viewer, open_viewer

from studio.audio.mixer import AudioMixer
from studio.engine import Studio
from studio.net.loop import NetLoop
from studio.outputs.low_layer import low_layer_url
from studio.outputs.pipeline import OutputPipeline, StreamTarget
from studio.outputs.whip_events import OutputStatus
from studio.services.relay import RelayServer


def test_a_weak_viewer_gets_the_low_layer_and_the_other_keeps_the_full_picture() -> None:
    col = pattern_collection()
    studio = Studio(col)
    mixer = AudioMixer()
    net = NetLoop()
    net.start()
    pipeline = OutputPipeline(studio, mixer, net=net)
    relay = RelayServer(port=0, keyframe_request_interval_s=0.0)
    net.run(relay.start())
    live = threading.Event()
    pipeline.stream_state.connect(lambda s: live.set() if s.state is OutputStatus.LIVE else None)
    whip = relay.url("/whip/live")
    try:
        studio.start()
        mixer.start()
        pipeline.start_streaming(StreamTarget(whip, low_layer_url=low_layer_url(whip)))
        assert live.wait(60)

        async def sizes(viewer: Viewer, count: int) -> set[tuple[int, int]]:
            start = len(viewer.items["video"])
            frames = await viewer.wait("video", start + count)
            return {(f.width, f.height) for f in frames[start:]}  # type: ignore[attr-defined]

        async def watch() -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
            strong = await open_viewer(relay.url("/whep/live"))
            weak = await open_viewer(relay.url("/whep/live"))
            try:
                await strong.wait("video", 5)
                await weak.wait("video", 5)
                receiver = weak.receivers["video"]
                # the weak viewer's link: its own estimator silenced, a REMB of 100 kbit/s instead
                receiver._RTCRtpReceiver__remote_bitrate_estimator = None  # type: ignore[attr-defined]
                media_ssrc = receiver.getSynchronizationSources()[0].source
                rtcp_ssrc = receiver._RTCRtpReceiver__rtcp_ssrc  # type: ignore[attr-defined]
                remb = RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0,
                                      fci=pack_remb_fci(100_000, [media_ssrc]))
                for _ in range(40):  # the relay looks at each main-layer keyframe (1 s apart)
                    await receiver._send_rtcp(remb)
                    if (640, 360) in await sizes(weak, 5):
                        break
                weak_sizes = await sizes(weak, 10)
                return weak_sizes, await sizes(strong, 10)
            finally:
                await asyncio.gather(strong.close(), weak.close())

        weak_sizes, strong_sizes = net.run(watch(), 120)
        assert weak_sizes == {(640, 360)}, weak_sizes
        assert strong_sizes == {(1280, 720)}, strong_sizes
        stream = relay.streams["live"]
        assert stream.low is not None and stream.low.ingest is not None
    finally:
        pipeline.close()
        mixer.stop()
        studio.stop()
        net.run(relay.stop())
        net.stop()


def test_third_party_targets_get_no_low_layer() -> None:
    assert StreamTarget("https://example.com/whip/abc").low_layer_url is None
