"""Scenes to preview by hotkey and click, transitions to program, the T-bar's live mix."""

from __future__ import annotations

from gui_helpers import pixel, render
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from scenes.transitions import TransitionKind
from widgets.main_window import MainWindow

RED, GREEN = (255, 0, 0), (0, 255, 0)


def _activate(qtbot, window: MainWindow) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)


def _render_through(window: MainWindow, first: int, count: int) -> None:
    for i in range(first, first + count):
        render(window, i)


def test_number_hotkeys_put_scenes_in_preview(make_window, qtbot) -> None:
    window = make_window()
    _activate(qtbot, window)
    qtbot.keyClick(window.preview_view, Qt.Key.Key_2)
    render(window)
    assert window.studio.collection.preview_scene == "Scene B"
    assert pixel(window.studio, 10, 10, preview=True) == GREEN
    assert pixel(window.studio, 10, 10) == RED  # program untouched
    assert window.state.scene == "Scene B"  # the editor follows the preview
    qtbot.keyClick(window.preview_view, Qt.Key.Key_9)  # no ninth scene: nothing happens
    render(window, 2)
    assert window.studio.collection.preview_scene == "Scene B"


def test_hotkeys_do_not_steal_typing(make_window, qtbot) -> None:
    window = make_window()
    _activate(qtbot, window)
    field = QLineEdit(window.properties)
    field.show()
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    qtbot.keyClicks(field, "2 c")
    render(window)
    assert field.text() == "2 c"
    assert window.studio.collection.preview_scene == "Scene A"


def test_space_runs_the_transition_and_quick_cut_switches_at_once(make_window, qtbot) -> None:
    window = make_window()
    _activate(qtbot, window)
    qtbot.keyClick(window.preview_view, Qt.Key.Key_2)
    render(window)
    qtbot.keyClick(window.preview_view, Qt.Key.Key_Space)  # fade, 300 ms = 9 frames at 30 fps
    _render_through(window, 2, 12)
    col = window.studio.collection
    assert (col.program_scene, col.preview_scene) == ("Scene B", "Scene A")  # swapped, as OBS does
    assert pixel(window.studio, 10, 10) == GREEN
    qtbot.keyClick(window.preview_view, Qt.Key.Key_C)  # quick cut: done on the next frame
    render(window, 20)
    assert col.program_scene == "Scene A"
    assert pixel(window.studio, 10, 10) == RED


def test_transition_button_uses_the_chosen_type(make_window, qtbot) -> None:
    window = make_window()
    window.choose_scene("Scene B")
    window.transitions.set_kind(TransitionKind.CUT)
    assert not window.transitions.duration.isEnabled()
    qtbot.mouseClick(window.transitions.transition_button, Qt.MouseButton.LeftButton)
    render(window)
    assert window.studio.collection.program_scene == "Scene B"
    assert window.settings.transition_kind == "cut"


def test_tbar_at_mid_position_shows_a_blend_then_completes(make_window, qtbot) -> None:
    window = make_window()
    window.choose_scene("Scene B")
    render(window)
    window.transitions.tbar.setValue(500)
    render(window, 2)
    r, g, b = pixel(window.studio, 10, 10)
    assert 100 <= r <= 155 and 100 <= g <= 155 and b == 0  # half red, half green
    assert window.studio.collection.program_scene == "Scene A"  # not taken yet

    window.transitions.tbar.setValue(1000)  # the end completes it; the bar springs back
    render(window, 3)
    assert window.studio.collection.program_scene == "Scene B"
    assert pixel(window.studio, 10, 10) == GREEN
    assert window.transitions.tbar.value() == 0


def test_tbar_back_to_zero_cancels(make_window, qtbot) -> None:
    window = make_window()
    window.choose_scene("Scene B")
    slider = window.transitions.tbar
    slider.setSliderDown(True)
    slider.setValue(400)
    render(window)
    assert pixel(window.studio, 10, 10) != RED
    slider.setValue(0)
    slider.setSliderDown(False)
    render(window, 2)
    assert window.studio.collection.program_scene == "Scene A"
    assert pixel(window.studio, 10, 10) == RED


def test_outside_studio_mode_clicking_a_scene_switches_program(make_window, qtbot) -> None:
    window = make_window(studio_mode=False)
    window.transitions.set_kind(TransitionKind.CUT)
    row = window.scenes.list.item(1)
    qtbot.mouseClick(window.scenes.list.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.scenes.list.visualItemRect(row).center())
    render(window)
    assert window.studio.collection.program_scene == "Scene B"
    assert pixel(window.studio, 10, 10) == GREEN


def test_studio_mode_toggle_shows_and_hides_the_preview(make_window, qtbot) -> None:
    window = make_window()
    qtbot.mouseClick(window.controls.studio_mode, Qt.MouseButton.LeftButton)
    render(window)
    assert not window.studio.studio_mode
    assert not window.preview_view.isVisible() and not window.transitions.isVisible()
    assert window.editor.view is window.program_view
    window.studio_mode_action.trigger()
    render(window, 2)
    assert window.studio.studio_mode and window.preview_view.isVisible()
    assert window.settings.studio_mode
