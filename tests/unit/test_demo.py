"""The built-in demo: generated locally, with subtitled clips that have sound, and a loadable collection."""

from __future__ import annotations

from pathlib import Path

import av
import cv2

from studio.collections import load_collection
from studio.demo import CLIPS, ensure_demo


def test_demo_assets_are_generated_once_and_load(studio_home: Path) -> None:
    assets = ensure_demo(size=(1280, 720))
    assert assets.folder.is_relative_to(studio_home)
    for plan in CLIPS:
        path = assets.clips[plan.file]
        with av.open(str(path)) as container:
            video = container.streams.video[0]
            audio = container.streams.audio[0]
            assert (video.codec_context.width, video.codec_context.height) == (1280, 720)
            assert audio.codec_context.sample_rate == 48_000
            assert container.duration is not None
            assert abs(container.duration / 1e6 - plan.seconds) < 0.5
    col = load_collection(assets.collection)
    assert [s.name for s in col.scenes] == ["Drama", "Live", "Drama + Host"]
    assert (col.video.width, col.video.height) == (1280, 720)
    assert {c.type_id for c in col.sources.values()} >= {"media", "camera", "product_card", "text",
                                                        "danmaku_overlay", "poll_overlay", "reactions_overlay"}
    # without a camera the program shows the standby picture, never the preview's status card
    camera = next(c for c in col.sources.values() if c.type_id == "camera")
    assert camera.settings["fallback_image"] == str(assets.camera_standby)
    standby = cv2.imread(str(assets.camera_standby), cv2.IMREAD_UNCHANGED)
    assert standby is not None and standby.shape == (360, 640, 4) and standby[..., 3].min() == 255
    # a second call reuses what is there
    before = assets.collection.stat().st_mtime_ns
    again = ensure_demo(size=(1280, 720))
    assert again.collection.stat().st_mtime_ns == before


def test_subtitles_are_drawn_into_the_clip(studio_home: Path) -> None:
    assets = ensure_demo(size=(1280, 720))
    with av.open(str(assets.clips[CLIPS[0].file])) as container:
        frames = [f.to_ndarray(format="gray") for i, f in enumerate(container.decode(video=0)) if i in (3, 45)]
    # frame 3 (0.1 s) has no subtitle yet, frame 45 (1.5 s) has one: the subtitle band differs
    band = slice(560, 690)
    diff = abs(frames[0][band].astype(int) - frames[1][band].astype(int))
    assert (diff > 60).sum() > 500
