"""The fallback image is an ordinary property: the generic editor sets it from the source type's schema,
and from the next frame the program shows it where the failed source was while the preview keeps
the "NO SIGNAL" card. Only the camera device open is replaced (no camera here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from scenes.model import SceneCollection, SceneItem, VideoFormat
from scenes.sources import camera as camera_module
from scenes.sources.status_card import status_card
from studio.engine import Studio
from widgets.property_editor import PropertyEditor


class NoCamera:
    def __init__(self, device: Any) -> None:
        self.device = device

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return False

    def release(self) -> None:
        pass


def test_editor_sets_the_fallback_image_and_the_program_shows_it(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(camera_module.cv2, "VideoCapture", NoCamera)
    png = tmp_path / "稍后回来.png"
    ok, data = cv2.imencode(".png", np.full((180, 320, 3), (0, 200, 0), np.uint8))
    assert ok
    data.tofile(str(png))  # a non-ASCII name, as users pick them
    col = SceneCollection("t", VideoFormat(1280, 720, 30))
    col.add_source("cam", "camera", {"device": "0", "width": 320, "height": 180})
    col.add_scene("Live").add_item(SceneItem("cam", x=100, y=50))
    studio = Studio(col, studio_mode=True)
    try:
        editor = PropertyEditor(studio, "cam")
        qtbot.addWidget(editor)
        field = editor.fields["fallback_image"]
        assert isinstance(field.editor, QLineEdit)
        field.editor.setText(str(png))
        assert editor.commit("fallback_image")  # a command: the next frame applies it
        studio.render_offline(0)
        assert col.source("cam").settings["fallback_image"] == str(png)
        source = studio.sources["cam"]  # the image decodes on its own thread
        assert source._fallback.wait_ready(20.0)  # type: ignore[attr-defined]
        studio.render_offline(1)
        program, _ = studio.program.latest()
        preview, _ = studio.preview.latest()
        assert program is not None and preview is not None
        assert (program.pixels[50:230, 100:420] == (0, 200, 0, 255)).all()
        notice = source.status()
        assert notice is not None
        card = status_card(320, 180, notice.title, notice.detail).pixels
        assert np.array_equal(preview.pixels[50:230, 100:420], card)
    finally:
        studio.stop()
