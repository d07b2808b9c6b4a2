"""Starting the GUI: QApplication, theme, UI settings, the engine for the collection, the window.

Autosave runs on its own thread (``studio.collections.Autosaver``); the UI never writes the
collection itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from scenes.model import VideoFormat
from studio.collections import Autosaver
from studio.engine import Studio
from studio.session import open_collection
from studio.storage import DamagedFileError
from widgets.i18n import translator
from widgets.main_window import MainWindow
from widgets.settings_store import SettingsStore
from widgets.theme import apply_theme


def run_gui(collection_path: Path | None) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("Drama Live Studio")
    apply_theme(app)
    store = SettingsStore()
    try:
        translator().set_language(store.settings.language)
    except ValueError as exc:
        store.problem = str(exc)
    try:
        collection, path = open_collection(collection_path)
    except DamagedFileError as exc:
        QMessageBox.critical(None, "Drama Live Studio", str(exc))
        store.close()
        return 2
    if store.settings.video:
        # the canvas chosen in Settings applies now, at start-up (the engine sizes its canvases once)
        collection.video = VideoFormat(**store.settings.video)
    studio = Studio(collection, studio_mode=store.settings.studio_mode)
    autosaver = Autosaver(collection, path)
    window = MainWindow(studio, store)
    studio.start()
    window.show()
    try:
        return app.exec()
    finally:
        studio.stop()
        autosaver.close()
        store.close()
