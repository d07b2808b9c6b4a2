"""Starting the GUI: QApplication, the engine for the chosen collection, the main window."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from studio.engine import Studio
from studio.session import open_collection
from studio.storage import DamagedFileError
from widgets.main_window import MainWindow


def run_gui(collection_path: Path | None) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Drama Live Studio")
    try:
        collection, _path = open_collection(collection_path)
    except DamagedFileError as exc:
        QMessageBox.critical(None, "Drama Live Studio", str(exc))
        return 2
    studio = Studio(collection)
    window = MainWindow(studio)
    studio.start()
    window.show()
    try:
        return app.exec()
    finally:
        studio.stop()
