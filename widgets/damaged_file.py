"""When the scene collection cannot be opened (damaged, or written by a newer studio): say which
file and why, and let the user open its backup, open another file, or quit. Nothing is
overwritten: opening the backup sets the damaged file aside under a dated name first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QPushButton, QWidget

from scenes.model import SceneCollection
from studio.session import open_collection, open_collection_backup
from studio.storage import DamagedFileError
from widgets.i18n import tr


@dataclass(frozen=True)
class OpenedCollection:
    collection: SceneCollection
    path: Path
    note: str | None = None  # what happened on the way (shown once in the status bar)


class DamagedFileDialog(QMessageBox):
    """Open the backup (when there is one) / open another file / quit."""

    def __init__(self, error: DamagedFileError, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("damagedFile")
        self.setIcon(QMessageBox.Icon.Critical)
        self.setWindowTitle("Drama Live Studio")
        self.setTextFormat(Qt.TextFormat.PlainText)  # file names and messages are not markup
        self.setText(tr("The scene collection cannot be opened."))
        detail = tr("{path}: {problem}.").format(path=error.path, problem=error.problem)
        if error.backup is not None:
            detail += "\n" + tr("A backup from when it last opened is available: {backup}").format(
                backup=error.backup)
        self.setInformativeText(detail)
        self.backup_button: QPushButton | None = None
        if error.backup is not None:
            self.backup_button = self.addButton(tr("Open the backup"), QMessageBox.ButtonRole.AcceptRole)
            self.backup_button.setObjectName("openBackup")
        self.other_button = self.addButton(tr("Open another file…"), QMessageBox.ButtonRole.ActionRole)
        self.other_button.setObjectName("openOther")
        self.quit_button = self.addButton(tr("Quit"), QMessageBox.ButtonRole.RejectRole)
        self.quit_button.setObjectName("quit")
        self.setDefaultButton(self.backup_button or self.other_button)
        self.setEscapeButton(self.quit_button)

    def choose(self) -> str:
        """Run the dialog: "backup", "other" or "quit"."""
        self.exec()
        clicked = self.clickedButton()
        if clicked is not None and clicked is self.backup_button:
            return "backup"
        if clicked is self.other_button:
            return "other"
        return "quit"


def pick_collection_file(parent: QWidget | None, folder: Path) -> Path | None:
    """Qt's own file dialog (the same on every platform, and testable offscreen)."""
    dialog = QFileDialog(parent, tr("Open a scene collection"), str(folder), tr("Scene collections (*.json)"))
    dialog.setObjectName("openCollection")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    if not dialog.exec() or not dialog.selectedFiles():
        return None
    return Path(dialog.selectedFiles()[0])


def open_collection_or_ask(path: Path | None, parent: QWidget | None = None) -> OpenedCollection | None:
    """Open ``path`` (the demo when None); while it cannot be opened, ask what to do. None: quit."""
    try:
        collection, opened = open_collection(path)
        return OpenedCollection(collection, opened)
    except DamagedFileError as exc:
        error = exc
    while True:
        choice = DamagedFileDialog(error, parent).choose()
        if choice == "quit":
            return None
        try:
            if choice == "backup":
                collection, opened, aside = open_collection_backup(error.path)
                return OpenedCollection(collection, opened, tr(
                    "Opened the backup of {path}; the damaged file is kept as {aside}").format(
                        path=opened.name, aside=aside.name))
            other = pick_collection_file(parent, error.path.parent)
            if other is None:
                continue  # cancelled: ask again
            collection, opened = open_collection(other)
            return OpenedCollection(collection, opened)
        except DamagedFileError as exc:
            error = exc
        except OSError as exc:  # e.g. the backup cannot be copied back: say so, offer the rest
            error = DamagedFileError(error.path, tr("the backup could not be restored ({problem})").format(
                problem=exc.strerror or exc), None)
