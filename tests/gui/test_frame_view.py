"""FrameView keeps its own copy of the newest frame, shrunk to the size it is shown at (the shrink
runs in OpenCV, off the interpreter lock), and maps canvas <-> widget points by the letterbox."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from studio.events import ProgramFrame
from studio.slots import LatestSlot
from widgets.frame_view import FrameView


def _frame(w: int, h: int, bgra: tuple[int, int, int, int]) -> ProgramFrame:
    px = np.empty((h, w, 4), np.uint8)
    px[:] = bgra
    return ProgramFrame(px, 0, 0, 0)


def _view(qtbot: QtBot, slot: LatestSlot[ProgramFrame], size: tuple[int, int]) -> FrameView:
    view = FrameView(slot, refresh_hz=1)
    qtbot.addWidget(view)
    view.resize(*size)
    return view


def _shown(qtbot: QtBot, size: tuple[int, int], frame: ProgramFrame) -> tuple[FrameView, LatestSlot[ProgramFrame], QImage]:
    """A view of ``size`` that has taken ``frame``, its slot and its picture."""
    slot: LatestSlot[ProgramFrame] = LatestSlot()
    view = _view(qtbot, slot, size)
    slot.put(frame)
    assert view.refresh()
    image = view.image
    assert image is not None
    return view, slot, image


def test_a_big_canvas_is_kept_at_the_size_it_is_shown(qtbot: QtBot) -> None:
    view, slot, image = _shown(qtbot, (480, 300), _frame(1920, 1080, (40, 80, 200, 255)))
    box = view.frame_rect()
    assert (box.width(), box.height()) == (480, 270)  # letterboxed: 15 px bars above and below
    ratio = view.devicePixelRatioF()
    assert (image.width(), image.height()) == (round(480 * ratio), round(270 * ratio))
    colour = image.pixelColor(image.width() // 2, image.height() // 2)
    assert (colour.red(), colour.green(), colour.blue()) == (200, 80, 40)
    # the engine reuses its canvases: the view's picture is its own
    frame, _version = slot.latest()
    assert frame is not None
    frame.pixels[:] = 0
    assert image.pixelColor(1, 1).blue() == 40
    assert not view.refresh()  # nothing new


def test_a_small_canvas_is_copied_whole_and_scaled_when_painted(qtbot: QtBot) -> None:
    view, _slot, image = _shown(qtbot, (1280, 720), _frame(640, 360, (0, 255, 0, 255)))
    assert (image.width(), image.height()) == (640, 360)
    painted = view.grab().toImage()
    assert painted.pixelColor(640, 360).green() == 255


def test_points_map_through_the_letterbox_and_follow_a_resize(qtbot: QtBot) -> None:
    view = _view(qtbot, LatestSlot(), (480, 300))
    view.canvas = (1920, 1080)
    assert view.scale == 0.25
    p = view.to_widget(960, 540)
    assert (p.x(), p.y()) == (240.0, 150.0)
    assert view.to_canvas(QPointF(0, 15)) == (0.0, 0.0)
    view.resize(960, 540)
    assert view.scale == 0.5
    assert view.to_canvas(QPointF(480, 270)) == (960.0, 540.0)
