"""The stream resolution in Settings: a choice on the Stream page (zh_CN too), saved, validated
when read back, and handed to the show's pipeline (the next stream and the output plan follow it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from gui_helpers import make_collection
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from studio.show import Show
from widgets.i18n import translator
from widgets.main_window import MainWindow
from widgets.settings_store import SettingsStore, UISettings


@pytest.fixture
def window(qtbot: QtBot, studio_home: Path, qapp_language: None) -> Iterator[MainWindow]:
    show = Show(make_collection(), serve_locally=True, relay_port=0, hub_port=0)
    store = SettingsStore(studio_home)
    store.settings.stream_max_height = 720  # as a previous session saved it
    win = MainWindow(show.studio, store, show=show)
    win.show()
    yield win
    binding = win.binding
    win.close()
    if binding is not None:
        binding.close()
    win.deleteLater()
    show.stop()
    store.close()


def test_the_stream_resolution_is_a_setting_the_show_follows(window: MainWindow, studio_home: Path,
                                                            qtbot: QtBot) -> None:
    assert window.binding is not None
    pipeline = window.binding.show.pipeline
    assert pipeline.stream_max_height == 720  # the saved choice reached the show before its output plan
    dialog = window.open_settings()
    box = dialog.stream_resolution
    assert box.currentData() == 720
    assert box.itemText(0) == "Automatic (1080p when the canvas is larger)" and box.itemText(1) == "Canvas (no scaling)"
    translator().set_language("zh_CN")
    assert box.itemText(1) == "画布（不缩放）"
    translator().set_language("en")

    box.setCurrentIndex(box.findData(0))  # the canvas: no cap
    assert dialog.apply()
    assert window.settings.stream_max_height == 0 and pipeline.stream_max_height == 0
    box.setCurrentIndex(box.findData("auto"))
    assert dialog.apply()
    assert window.settings.stream_max_height is None and pipeline.stream_max_height is None
    box.setCurrentIndex(box.findData(1440))
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert pipeline.stream_max_height == 1440
    path = studio_home / "ui-settings.json"

    def saved() -> object:
        return json.loads(path.read_text(encoding="utf-8")).get("stream_max_height") if path.exists() else None

    qtbot.waitUntil(lambda: saved() == 1440, timeout=10_000)  # the writer thread coalesces saves


def test_a_bad_stream_resolution_in_the_file_is_refused_by_name() -> None:
    data = {**UISettings().to_dict(), "stream_max_height": 1081}
    with pytest.raises(ValueError, match="stream_max_height"):
        UISettings.from_dict(data)
    assert UISettings.from_dict({**data, "stream_max_height": None}).stream_max_height is None
    assert UISettings.from_dict({**data, "stream_max_height": 0}).stream_max_height == 0
