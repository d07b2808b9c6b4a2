"""The stream resolution as a user setting (validated, in the output plan) and the bitrate that
follows the encode's pixel rate (a 4K recording is not held to 1080p's 5000 kbit/s)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from encoders.capability import EncodeCapability
from encoders.settings import VideoEncoderSettings, default_bitrate_kbps
from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.audio.mixer import AudioMixer
from studio.collections import save_collection
from studio.engine import Studio
from studio.headless import run_headless
from studio.outputs.output_plan import choose_plan
from studio.outputs.output_scaling import check_stream_max_height
from studio.outputs.pipeline import OutputPipeline, StreamTarget

UHD = (3840, 2160)


def x264(fps: float) -> EncodeCapability:
    return EncodeCapability("libx264", "superfast", 3840, 2160, fps, 8)


def test_the_default_bitrate_follows_the_pixel_rate_within_bounds() -> None:
    assert default_bitrate_kbps(1920, 1080, 30) == 5000  # today's default, unchanged
    assert default_bitrate_kbps(3840, 2160, 30) == 19900  # ~0.08 bit/pixel
    assert default_bitrate_kbps(2560, 1440, 30) == 8800
    assert default_bitrate_kbps(1280, 720, 30) == 5000  # never below what small shows had
    assert default_bitrate_kbps(3840, 2160, 60) == 39800
    assert default_bitrate_kbps(7680, 4320, 60) == 50000  # the ceiling


def test_the_stream_resolution_is_validated() -> None:
    assert check_stream_max_height(None) is None
    assert check_stream_max_height(0) == 0
    assert check_stream_max_height(720) == 720
    for bad in (-1, 721, 100, 9000, True, "1080", 1080.0):
        with pytest.raises(ValueError, match="stream_max_height"):
            check_stream_max_height(bad)


def test_the_plan_follows_the_stream_resolution() -> None:
    fast = x264(60.0)
    assert choose_plan(UHD, 30, hardware=None, capability=fast, stream_cap=720).stream_max_height == 720
    # the canvas: the stream shares the 4K encode (no second encode counted) ...
    canvas = choose_plan(UHD, 30, hardware=None, capability=fast, stream_cap=0)
    assert canvas.record == UHD and canvas.stream_max_height is None
    # ... so a libx264 that keeps 4K alone but not 4K + 1080p records 4K only with the cap off
    just = x264(42.0)
    assert choose_plan(UHD, 30, hardware=None, capability=just, stream_cap=0).record == UHD
    assert choose_plan(UHD, 30, hardware=None, capability=just).record == (2560, 1440)
    # a 720p stream under a 1080p recording is its own encode
    slow = choose_plan(UHD, 30, hardware=None, capability=x264(16.0), stream_cap=720)
    assert slow.record == (1920, 1080) and slow.stream_max_height == 720
    assert choose_plan(UHD, 30, hardware="h264_nvenc", capability=None, stream_cap=1440).stream_max_height == 1440


def _studio(width: int, height: int) -> Studio:
    col = SceneCollection("big", VideoFormat(width, height, 30))
    col.add_source("bg", "color", {"color": "#FF203040", "width": width, "height": height})
    return Studio(col)


def test_the_recording_bitrate_follows_the_plan_and_a_user_bitrate_wins() -> None:
    studio = _studio(3840, 2160)
    pipeline = OutputPipeline(studio, AudioMixer())
    try:
        assert pipeline.video_settings.bitrate_kbps == 19900
        # a 4K show streams 1080p by default, at 1080p's rate; the canvas at the canvas's
        assert pipeline.stream_bitrate_kbps() == 5000
        assert pipeline.stream_bitrate_kbps(StreamTarget("http://x", max_height=0)) == 19900
        pipeline.stream_max_height = 1440
        assert pipeline.stream_bitrate_kbps() == 8800
        pipeline.set_encode_size(1920, 1080)  # the output plan's scaled recording
        assert pipeline.video_settings.bitrate_kbps == 5000
        assert pipeline.stream_bitrate_kbps() == 5000  # shares the 1080p encode
    finally:
        pipeline.close()
    user = OutputPipeline(studio, AudioMixer(), VideoEncoderSettings(width=3840, height=2160, bitrate_kbps=12000))
    try:
        user.set_encode_size(2560, 1440)
        assert user.video_settings.bitrate_kbps == 12000
        assert user.stream_bitrate_kbps() == 12000
    finally:
        user.close()


def test_headless_refuses_a_bad_stream_resolution_before_the_show_starts(
        tmp_path: Path, studio_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "show.json"
    col = SceneCollection("small", VideoFormat(1280, 720, 30))
    col.add_source("bg", "color", {"color": "#FF203040", "width": 320, "height": 180})
    col.add_scene("Show").add_item(SceneItem("bg"))
    save_collection(col, path)
    args = argparse.Namespace(collection=path, scene=None, record=None, stream=None, token_env=None,
                              seconds=None, stream_max_height=-720)
    assert run_headless(args) == 2
    out, err = capsys.readouterr()
    assert "--stream-max-height" in err and "stream_max_height: -720" in err and "headless show of" not in out
