"""Error slates never go on air: a failed source's status card is on the preview only; the program
(and so the stream and the recording) shows what is under it, or the source's fallback image.

Real engine, real PyAV on a corrupt file, real encoder and recorder; only the camera device open is
replaced (there is no camera on the test machines), as in test_camera_source.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest

from scenes.model import SceneCollection, SceneItem, VideoFormat
from scenes.sources import camera as camera_module
from scenes.sources.status_card import status_card
from studio.engine import Studio
from studio.events import SourceProblem
from studio.render import render_studio

W, H = 1280, 720
BOX = (200, 100, 320, 180)  # x, y, width, height of the failing source on the canvas
BLUE = "#FF0000FF"
BLUE_BGRA = (255, 0, 0, 255)
GREEN_BGR = (0, 200, 0)


class NoCamera:
    """cv2.VideoCapture for a machine with no camera: nothing opens."""

    def __init__(self, device: Any) -> None:
        self.device = device

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return False

    def release(self) -> None:
        pass


def corrupt_clip(tmp_path: Path) -> Path:
    path = tmp_path / "broken.mp4"
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    return path


def fallback_png(tmp_path: Path, size: tuple[int, int] = (BOX[2], BOX[3])) -> Path:
    path = tmp_path / "be-right-back.png"
    img = np.zeros((size[1], size[0], 3), np.uint8)
    img[:] = GREEN_BGR
    assert cv2.imwrite(str(path), img)
    return path


def collection(type_id: str, settings: dict[str, Any]) -> SceneCollection:
    col = SceneCollection("on-air", VideoFormat(W, H, 30))
    col.add_source("bg", "color", {"color": BLUE, "width": W, "height": H})
    col.add_source("failing", type_id, {**settings, "width": BOX[2], "height": BOX[3]})
    scene = col.add_scene("Show")
    scene.add_item(SceneItem("bg"))
    scene.add_item(SceneItem("failing", x=BOX[0], y=BOX[1]))
    return col


def box(pixels: np.ndarray) -> np.ndarray:
    x, y, w, h = BOX
    return pixels[y: y + h, x: x + w]


def problems_of(studio: Studio) -> list[SourceProblem]:
    seen: list[SourceProblem] = []
    studio.events.source_problem.connect(seen.append)
    return seen


def render_one(studio: Studio) -> tuple[np.ndarray, np.ndarray]:
    """Frame 0 of program and preview (the same scene in both, studio mode)."""
    studio.render_offline(0)
    program, _ = studio.program.latest()
    preview, _ = studio.preview.latest()
    assert program is not None and preview is not None
    return program.pixels.copy(), preview.pixels.copy()


def card_for(studio: Studio, title: str) -> np.ndarray:
    source = studio.sources["failing"]
    notice = source.status()
    assert notice is not None and notice.title == title
    return status_card(BOX[2], BOX[3], title, notice.detail).pixels


@pytest.fixture
def no_camera(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(camera_module.cv2, "VideoCapture", NoCamera)


CASES = [
    pytest.param("media", "MEDIA ERROR", "broken.mp4", id="corrupt-clip"),
    pytest.param("camera", "NO SIGNAL", "camera 0", id="no-camera"),
]


def failing_settings(type_id: str, tmp_path: Path) -> dict[str, Any]:
    return {"path": str(corrupt_clip(tmp_path))} if type_id == "media" else {"device": "0"}


@pytest.mark.parametrize(("type_id", "title", "named"), CASES)
def test_status_card_on_preview_only_program_sees_through(
    tmp_path: Path, no_camera: None, type_id: str, title: str, named: str
) -> None:
    studio = Studio(collection(type_id, failing_settings(type_id, tmp_path)), studio_mode=True)
    seen = problems_of(studio)
    try:
        program, preview = render_one(studio)
        card = card_for(studio, title)
        assert np.array_equal(box(preview), card)  # the operator sees the card ...
        assert (box(program) == BLUE_BGRA).all()  # ... the air sees what is under the failed source
    finally:
        studio.stop()
    assert any(p.source == "failing" and p.message is not None and named in p.message for p in seen)


@pytest.mark.parametrize(("type_id", "title", "named"), CASES)
def test_fallback_image_goes_on_air_in_place_of_the_card(
    tmp_path: Path, no_camera: None, type_id: str, title: str, named: str
) -> None:
    settings = {**failing_settings(type_id, tmp_path), "fallback_image": str(fallback_png(tmp_path))}
    studio = Studio(collection(type_id, settings), studio_mode=True)
    seen = problems_of(studio)
    try:
        studio.sources.sync()
        assert studio.sources["failing"]._fallback.wait_ready(20.0)  # type: ignore[attr-defined]
        program, preview = render_one(studio)
        assert np.array_equal(box(preview), card_for(studio, title))
        assert (box(program) == (*GREEN_BGR, 255)).all()  # exactly the fallback image
        x, y, w, h = BOX
        assert (program[y + h:, :] == BLUE_BGRA).all()  # and nothing else changed
    finally:
        studio.stop()
    assert any(p.source == "failing" and p.message and named in p.message for p in seen)


def test_fallback_image_is_fitted_to_the_source_box_keeping_its_aspect(tmp_path: Path, no_camera: None) -> None:
    # a square fallback on a 16:9 camera: centred, the sides transparent (the background shows)
    settings = {"device": "0", "fallback_image": str(fallback_png(tmp_path, (50, 50)))}
    studio = Studio(collection("camera", settings), studio_mode=True)
    try:
        studio.sources.sync()
        assert studio.sources["failing"]._fallback.wait_ready(20.0)  # type: ignore[attr-defined]
        program, _ = render_one(studio)
        inner = box(program)
        assert (inner[:, 70: 250] == (*GREEN_BGR, 255)).all()  # 50x50 -> 180x180, centred in 320 wide
        assert (inner[:, :70] == BLUE_BGRA).all() and (inner[:, 250:] == BLUE_BGRA).all()
    finally:
        studio.stop()


@pytest.mark.parametrize(("type_id", "title", "named"), CASES)
def test_the_recording_never_carries_the_card(
    tmp_path: Path, no_camera: None, type_id: str, title: str, named: str
) -> None:
    settings = {**failing_settings(type_id, tmp_path), "fallback_image": str(fallback_png(tmp_path))}
    studio = Studio(collection(type_id, settings), studio_mode=True)
    studio.sources.sync()
    assert studio.sources["failing"]._fallback.wait_ready(20.0)  # type: ignore[attr-defined]
    out = tmp_path / "program.mkv"
    render_studio(studio, 3, out)  # the program through the real encoder into the real recorder
    preview, _ = studio.preview.latest()
    assert preview is not None
    x, y, w, h = BOX
    card = status_card(w, h, title, "x").pixels
    assert np.array_equal(box(preview.pixels)[5:25, 5:25], card[5:25, 5:25])  # the card's corner: the preview has it
    with av.open(str(out)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="bgr24")
    inner = frame[y + 8: y + h - 8, x + 8: x + w - 8].astype(int)  # away from chroma-subsampled edges
    assert np.abs(inner - GREEN_BGR).max() <= 12  # the fallback, encoded
    assert np.abs(frame[2:20, 2:20].astype(int) - BLUE_BGRA[:3]).max() <= 12


def test_stinger_that_fails_is_never_a_slate_on_air(tmp_path: Path) -> None:
    from scenes.transitions import TransitionKind, TransitionSpec
    from studio import commands as cmd

    col = SceneCollection("t", VideoFormat(W, H, 30))
    col.add_source("blue", "color", {"color": BLUE, "width": W, "height": H})
    col.add_scene("A").add_item(SceneItem("blue"))
    col.add_scene("B").add_item(SceneItem("blue"))
    studio = Studio(col)
    try:
        spec = TransitionSpec(TransitionKind.STINGER, 1000, stinger_path=str(corrupt_clip(tmp_path)))
        studio.submit(cmd.Transition("B", spec))
        for i in range(5):
            frame = studio.render_offline(i)
            assert (frame.pixels == BLUE_BGRA).all()
    finally:
        studio.stop()
