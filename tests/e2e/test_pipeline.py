"""The live pipeline: the engine's program, encoded once, recorded and streamed to the local relay."""

from __future__ import annotations

import threading
from pathlib import Path

import av

from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.audio.mixer import AudioMixer
from studio.engine import Studio
from studio.events import ProgramFrame
from studio.net.loop import NetLoop
from studio.outputs.pipeline import OutputPipeline, StreamTarget
from studio.outputs.whip_events import OutputStatus
from studio.services.local import LocalServices
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
