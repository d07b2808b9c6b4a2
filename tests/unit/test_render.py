"""Headless render: a real file with both streams, and sound in sync with the picture."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.render import render_scene

FPS = 30
FLASHES_S = (1.0, 2.0)


def clap_and_flash(path: Path, seconds: float = 3.0) -> None:
    """A clip that is black and silent except for a white frame and a click at the same moments."""
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=FPS)
        vs.width, vs.height, vs.pix_fmt = 320, 240, "yuv420p"
        aus = out.add_stream("aac", rate=48_000)
        aus.layout = "stereo"
        for i in range(int(seconds * FPS)):
            white = any(i == round(t * FPS) for t in FLASHES_S)
            img = np.full((240, 320, 3), 255 if white else 0, np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            frame.pts = i
            frame.time_base = Fraction(1, FPS)
            for p in vs.encode(frame):
                out.mux(p)
        samples = np.zeros((2, int(seconds * 48_000)), np.float32)
        for t in FLASHES_S:
            start = int(t * 48_000)
            samples[:, start:start + 480] = 0.8  # a 10 ms click
        for start in range(0, samples.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[:, start:start + 1024]),
                                               format="fltp", layout="stereo")
            frame.sample_rate = 48_000
            frame.pts = start
            for p in aus.encode(frame):
                out.mux(p)
        for p in vs.encode(None):
            out.mux(p)
        for p in aus.encode(None):
            out.mux(p)


def collection_with_clip(clip: Path) -> SceneCollection:
    col = SceneCollection("render", VideoFormat(1280, 720, FPS))
    col.add_source("clip", "media", {"path": str(clip), "loop": False})
    col.add_source("logo", "color", {"color": "#80FF0000", "width": 100, "height": 100})
    scene = col.add_scene("Show")
    scene.add_item(SceneItem("clip", scale_x=4.0, scale_y=3.0))
    scene.add_item(SceneItem("logo", x=20, y=20))
    return col


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_render_writes_both_streams(tmp_path: Path, suffix: str) -> None:
    clip = tmp_path / "clip.mp4"
    clap_and_flash(clip)
    out = tmp_path / f"show{suffix}"
    result = render_scene(collection_with_clip(clip), "Show", 2.0, out)
    assert result.frames == 60
    with av.open(str(out)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0]
        assert (video.codec_context.width, video.codec_context.height) == (1280, 720)
        assert video.codec_context.name == "h264"
        assert audio.codec_context.name == ("aac" if suffix == ".mp4" else "opus")
        frames = list(container.decode(video=0))
    assert len(frames) == 60
    assert abs(float(frames[-1].time) - 59 / FPS) < 0.01


def test_sound_stays_in_sync_with_the_picture(tmp_path: Path) -> None:
    clip = tmp_path / "clap.mp4"
    clap_and_flash(clip)
    out = tmp_path / "sync.mkv"
    render_scene(collection_with_clip(clip), "Show", 3.0, out)
    with av.open(str(out)) as container:
        flashes = [float(f.time) for f in container.decode(video=0)
                   if f.to_ndarray(format="gray")[360, 640] > 200]
    with av.open(str(out)) as container:
        chunks = []
        for frame in container.decode(audio=0):
            chunks.append((float(frame.time), frame.to_ndarray()[0]))
    clicks = []
    for t0, samples in chunks:
        loud = np.nonzero(np.abs(samples) > 0.3)[0]
        if len(loud) and (not clicks or t0 + loud[0] / 48_000 - clicks[-1] > 0.5):
            clicks.append(t0 + loud[0] / 48_000)
    assert len(flashes) == 2 and len(clicks) == 2, (flashes, clicks)
    offsets_ms = [(c - f) * 1000 for c, f in zip(clicks, flashes, strict=True)]
    assert all(abs(o) <= 40 for o in offsets_ms), offsets_ms
