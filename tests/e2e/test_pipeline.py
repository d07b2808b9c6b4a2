"""The live pipeline: the engine's program, encoded once, recorded and streamed to the local relay."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import av
from pattern_show import pattern_collection
from whep_viewer import open_viewer

from encoders.packets import EncodedPacket
from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.audio.mixer import AudioMixer
from studio.engine import Studio
from studio.events import ProgramFrame
from studio.net.loop import NetLoop
from studio.outputs.pipeline import OutputPipeline, StreamTarget
from studio.outputs.whip_events import OutputStatus
from studio.services.local import LocalServices
from studio.services.relay import RelayServer
from studio.sync_clip import write_sync_clip


def test_record_and_stream_from_one_encode(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    write_sync_clip(clip, [0.5, 1.5], seconds=3.0)
    col = SceneCollection("live", VideoFormat(1280, 720, 30))
    col.add_source("bg", "color", {"color": "#FF203040", "width": 1280, "height": 720})
    col.add_source("clip", "media", {"path": str(clip), "loop": True})
    col.add_scene("Show").add_item(SceneItem("bg"))
    col.scene("Show").add_item(SceneItem("clip", x=100, y=100))
    studio = Studio(col)
    mixer = AudioMixer()
    net = NetLoop()
    pipeline = OutputPipeline(studio, mixer, net=net)
    services = LocalServices(net, relay_port=0, hub_port=0)
    live = threading.Event()
    enough = threading.Event()
    pipeline.stream_state.connect(lambda s: live.set() if s.state is OutputStatus.LIVE else None)
    recorded_from: list[int] = []

    def count(frame: ProgramFrame) -> None:
        if live.is_set():
            recorded_from.append(frame.index)
            if len(recorded_from) >= 45:
                enough.set()

    studio.events.program_frame.connect(count)
    out = tmp_path / "show.mkv"
    try:
        urls = services.start()
        studio.start()
        mixer.start()
        assert pipeline.start_recording(out) == out
        stream = pipeline.start_streaming(StreamTarget(urls.whip, min_bitrate_kbps=500, max_bitrate_kbps=3000))
        assert live.wait(60), f"stream never went live: {stream.state}"
        assert enough.wait(60)
        stats = pipeline.snapshot()
        assert stats.video is not None and stats.video.encoder == "libx264"
        assert stats.stream_state is not None and stats.stream_state.state is OutputStatus.LIVE
        assert sorted(pipeline.video_fanout.sink_names) == ["recorder", "whip"]  # one encode, two outputs
    finally:
        pipeline.close()
        mixer.stop()
        studio.stop()
        services.stop()
        net.stop()
    with av.open(str(out)) as container:
        kinds = sorted(s.type for s in container.streams)
        frames = sum(1 for _ in container.decode(video=0))
    assert kinds == ["audio", "video"]
    assert frames >= 45


class Live:
    """Studio + mixer + pipeline streaming to a relay on a fixed loopback port, recording meanwhile."""

    def __init__(self, tmp_path: Path) -> None:
        col = pattern_collection()
        self.studio = Studio(col)
        self.mixer = AudioMixer()
        self.net = NetLoop()
        self.net.start()
        self.pipeline = OutputPipeline(self.studio, self.mixer, net=self.net)
        self.relay = RelayServer(port=0, keyframe_request_interval_s=0.0)
        self.net.run(self.relay.start())
        self.states: list[OutputStatus] = []
        self.changed = threading.Condition()
        self.pipeline.stream_state.connect(self._state)
        self.recording = tmp_path / "rec.mkv"

    def _state(self, state: object) -> None:
        with self.changed:
            self.states.append(state.state)  # type: ignore[attr-defined]
            self.changed.notify_all()

    def wait_for(self, status: OutputStatus, after: int = 0) -> int:
        with self.changed:
            assert self.changed.wait_for(lambda: status in self.states[after:], 60), self.states
            return len(self.states)

    def start(self) -> None:
        self.studio.start()
        self.mixer.start()
        self.pipeline.start_recording(self.recording)
        self.pipeline.start_streaming(StreamTarget(self.relay.url("/whip/live")))

    def close(self) -> None:
        self.pipeline.close()
        self.mixer.stop()
        self.studio.stop()
        self.net.run(self.relay.stop())
        self.net.stop()


def test_stream_resumes_after_the_relay_returns_and_the_recording_never_stops(tmp_path: Path) -> None:
    live = Live(tmp_path)
    try:
        live.start()
        seen = live.wait_for(OutputStatus.LIVE)
        port = live.relay.port
        down_at = time.monotonic()
        live.net.run(live.relay.stop())
        seen = live.wait_for(OutputStatus.RECONNECTING, seen)
        live.relay = RelayServer(port=port, keyframe_request_interval_s=0.0)
        live.net.run(live.relay.start())
        live.wait_for(OutputStatus.LIVE, seen)
        outage_s = time.monotonic() - down_at
        assert live.pipeline.recorder is not None
    finally:
        live.close()
    with av.open(str(live.recording)) as container:
        times = [float(f.time) for f in container.decode(video=0) if f.time is not None]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(times) > 30
    # a busy machine lags a few frames now and then; a hole where the stream was down would be as
    # long as the outage itself (the reconnect backoff alone is 2 s), so compare with that
    assert max(gaps) < outage_s / 2, f"the recording has a {max(gaps):.2f} s hole ({outage_s:.1f} s outage)"


def test_a_viewer_keyframe_request_makes_our_encoder_send_an_idr(tmp_path: Path) -> None:
    live = Live(tmp_path)
    packets: list[bool] = []  # keyframe flag of every video packet the encoder sent
    requests: list[int] = []  # how many packets had been sent when a keyframe was requested
    changed = threading.Condition()

    class Spy:
        def put(self, packet: EncodedPacket) -> None:
            with changed:
                packets.append(packet.keyframe)
                changed.notify_all()

    live.pipeline.video_fanout.add_sink("spy", Spy())
    try:
        live.start()
        live.wait_for(OutputStatus.LIVE)
        stream = live.pipeline.stream
        assert stream is not None
        forward = stream.on_keyframe_request  # the pipeline wired it to our encoder's request_keyframe

        def keyframe_request() -> None:
            with changed:
                requests.append(len(packets))
                changed.notify_all()
            forward()

        stream.on_keyframe_request = keyframe_request

        def asked() -> bool:
            with changed:
                return changed.wait_for(lambda: bool(requests), 1.0)

        async def watch_and_ask() -> None:
            # joining asks for a keyframe (PLI upstream); the output rate-limits requests to one per
            # 0.5 s, so keep asking (one PLI per second, at most 30) until one gets through
            viewer = await open_viewer(live.relay.url("/whep/live"))
            try:
                await viewer.wait("video", 3)
                receiver = viewer.receivers["video"]
                for _ in range(30):
                    await receiver._send_rtcp_pli(receiver.getSynchronizationSources()[0].source)
                    if await asyncio.to_thread(asked):
                        return
            finally:
                await viewer.close()

        live.net.run(watch_and_ask(), 60)
        with changed:
            assert requests, "no keyframe request reached the encoder"
            at = requests[0]
            # the encoder queue holds up to 3 frames: an IDR must follow within them, unless one
            # left within the last 0.5 s (15 frames), which answers it (requests are coalesced)
            assert changed.wait_for(lambda: len(packets) >= at + 4, 30)
            assert any(packets[max(0, at - 15):at + 4]), packets[max(0, at - 15):at + 4]
    finally:
        live.close()
