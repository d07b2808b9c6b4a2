from __future__ import annotations

import threading

import numpy as np
import pytest

from scenes.model import SceneCollection, SceneItem, VideoFormat
from scenes.transitions import TransitionKind, TransitionSpec
from studio import commands as cmd
from studio.engine import Studio
from studio.events import CommandFailed, ProgramChanged

RED, BLUE = "#FFFF0000", "#FF0000FF"


def two_scenes() -> SceneCollection:
    col = SceneCollection("t", VideoFormat(1280, 720, 30))
    col.add_source("red", "color", {"color": RED, "width": 1280, "height": 720})
    col.add_source("blue", "color", {"color": BLUE, "width": 1280, "height": 720})
    col.add_scene("A").add_item(SceneItem("red"))
    col.add_scene("B").add_item(SceneItem("blue"))
    return col


def pixel(studio: Studio, slot: str = "program") -> np.ndarray:
    frame, _ = getattr(studio, slot).latest()
    assert frame is not None
    return frame.pixels[360, 640].copy()


def run_frames(studio: Studio, first: int, count: int) -> int:
    for i in range(first, first + count):
        studio.render_offline(i)
    return first + count


def test_offline_render_and_commands() -> None:
    studio = Studio(two_scenes())
    try:
        studio.render_offline(0)
        assert tuple(pixel(studio)) == (0, 0, 255, 255)  # BGRA red
        studio.submit(cmd.SetProgramScene("B"))
        studio.render_offline(1)
        assert tuple(pixel(studio)) == (255, 0, 0, 255)
    finally:
        studio.stop()


def test_fade_transition_blends_then_completes() -> None:
    studio = Studio(two_scenes())
    try:
        studio.submit(cmd.Transition("B", TransitionSpec(TransitionKind.FADE, 1000)))
        n = run_frames(studio, 0, 16)  # frame 15 is 500 ms into the fade
        b, _, r, _ = pixel(studio)
        assert abs(int(b) - 128) <= 10 and abs(int(r) - 128) <= 10
        run_frames(studio, n, 20)
        assert studio.collection.program_scene == "B"
        assert tuple(pixel(studio)) == (255, 0, 0, 255)
    finally:
        studio.stop()


def test_studio_mode_tbar_mid_position_and_swap() -> None:
    studio = Studio(two_scenes(), studio_mode=True)
    changes: list[ProgramChanged] = []
    studio.events.program_changed.connect(changes.append)
    try:
        studio.submit(cmd.SetPreviewScene("B"))
        studio.submit(cmd.SetTransitionPosition(0.5))
        studio.render_offline(0)
        b, _, r, _ = pixel(studio)
        assert abs(int(b) - 128) <= 2 and abs(int(r) - 128) <= 2
        assert tuple(pixel(studio, "preview")) == (255, 0, 0, 255)
        studio.submit(cmd.SetTransitionPosition(1.0))
        studio.render_offline(1)
        assert studio.collection.program_scene == "B"
        assert studio.collection.preview_scene == "A"  # swapped as in OBS
        assert changes[-1] == ProgramChanged("B", "A", True)
    finally:
        studio.stop()


def test_bad_commands_report_and_keep_running() -> None:
    studio = Studio(two_scenes())
    failures: list[CommandFailed] = []
    studio.events.command_failed.connect(failures.append)
    try:
        studio.submit(cmd.SetProgramScene("nope"))
        studio.submit(cmd.UpdateItem("A", "missing", {"x": 1}))
        studio.submit(cmd.SetTransitionPosition(2.0))
        studio.render_offline(0)
        assert [f.message for f in failures] == [
            "no scene named 'nope'", "scene 'A' has no item 'missing'", "T-bar position 2.0 is outside 0..1",
        ]
        assert tuple(pixel(studio)) == (0, 0, 255, 255)
    finally:
        studio.stop()


def test_model_edits_reach_live_sources() -> None:
    studio = Studio(two_scenes())
    try:
        studio.submit(cmd.UpdateSource("red", {"color": "#FF00FF00"}))
        studio.render_offline(0)
        assert tuple(pixel(studio)) == (0, 255, 0, 255)
    finally:
        studio.stop()


def test_clock_thread_publishes_frames_and_stops() -> None:
    studio = Studio(two_scenes())
    seen = threading.Event()
    indices: list[int] = []

    def on_frame(frame: object) -> None:
        indices.append(frame.index)  # type: ignore[attr-defined]
        if len(indices) >= 5:
            seen.set()

    studio.events.program_frame.connect(on_frame)
    studio.start()
    try:
        assert seen.wait(timeout=20)
        assert indices == sorted(indices)
        assert studio.running
    finally:
        studio.stop()
    assert not studio.running


def test_render_offline_frame_pts_follow_the_clock() -> None:
    studio = Studio(two_scenes())
    try:
        frames = [studio.render_offline(i) for i in range(3)]
        assert [f.pts_ns for f in frames] == [0, 33_333_333, 66_666_666]
    finally:
        studio.stop()


@pytest.mark.parametrize("fps", [24, 25, 30, 50, 60])
def test_pts_never_drift(fps: int) -> None:
    col = SceneCollection("t", VideoFormat(1280, 720, fps))
    studio = Studio(col)
    assert studio._clock.pts_of(fps * 3600) == 3600 * 1_000_000_000
    studio.stop()


def _green_clip(path: str, seconds: float = 1.0) -> None:
    import av

    with av.open(path, "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        img = np.zeros((240, 320, 3), np.uint8)
        img[:] = (0, 255, 0)
        for i in range(int(seconds * 30)):
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def test_stinger_plays_its_clip_over_the_switch(tmp_path) -> None:  # type: ignore[no-untyped-def]
    clip = str(tmp_path / "sting.mp4")
    _green_clip(clip)
    studio = Studio(two_scenes())
    try:
        studio.submit(cmd.Transition("B", TransitionSpec(TransitionKind.STINGER, 600, clip, 0.5)))
        n = run_frames(studio, 0, 6)  # 200 ms in: the opaque stinger covers the picture
        b, g, r, _ = pixel(studio)
        assert g > 200 and b < 40 and r < 40
        run_frames(studio, n, 20)
        assert studio.collection.program_scene == "B"
        assert tuple(pixel(studio)) == (255, 0, 0, 255)
    finally:
        studio.stop()
