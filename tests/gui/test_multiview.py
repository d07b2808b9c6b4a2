"""Multiview: click puts a scene in preview, double-click cuts it to program (through commands);
tallies follow the engine; it only reads frames the engine already published."""

from __future__ import annotations

from gui_helpers import render
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from studio import commands as cmd
from widgets.multiview import PREVIEW_GREEN, PROGRAM_RED, Multiview


def _open(window, qtbot: QtBot) -> Multiview:  # type: ignore[no-untyped-def]
    mv = window.open_multiview().view
    mv.resize(1280, 800)
    qtbot.waitExposed(mv)
    return mv


def _tally_at(mv: Multiview, scene: str) -> QColor:
    """The colour of the scene's name bar in the painted multiview."""
    rect = mv.tile_rect(scene)
    image = mv.grab().toImage()
    return image.pixelColor(rect.x() + rect.width() - 4, rect.bottom() - 4)


def test_click_previews_and_double_click_cuts(make_window, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    window = make_window()
    mv = _open(window, qtbot)
    col = window.studio.collection
    assert mv.scene_names() == ["Scene A", "Scene B", "Scene C"]
    assert col.program_scene == "Scene A"

    qtbot.mouseClick(mv, Qt.MouseButton.LeftButton, pos=mv.tile_rect("Scene C").center())
    render(window)
    assert col.preview_scene == "Scene C" and col.program_scene == "Scene A"

    qtbot.mouseDClick(mv, Qt.MouseButton.LeftButton, pos=mv.tile_rect("Scene B").center())
    render(window, 2)
    assert col.program_scene == "Scene B"


def test_tallies_names_and_hotkeys(make_window, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    window = make_window()
    mv = _open(window, qtbot)
    window.studio.submit(cmd.SetPreviewScene("Scene B"))
    render(window)
    mv.refresh()
    assert mv.frames_taken >= 2  # program and preview, as the engine published them
    mv.repaint()
    assert _tally_at(mv, "Scene A") == PROGRAM_RED
    assert _tally_at(mv, "Scene B") == PREVIEW_GREEN
    assert _tally_at(mv, "Scene C") not in (PROGRAM_RED, PREVIEW_GREEN)
    assert [mv.hotkey_text(i) for i in range(3)] == ["1", "2", "3"]
    # nothing new published: nothing taken (the multiview never asks the engine to render)
    assert not mv.refresh()


def test_full_screen_window_and_escape(make_window, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    window = make_window()
    mvw = window.open_multiview(full_screen=True)
    qtbot.waitUntil(mvw.isFullScreen)
    qtbot.keyClick(mvw, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not mvw.isFullScreen())
    mvw.close()
