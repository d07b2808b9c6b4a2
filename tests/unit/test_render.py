"""Headless render: a real file with both streams, and sound in sync with the picture."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.render import render_scene
from studio.sync_clip import av_offsets_ms, click_times, flash_times, write_sync_clip

FPS = 30
FLASHES_S = (1.0, 2.0)


def clap_and_flash(path: Path, seconds: float = 3.0) -> None:
    write_sync_clip(path, FLASHES_S, seconds, FPS)


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
    flashes = flash_times(out, (600, 340, 80, 40))
    clicks = click_times(out)
    assert len(flashes) == 2 and len(clicks) == 2, (flashes, clicks)
    offsets_ms = av_offsets_ms(flashes, clicks)
    assert len(offsets_ms) == 2
    assert all(abs(o) <= 40 for o in offsets_ms), offsets_ms
