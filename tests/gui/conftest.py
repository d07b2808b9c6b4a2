"""GUI fixtures: a small 1280x720 collection of colour sources, its engine (no clock thread: tests
drive frames with ``render_offline``) and the main window with settings in a temporary folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from gui_helpers import make_collection
from PySide6.QtWidgets import QApplication

from scenes.model import SceneCollection
from studio.engine import Studio
from widgets.i18n import translator
from widgets.main_window import MainWindow
from widgets.settings_store import SettingsStore


@pytest.fixture
def qapp_language() -> Iterator[None]:
    yield
    translator().set_language("en")  # the translator is process-wide: leave it as found


@pytest.fixture
def make_window(qtbot, studio_home: Path, qapp_language) -> Iterator[Callable[..., MainWindow]]:  # type: ignore[no-untyped-def]
    """Builds windows on fresh engines; closes windows, stores and engines at the end."""
    made: list[tuple[MainWindow, SettingsStore, Studio]] = []

    def make(collection: SceneCollection | None = None, studio_mode: bool = True) -> MainWindow:
        studio = Studio(collection or make_collection(), studio_mode=studio_mode)
        store = SettingsStore(studio_home)
        store.settings.studio_mode = studio_mode
        window = MainWindow(studio, store)
        qtbot.addWidget(window)
        window.resize(1600, 900)
        window.show()
        qtbot.waitExposed(window)
        studio.render_offline(0)
        made.append((window, store, studio))
        return window

    yield make
    for window, store, studio in made:
        if window.isVisible():
            window.close()
        store.close()
        studio.stop()
    QApplication.processEvents()
