"""CameraSource: absent devices, a real OpenCV capture of a video file, and an unplug/replug cycle.

There is no camera on the test machines: a real capture goes through OpenCV with a generated video
file as the device path; the unplug case replaces only ``cv2.VideoCapture`` (the hardware).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from scenes.frame import VideoFrame
from scenes.registry import get_type
from scenes.sources import camera as camera_module
from scenes.sources.base import View
from scenes.sources.camera import CameraSource, to_bgra

WAIT_S = 20.0


@pytest.fixture
def open_camera() -> Iterator[Callable[..., CameraSource]]:
    made: list[CameraSource] = []

    def make(**settings: Any) -> CameraSource:
        src = get_type("camera").create(settings)
        assert isinstance(src, CameraSource)
        made.append(src)
        return src

    yield make
    for src in made:
        src.close()


def make_video(path: Path, frames: int = 8, size: tuple[int, int] = (64, 48)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 30, size)
    assert writer.isOpened()
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), (i * 20, 100, 200), np.uint8))
    writer.release()
    return path


def camera_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("camera:")]


def picture(src: CameraSource) -> VideoFrame:
    f = src.frame()
    assert f is not None
    return f


def assert_no_signal(src: CameraSource, size: tuple[int, int], settled: bool = True) -> None:
    card = src.frame_for(View.PREVIEW)  # the operator's view shows the card ...
    assert card is not None and card.opaque and (card.width, card.height) == size
    assert src.frame_for(View.PROGRAM) is None  # ... the air never does
    if settled:
        assert card is src.frame_for(View.PREVIEW)  # cached card: a dead camera costs nothing per tick


def test_type_is_registered() -> None:
    t = get_type("camera")
    assert t.defaults() == {"device": "0", "width": 1280, "height": 720, "fps": 30, "fallback_image": ""}
    with pytest.raises(ValueError, match="Frame rate"):
        t.validate({"fps": 0})


@pytest.mark.parametrize("device", ["99", "/nonexistent/camera0", ""])
def test_absent_device_shows_no_signal(open_camera: Callable[..., CameraSource], device: str) -> None:
    src = open_camera(device=device, width=320, height=180)
    src.tick(0)
    assert_no_signal(src, (320, 180), settled=False)  # at once, while the worker may still be trying
    assert src.wait_ready(0, WAIT_S)
    assert src.error is not None
    assert (device or "no camera") in src.error
    assert_no_signal(src, (320, 180))
    src.close()
    assert not camera_threads()


def test_captures_a_video_file_at_the_configured_size(
    tmp_path: Path, open_camera: Callable[..., CameraSource]
) -> None:
    video = make_video(tmp_path / "cam.avi")
    src = open_camera(device=str(video), width=160, height=120, fps=2)  # 4 s of frames: no race with EOF
    assert src.wait_frame(WAIT_S)
    src.tick(0)
    f = picture(src)
    assert (f.width, f.height) == (160, 120) and f.opaque
    assert abs(int(f.pixels[60, 80, 1]) - 100) < 12 and abs(int(f.pixels[60, 80, 2]) - 200) < 12
    assert src.error is None
    assert [t.name for t in camera_threads()] == [f"camera:{video}"]
    src.close()  # prompt: the worker waits on an Event between frames
    assert not camera_threads()


def test_retries_until_the_device_appears(
    tmp_path: Path, open_camera: Callable[..., CameraSource], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CameraSource, "RETRY_S", 0.05)
    path = tmp_path / "late.avi"
    src = open_camera(device=str(path), width=64, height=48, fps=2)
    assert src.wait_ready(0, WAIT_S) and src.error is not None
    make_video(tmp_path / "tmp.avi").rename(path)  # "plugged in"
    assert src.wait_frame(WAIT_S)
    f = picture(src)
    assert (f.width, f.height) == (64, 48)


class FakeCapture:
    """Stands in for a USB camera: delivers ``frames`` pictures, then is unplugged."""

    opened: list[Any] = []
    unplugged = threading.Event()

    def __init__(self, device: Any) -> None:
        FakeCapture.opened.append(device)
        self.left = 3 if len(FakeCapture.opened) == 1 else 10_000
        self.props: dict[int, float] = {}

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return True

    def set(self, prop: int, value: float) -> bool:
        self.props[prop] = value
        return True

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.left <= 0:
            FakeCapture.unplugged.set()
            return False, None
        self.left -= 1
        return True, np.full((90, 160), 77, np.uint8)  # a gray camera, another size

    def release(self) -> None:
        pass


def test_index_selects_a_device_and_unplug_is_survived(
    open_camera: Callable[..., CameraSource], monkeypatch: pytest.MonkeyPatch
) -> None:
    FakeCapture.opened = []
    FakeCapture.unplugged = threading.Event()
    monkeypatch.setattr(camera_module.cv2, "VideoCapture", FakeCapture)
    monkeypatch.setattr(CameraSource, "RETRY_S", 0.05)
    src = open_camera(device=" 2 ", width=320, height=180)
    assert src.wait_frame(WAIT_S)
    f = picture(src)
    assert (f.width, f.height) == (320, 180) and int(f.pixels[0, 0, 0]) == 77
    assert FakeCapture.unplugged.wait(WAIT_S)
    # after the unplug it reopens (index 2 as an int: the device-index code path) and frames return
    seen = src.frames_captured
    assert src.wait_frame(WAIT_S, after=seen + 1)
    assert FakeCapture.opened[:2] == [2, 2]


def test_unplugged_camera_shows_the_card(
    open_camera: Callable[..., CameraSource], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Unplugs(FakeCapture):
        def __init__(self, device: Any) -> None:
            super().__init__(device)
            self.left = 2

    FakeCapture.opened = []
    FakeCapture.unplugged = threading.Event()
    monkeypatch.setattr(camera_module.cv2, "VideoCapture", Unplugs)
    src = open_camera(device="0", width=64, height=36)  # default retry: the card stays up
    assert src.wait_frame(WAIT_S)
    assert src.wait_failing(WAIT_S)
    assert src.error is not None and "stopped delivering" in src.error
    assert_no_signal(src, (64, 36))
    assert len(FakeCapture.opened) == 1  # the next attempt waits RETRY_S (on an Event: close() is prompt)


def test_update_restarts_with_new_settings(tmp_path: Path, open_camera: Callable[..., CameraSource]) -> None:
    video = make_video(tmp_path / "cam.avi")
    src = open_camera(device="99", width=64, height=48)
    assert src.wait_ready(0, WAIT_S) and src.error is not None
    src.update(get_type("camera").validate({"device": str(video), "width": 32, "height": 24, "fps": 2}))
    assert src.wait_frame(WAIT_S)
    assert (picture(src).width, picture(src).height) == (32, 24)
    assert src.error is None


def test_to_bgra_handles_gray_bgr_bgra() -> None:
    assert to_bgra(np.zeros((4, 4), np.uint8), (4, 4)).shape == (4, 4, 4)
    assert to_bgra(np.zeros((4, 4, 3), np.uint8), (8, 2)).shape == (2, 8, 4)
    out = to_bgra(np.zeros((4, 4, 4), np.uint8), (4, 4))
    assert (out[:, :, 3] == 255).all()
