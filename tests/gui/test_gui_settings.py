"""Settings: live language switch, hotkeys and dock layout surviving a restart, the settings file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from gui_helpers import render
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QDockWidget, QLabel

from widgets.i18n import LANGUAGES, load_catalog
from widgets.main_window import MainWindow
from widgets.settings_store import SettingsStore, UISettings

# Text that stays the same in every language (names the user chose, numbers, units).
UNTRANSLATED = re.compile(r"^(|—|[\d\s.,:%/()×a-zA-Z]*\d[\d\s.,:%/()×a-zA-Z]*|box|red|green|small|Scene [A-C]|T-bar)$")


def _visible_texts(window: MainWindow) -> dict[int, str]:
    texts: dict[int, str] = {}
    for widget in window.findChildren(QLabel) + window.findChildren(QAbstractButton):
        if widget.isVisibleTo(window) and widget.text():
            texts[id(widget)] = widget.text()
    for dock in window.findChildren(QDockWidget):
        texts[id(dock)] = dock.windowTitle()
    for action in window.menuBar().actions():
        texts[id(action)] = action.text()
    return texts


def _switch(window: MainWindow, language: str) -> None:
    dialog = window.open_settings()
    dialog.language.setCurrentIndex(list(LANGUAGES).index(language))
    assert dialog.apply()
    dialog.reject()


def test_language_switch_retranslates_visible_text_live(make_window, qtbot) -> None:
    window = make_window()
    window.state.select("box-a")
    before = _visible_texts(window)
    assert window.docks["scenes"].windowTitle() == "Scenes"
    _switch(window, "zh_CN")
    assert window.docks["scenes"].windowTitle() == "场景"
    assert window.transitions.transition_button.text() == "转场"
    assert window.controls.stream.toolTip() == "推流功能将随 WHIP 输出一同提供"
    assert window.menuBar().actions()[0].text() == "文件(&F)"
    after = _visible_texts(window)
    unchanged = {before[k] for k in before if k in after and after[k] == before[k]
                 and not UNTRANSLATED.match(before[k])}
    assert not unchanged, f"still in English after switching: {sorted(unchanged)}"
    _switch(window, "en")
    assert sorted(_visible_texts(window).values()) == sorted(before.values())


def test_catalog_covers_every_string_the_widgets_translate() -> None:
    catalog = load_catalog("zh_CN")
    root = Path(__file__).resolve().parents[2] / "widgets"
    patterns = (r'\btr\(\s*"((?:[^"\\]|\\.)*)"', r'bind\([^,]+,\s*"set\w+",\s*"((?:[^"\\]|\\.)*)"',
                r'tool_button\([^,]+,\s*"[\w-]+",\s*"((?:[^"\\]|\\.)*)"')
    used = {m.group(1) for p in root.rglob("*.py") for pat in patterns
            for m in re.finditer(pat, p.read_text(encoding="utf-8"))}
    assert used, "no translatable strings found: the patterns are wrong"
    missing = sorted(used - catalog.keys())
    assert not missing, f"zh_CN.json lacks: {missing}"
    for source, text in catalog.items():
        assert re.findall(r"{\w*[^}]*}", source) == re.findall(r"{\w*[^}]*}", text), source


def test_unknown_language_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="language 'fr' is not available"):
        load_catalog("fr")


def test_dock_layout_hotkeys_and_language_persist_across_a_restart(make_window, qtbot, studio_home) -> None:
    first = make_window()
    first.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, first.docks["stats"])
    extra = first.add_dock("Polls", "pollsDock", QLabel("polls"))  # a dock another feature brings
    first.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, extra)
    first.docks["controls"].hide()
    dialog = first.open_settings()
    assert not first.hotkeys._shortcuts[0].isEnabled()  # paused while the dialog records keys
    bindings = dialog.hotkeys()
    bindings["scene.1"] = ["Q"]
    bindings["quick_cut"] = []
    dialog.set_hotkeys(bindings)
    dialog.language.setCurrentIndex(list(LANGUAGES).index("zh_CN"))
    dialog._ok()
    assert first.hotkeys._shortcuts[0].isEnabled()
    first.close()
    first.store.close()
    saved = json.loads((studio_home / "ui-settings.json").read_text(encoding="utf-8"))
    assert saved["hotkeys"]["scene.1"] == ["Q"] and saved["language"] == "zh_CN"

    second = make_window()
    assert second.dockWidgetArea(second.docks["stats"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    extra = second.add_dock("Polls", "pollsDock", QLabel("polls"))  # added after start-up
    assert second.dockWidgetArea(extra) == Qt.DockWidgetArea.TopDockWidgetArea
    assert not second.docks["controls"].isVisible()
    assert second.hotkeys.bindings()["scene.1"] == ["Q"]
    assert second.hotkeys.bindings()["quick_cut"] == []
    assert second.docks["scenes"].windowTitle() == "场景"
    second.activateWindow()
    qtbot.waitUntil(second.isActiveWindow)
    second.choose_scene("Scene C")
    render(second)
    qtbot.keyClick(second.preview_view, Qt.Key.Key_Q)
    render(second, 2)
    assert second.studio.collection.preview_scene == "Scene A"


def test_conflicting_hotkeys_are_refused(make_window, qtbot) -> None:
    window = make_window()
    dialog = window.open_settings()
    bindings = dialog.hotkeys()
    bindings["quick_fade"] = ["1"]
    dialog.set_hotkeys(bindings)
    assert not dialog.apply()
    assert "1 is used by" in dialog.hotkey_warning.text()
    dialog.reject()


def test_video_settings_say_a_restart_is_needed_and_are_kept_for_next_start(make_window, qtbot) -> None:
    window = make_window()
    dialog = window.open_settings()
    dialog.canvas.setCurrentIndex(dialog.canvas.findData("1920x1080"))
    dialog.fps.setCurrentIndex(dialog.fps.findData(60))
    assert "restarts the engine" in dialog.video_note.text()
    assert dialog.apply()
    dialog.reject()
    assert window.settings.video == {"width": 1920, "height": 1080, "fps": 60}
    assert window.studio.width == 1280  # the running engine keeps its canvas


def test_settings_file_problems_fall_back_to_defaults(studio_home) -> None:
    studio_home.mkdir(parents=True, exist_ok=True)
    (studio_home / "ui-settings.json").write_text("{not json", encoding="utf-8")
    store = SettingsStore(studio_home)
    assert store.settings == UISettings()
    assert store.problem is not None and "ui-settings.json" in store.problem
    store.close()
    with pytest.raises(ValueError, match="transition_ms"):
        UISettings(transition_ms=-5).validate()
    with pytest.raises(ValueError, match="not supported"):
        UISettings(video={"width": 1000, "height": 700, "fps": 30}).validate()
