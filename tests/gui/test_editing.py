"""Editing through commands with real widgets: undo/redo keys, drag-and-drop reordering, copy/paste
of sources and filters, groups, the rotate handle."""

from __future__ import annotations

import pytest
from gui_helpers import pixel, render
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent, QMouseEvent
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLineEdit

from scenes.filters.registry import make_config
from studio import commands as cmd
from widgets import edit_geometry as geo
from widgets.main_window import MainWindow
from widgets.scene_editor import ROTATE_PX


def _at(window: MainWindow, x: float, y: float) -> QPoint:
    return window.preview_view.to_widget(x, y).toPoint()


def _drag(qtbot, window: MainWindow, start: tuple[float, float], end: tuple[float, float],
          modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier, steps: int = 6) -> None:
    view = window.preview_view
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, modifier, _at(window, *start))
    for k in range(1, steps + 1):
        point = (start[0] + (end[0] - start[0]) * k / steps, start[1] + (end[1] - start[1]) * k / steps)
        pos = QPointF(_at(window, *point))
        move = QMouseEvent(QEvent.Type.MouseMove, pos, view.mapToGlobal(pos), Qt.MouseButton.NoButton,
                           Qt.MouseButton.LeftButton, modifier)
        QApplication.sendEvent(view, move)
        render(window, 10 + k)  # a frame between moves, as on the clock: several commands, one gesture
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, modifier, _at(window, *end))


def _keys(qtbot, window: MainWindow, key: Qt.Key, modifiers: Qt.KeyboardModifier) -> None:
    window.activateWindow()
    window.preview_view.setFocus()
    qtbot.keyClick(window.preview_view, key, modifiers)


def _drop(view: QAbstractItemView, source_row: int, onto_row: int, lower_half: bool) -> None:
    """Drop list row ``source_row`` on row ``onto_row`` (its upper or lower half)."""
    model = view.model()
    view.setCurrentIndex(model.index(source_row, 0))
    mime: QMimeData = model.mimeData([model.index(source_row, 0)])
    rect = view.visualRect(model.index(onto_row, 0))
    pos = QPointF(rect.center().x(), rect.bottom() - 1 if lower_half else rect.top() + 1)
    # QTest cannot run a drag (QDrag.exec blocks in the platform's loop): hand the view the drop
    # event it would get, with its own drag data, at the pointer position
    view.dropEvent(QDropEvent(pos, Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton,
                              Qt.KeyboardModifier.NoModifier))


