"""Editing on the preview with real mouse and key events: select, move, resize, crop, nudge, lock."""

from __future__ import annotations

import pytest
from gui_helpers import pixel, render
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from studio import commands as cmd
from widgets.main_window import MainWindow


def _at(window: MainWindow, x: float, y: float) -> QPoint:
    return window.preview_view.to_widget(x, y).toPoint()


def _drag(qtbot, window: MainWindow, start: tuple[float, float], end: tuple[float, float],
          modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    view = window.preview_view
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, modifier, _at(window, *start))
    for point in ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2), end:
        # QTest's mouseMove cannot carry modifiers (Shift, Alt): send the move event ourselves
        pos = QPointF(_at(window, *point))
        move = QMouseEvent(QEvent.Type.MouseMove, pos, view.mapToGlobal(pos), Qt.MouseButton.NoButton,
                           Qt.MouseButton.LeftButton, modifier)
        QApplication.sendEvent(view, move)
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, modifier, _at(window, *end))


def _box(window: MainWindow):  # type: ignore[no-untyped-def]
    return window.studio.collection.scene("Scene A").item("box-a")


def test_click_selects_the_top_most_item_and_empty_space_deselects(make_window, qtbot) -> None:
    window = make_window()
    assert window.state.scene == "Scene A"
    qtbot.mouseClick(window.preview_view, Qt.MouseButton.LeftButton, pos=_at(window, 150, 150))
    assert window.state.selected == "box-a"
    assert window.sources.tree.currentItem().text(0) == "box"  # the Sources dock follows
    qtbot.mouseClick(window.preview_view, Qt.MouseButton.LeftButton, pos=_at(window, 900, 500))
    assert window.state.selected == "bg-a"  # the background below
    qtbot.mouseClick(window.preview_view, Qt.MouseButton.LeftButton,
                     pos=QPoint(window.preview_view.width() // 2, 2))  # letterbox, outside the canvas
    assert window.state.selected is None


def test_click_respects_rotation(make_window, qtbot) -> None:
    window = make_window()
    window.studio.submit(cmd.UpdateItem("Scene A", "box-a", {"rotation": 90.0}))
    render(window)
    # the 200x100 box at (100,100) turned 90 degrees about (200,150) covers y 50..250 at x 200
    qtbot.mouseClick(window.preview_view, Qt.MouseButton.LeftButton, pos=_at(window, 200, 235))
    assert window.state.selected == "box-a"
    qtbot.mouseClick(window.preview_view, Qt.MouseButton.LeftButton, pos=_at(window, 115, 110))
    assert window.state.selected == "bg-a"  # inside the unrotated box only


def test_drag_moves_the_item_in_canvas_pixels(make_window, qtbot) -> None:
    window = make_window()
    _drag(qtbot, window, (150, 150), (450, 250))
    render(window)
    box = _box(window)
    assert (box.x, box.y) == (pytest.approx(400, abs=3), pytest.approx(200, abs=3))
    assert pixel(window.studio, 500, 250, preview=True) == (0, 0, 255)  # the picture moved too


def test_drag_snaps_to_the_canvas_centre(make_window, qtbot) -> None:
    window = make_window()
    # box centre would land 4 px left of the canvas centre (640): it snaps onto it
    _drag(qtbot, window, (200, 150), (200 + 636 - 200, 150))
    render(window)
    assert _box(window).x + 100 == pytest.approx(640, abs=0.01)


def test_handle_resizes_and_shift_keeps_the_aspect(make_window, qtbot) -> None:
    window = make_window()
    qtbot.mouseClick(window.preview_view, Qt.MouseButton.LeftButton, pos=_at(window, 150, 150))
    _drag(qtbot, window, (300, 200), (400, 300))  # bottom-right handle
    render(window)
    box = _box(window)
    assert (box.x, box.y) == (pytest.approx(100, abs=0.01), pytest.approx(100, abs=0.01))
    assert box.scale_x == pytest.approx(1.5, abs=0.03)
    assert box.scale_y == pytest.approx(2.0, abs=0.05)

    window.studio.submit(cmd.UpdateItem("Scene A", "box-a", {"scale_x": 1.0, "scale_y": 1.0}))
    render(window, 2)
    _drag(qtbot, window, (300, 200), (400, 300), Qt.KeyboardModifier.ShiftModifier)
    render(window, 3)
    box = _box(window)
    assert box.scale_x == pytest.approx(box.scale_y, rel=1e-3)
    assert box.scale_x > 1.4


def test_alt_drag_crops(make_window, qtbot) -> None:
    window = make_window()
    qtbot.mouseClick(window.preview_view, Qt.MouseButton.LeftButton, pos=_at(window, 150, 150))
    _drag(qtbot, window, (100, 150), (150, 150), Qt.KeyboardModifier.AltModifier)  # left handle
    render(window)
    box = _box(window)
    assert box.crop[0] == pytest.approx(50, abs=3)
    assert box.crop[1:] == (0, 0, 0)
    assert box.x == pytest.approx(100 + box.crop[0], abs=0.01)
    assert box.scale_x == 1.0


def test_arrow_keys_nudge_and_shift_nudges_ten(make_window, qtbot) -> None:
    window = make_window()
    qtbot.mouseClick(window.preview_view, Qt.MouseButton.LeftButton, pos=_at(window, 150, 150))
    qtbot.keyClick(window.preview_view, Qt.Key.Key_Right)
    qtbot.keyClick(window.preview_view, Qt.Key.Key_Right)  # builds on the first, not yet applied
    qtbot.keyClick(window.preview_view, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    render(window)
    assert (_box(window).x, _box(window).y) == (102, 110)


def test_locked_items_cannot_be_moved(make_window, qtbot) -> None:
    window = make_window()
    window.sources.set_locked("box-a", True)
    render(window)
    _drag(qtbot, window, (150, 150), (450, 250))
    qtbot.keyClick(window.preview_view, Qt.Key.Key_Left)
    render(window, 2)
    assert window.state.selected == "box-a"  # still selectable
    assert (_box(window).x, _box(window).y) == (100, 100)


def test_context_menu_order_and_actions(make_window, qtbot) -> None:
    window = make_window()
    window.state.select("bg-a")
    menu = window.editor.build_menu()
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert texts == ["Move Up", "Move Down", "Move to Top", "Move to Bottom", "Reset Transform",
                     "Properties", "&Copy Source", "&Paste Source", "Paste Source (&Duplicate)",
                     "Copy &Filters", "Paste F&ilters", "&Group Selected", "U&ngroup", "Show Safe Areas"]
    next(a for a in menu.actions() if a.text() == "Move to Top").trigger()
    render(window)
    assert [it.id for it in window.studio.collection.scene("Scene A").items] == ["box-a", "bg-a"]

    window.studio.submit(cmd.UpdateItem("Scene A", "box-a", {"x": 10.0, "scale_x": 3.0, "crop": (1, 2, 3, 4)}))
    render(window)
    window.state.select("box-a")
    next(a for a in window.editor.build_menu().actions() if a.text() == "Reset Transform").trigger()
    render(window, 2)
    box = _box(window)
    assert (box.x, box.scale_x, box.crop) == (0.0, 1.0, (0, 0, 0, 0))


def test_outside_studio_mode_the_program_view_is_editable(make_window, qtbot) -> None:
    window = make_window(studio_mode=False)
    assert not window.preview_view.isVisible()
    assert window.editor.view is window.program_view
    qtbot.mouseClick(window.program_view, Qt.MouseButton.LeftButton,
                     pos=window.program_view.to_widget(150, 150).toPoint())
    assert window.state.selected == "box-a"
