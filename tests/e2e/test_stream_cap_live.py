"""Output scaling for real: a "big" canvas (1280x720, cheap here) streams capped (360p) while the
recording keeps the canvas; a smaller main encode (an output plan's) records scaled."""

from __future__ import annotations

import threading
from pathlib import Path

import av
from whep_viewer import open_viewer

from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.audio.mixer import AudioMixer
from studio.engine import Studio
from studio.events import ProgramFrame
from studio.net.loop import NetLoop
from studio.outputs.pipeline import OutputPipeline, StreamTarget
from studio.outputs.whip_events import OutputStatus
from studio.services.relay import RelayServer


def _collection() -> SceneCollection:
    col = SceneCollection("big", VideoFormat(1280, 720, 30))
    col.add_source("bg", "color", {"color": "#FF203040", "width": 1280, "height": 720})
    col.add_source("box", "color", {"color": "#FFE0C020", "width": 320, "height": 180})
    col.add_scene("Show").add_item(SceneItem("bg"))
    col.scene("Show").add_item(SceneItem("box", x=100, y=100))
    return col


def _recorded_size(path: Path) -> tuple[int, int, int]:
    with av.open(str(path)) as container:
        frames = [(f.width, f.height) for f in container.decode(video=0)]
    assert frames, "nothing recorded"
    assert len(set(frames)) == 1, set(frames)
    return (*frames[0], len(frames))


def test_a_capped_stream_gets_its_own_scaled_encode_and_the_recording_keeps_the_canvas(tmp_path: Path) -> None:
    studio = Studio(_collection())
    mixer = AudioMixer()
    net = NetLoop()
    net.start()
    pipeline = OutputPipeline(studio, mixer, net=net)
    relay = RelayServer(port=0, keyframe_request_interval_s=0.0)
    live = threading.Event()
    pipeline.stream_state.connect(lambda s: live.set() if s.state is OutputStatus.LIVE else None)
    out = tmp_path / "show.mkv"
    try:
        net.run(relay.start())
        studio.start()
        mixer.start()
        pipeline.start_recording(out)
        pipeline.start_streaming(StreamTarget(relay.url("/whip/live"), max_height=360))
        assert live.wait(60)
        assert pipeline.video_fanout.sink_names == ["recorder"]  # the stream never takes the 720p encode

        async def watch() -> list[tuple[int, int]]:
            viewer = await open_viewer(relay.url("/whep/live"))
            try:
                frames = await viewer.wait("video", 5)
                return [(f.width, f.height) for f in frames]  # type: ignore[attr-defined]
            finally:
                await viewer.close()

        seen = net.run(watch(), 60)
    finally:
        pipeline.close()
        mixer.stop()
        studio.stop()
        net.run(relay.stop())
        net.stop()
    assert set(seen) == {(640, 360)}, seen
    width, height, frames = _recorded_size(out)
    assert (width, height) == (1280, 720) and frames > 0


def test_a_smaller_main_encode_records_the_canvas_scaled(tmp_path: Path) -> None:
    studio = Studio(_collection())
    mixer = AudioMixer()
    pipeline = OutputPipeline(studio, mixer)
    pipeline.set_encode_size(640, 360)
    enough = threading.Event()
    frames: list[int] = []

    def count(frame: ProgramFrame) -> None:
        frames.append(frame.index)
        if len(frames) >= 20:
            enough.set()

    out = tmp_path / "small.mkv"
    try:
        studio.start()
        mixer.start()
        pipeline.start_recording(out)
        studio.events.program_frame.connect(count)
        assert enough.wait(60)
    finally:
        pipeline.close()
        mixer.stop()
        studio.stop()
    width, height, recorded = _recorded_size(out)
    assert (width, height) == (640, 360) and recorded > 0