def test_a_drag_is_one_undo_step_and_the_keys_undo_and_redo_it(make_window, qtbot) -> None:
    window = make_window()
    col = window.studio.collection
    box = col.scene("Scene A").item("box-a")
    _drag(qtbot, window, (150, 150), (450, 250))
    render(window, 20)
    assert (box.x, box.y) == (pytest.approx(400, abs=3), pytest.approx(200, abs=3))

    _keys(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    render(window, 21)
    assert (box.x, box.y) == (100.0, 100.0)  # the whole drag, in one step
    assert pixel(window.studio, 150, 150, preview=True) == (0, 0, 255)
    _keys(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    render(window, 22)
    assert box.x == pytest.approx(400, abs=3)
    _keys(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    render(window, 23)
    _keys(qtbot, window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    render(window, 24)
    assert box.x == pytest.approx(400, abs=3)
    window.edit_actions.update_actions()
    assert window.edit_actions.undo_action.text() == "&Undo Transform"


def test_ctrl_z_in_a_text_field_is_the_fields_own(make_window, qtbot) -> None:
    window = make_window()
    col = window.studio.collection
    window.studio.submit(cmd.UpdateItem("Scene A", "box-a", {"x": 300.0}))
    render(window)
    field = QLineEdit(window.properties)
    field.show()
    window.activateWindow()
    field.setFocus()
    qtbot.keyClicks(field, "abc")
    qtbot.keyClick(field, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    render(window, 2)
    assert col.scene("Scene A").item("box-a").x == 300.0  # the scene edit was not undone
    assert field.text() != "abc"  # the field undid its typing
    assert window.studio.history.state().can_undo


def test_scenes_reorder_by_drag_and_drop_and_undo(make_window, qtbot) -> None:
    window = make_window()
    col = window.studio.collection
    _drop(window.scenes.list, 0, 2, lower_half=True)  # "Scene A" dropped below "Scene C"
    render(window)
    assert [s.name for s in col.scenes] == ["Scene B", "Scene C", "Scene A"]
    assert [window.scenes.list.item(i).text() for i in range(3)] == ["Scene B", "Scene C", "Scene A"]
    _drop(window.scenes.list, 2, 0, lower_half=False)  # and back to the top
    render(window, 2)
    assert [s.name for s in col.scenes] == ["Scene A", "Scene B", "Scene C"]
    window.edit_actions.undo()
    render(window, 3)
    assert [s.name for s in col.scenes] == ["Scene B", "Scene C", "Scene A"]


def test_sources_reorder_by_drag_and_drop(make_window, qtbot) -> None:
    window = make_window()
    scene = window.studio.collection.scene("Scene A")
    tree = window.sources.tree
    assert [tree.topLevelItem(i).text(0) for i in range(2)] == ["box", "red"]  # top-most first
    _drop(tree, 0, 1, lower_half=True)  # the box goes below the background
    render(window)
    assert [it.id for it in scene.items] == ["box-a", "bg-a"]
    assert [tree.topLevelItem(i).text(0) for i in range(2)] == ["red", "box"]
    assert pixel(window.studio, 150, 150, preview=True) == (255, 0, 0)  # hidden under the red


def test_copy_paste_a_source_into_another_scene_and_paste_filters(make_window, qtbot) -> None:
    window = make_window()
    col = window.studio.collection
    window.studio.submit(cmd.UpdateItem("Scene A", "box-a", {"rotation": 30.0}))
    window.studio.submit(cmd.SetSourceFilters("box", (make_config("color_correction", {"saturation": 0.0}),)))
    render(window)
    window.state.select("box-a")
    _keys(qtbot, window, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    window.state.set_scene("Scene B")
    _keys(qtbot, window, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    render(window, 2)
    pasted = col.scene("Scene B").items[-1]
    assert pasted.source == "box" and (pasted.x, pasted.y, pasted.rotation) == (100.0, 100.0, 30.0)
    assert window.state.selected == pasted.id

    new_id = window.edit_actions.paste_duplicate()  # its own source, same settings and filters
    render(window, 3)
    copy = col.scene("Scene B").item(new_id or "")
    assert copy.source == "box 2" and col.source("box 2").filters == col.source("box").filters

    window.state.select("box-a")
    window.state.set_scene("Scene A")
    window.state.select("box-a")
    window.edit_actions.copy_filters()
    window.state.set_scene("Scene B")
    window.state.select("small-b")
    window.edit_actions.paste_filters()
    render(window, 4)
    assert col.source("small").filters == col.source("box").filters
    window.edit_actions.undo()
    render(window, 5)
    assert col.source("small").filters == ()


def test_group_moves_and_stretches_together_and_ungroup(make_window, qtbot) -> None:
    window = make_window()
    scene = window.studio.collection.scene("Scene A")
    window.studio.submit(cmd.UpdateItem("Scene A", "bg-a", {"scale_x": 0.2, "scale_y": 0.2, "x": 600.0}))
    render(window)
    tree = window.sources.tree
    tree.topLevelItem(0).setSelected(True)
    tree.topLevelItem(1).setSelected(True)
    assert sorted(window.sources.selected_ids()) == ["bg-a", "box-a"]
    _keys(qtbot, window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    render(window, 2)
    assert scene.item("box-a").group == scene.item("bg-a").group == "Group"
    assert "Group" in tree.topLevelItem(0).text(0)

    _drag(qtbot, window, (150, 150), (250, 200))
    render(window, 30)
    assert (scene.item("box-a").x, scene.item("bg-a").x) == (pytest.approx(200, abs=3), pytest.approx(700, abs=3))
    assert scene.item("bg-a").y == pytest.approx(50, abs=3)
    window.edit_actions.undo()
    render(window, 31)
    assert (scene.item("box-a").x, scene.item("bg-a").x) == (100.0, 600.0)

    window.state.select("box-a")
    _drag(qtbot, window, (300, 200), (500, 300))  # the bottom-right handle: twice as big
    render(window, 40)
    bg = scene.item("bg-a")
    assert scene.item("box-a").scale_x == pytest.approx(2.0, abs=0.03)
    # the group stretches about the same corner: bg's place and size follow
    assert (bg.x, bg.y) == (pytest.approx(1100, abs=8), pytest.approx(-100, abs=8))
    assert (bg.scale_x, bg.scale_y) == (pytest.approx(0.4, abs=0.01), pytest.approx(0.4, abs=0.01))
    window.edit_actions.undo()
    render(window, 41)
    assert (bg.x, bg.y, bg.scale_x) == (600.0, 0.0, 0.2)

    window.state.select("box-a")
    window.edit_actions.ungroup()
    render(window, 32)
    assert scene.item("box-a").group == scene.item("bg-a").group == ""


def test_rotate_handle_turns_the_item_and_shift_snaps_to_15_degrees(make_window, qtbot) -> None:
    window = make_window()
    box = window.studio.collection.scene("Scene A").item("box-a")
    window.state.select("box-a")
    place = window.state.placements()[1][2]
    handle = geo.rotation_handle(place, ROTATE_PX / window.preview_view.scale)
    centre = geo.center(place)
    _drag(qtbot, window, handle, (centre[0] + 200, centre[1]))  # to the right of the centre
    render(window, 40)
    assert box.rotation == pytest.approx(90.0, abs=1.0)
    assert box.x == 100.0  # turned about its centre, not moved
    _drag(qtbot, window, (centre[0] + ROTATE_PX / window.preview_view.scale + 50, centre[1]),
          (centre[0] + 100, centre[1] + 95), Qt.KeyboardModifier.ShiftModifier)
    render(window, 50)
    assert box.rotation % 15.0 == 0.0 and box.rotation == 135.0


def test_add_scene_button_opens_the_new_row_for_its_name_once_it_exists(make_window, qtbot) -> None:
    window = make_window()
    panel = window.scenes
    panel.buttons["add"].click()
    render(window)
    assert window.studio.collection.has_scene("Scene 4")
    assert panel.current_name() == "Scene 4"
    editor = panel.list.findChild(QLineEdit)
    assert editor is not None and editor.isVisible() and editor.text() == "Scene 4"
    window.activateWindow()
    editor.setFocus()
    window.edit_actions.undo()  # while the name is being typed, undo is the text field's
    render(window, 2)
    assert window.studio.collection.has_scene("Scene 4")
    panel.list.closePersistentEditor(panel.list.currentItem())
    window.preview_view.setFocus()
    window.edit_actions.undo()
    render(window, 3)
    assert not window.studio.collection.has_scene("Scene 4")
