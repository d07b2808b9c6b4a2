"""A collection that cannot be opened: the dialog names the file and offers to open its backup,
open another file, or quit; the real dialogs are driven offscreen as a user would click them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gui_helpers import make_collection
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from studio.collections import open_collection_file, save_collection
from widgets.damaged_file import open_collection_or_ask

DAMAGED = b'{"schema_version": 1, "name": "GUI te'  # cut short by a crash


def damaged_show(folder: Path) -> Path:
    """A collection that opened once (so its backup is known-good), then got damaged on disk."""
    path = folder / "show.json"
    save_collection(make_collection(), path)
    open_collection_file(path)
    path.write_bytes(DAMAGED)
    return path


class Clicker:
    """Answers each modal dialog as it opens (checked on every event-loop turn), in order."""

    def __init__(self, steps: list[Callable[[QWidget], bool]]) -> None:
        self.steps = steps
        self.seen: list[str] = []
        self.timer = QTimer()
        self.timer.timeout.connect(self._tick)
        self.timer.start(0)

    def _tick(self) -> None:
        widget = QApplication.activeModalWidget()
        if widget is None or not self.steps or not widget.isVisible():
            return
        if self.steps[0](widget):
            self.seen.append(widget.objectName())
            self.steps.pop(0)
        if not self.steps:
            self.timer.stop()


def click(name: str, texts: list[str] | None = None) -> Callable[[QWidget], bool]:
    def step(widget: QWidget) -> bool:
        if not isinstance(widget, QMessageBox) or widget.objectName() != "damagedFile":
            return False
        buttons = {b.objectName(): b for b in widget.findChildren(QPushButton) if b.objectName()}
        if texts is not None:
            texts.append(widget.informativeText())
            texts.append(",".join(sorted(buttons)))
        buttons[name].click()
        return True
    return step


def choose_file(path: Path) -> Callable[[QWidget], bool]:
    def step(widget: QWidget) -> bool:
        if not isinstance(widget, QFileDialog) or widget.objectName() != "openCollection":
            return False
        widget.selectFile(str(path))
        widget.accept()
        return True
    return step


def test_open_the_backup(qtbot: QtBot, tmp_path: Path) -> None:
    path = damaged_show(tmp_path)
    texts: list[str] = []
    clicker = Clicker([click("openBackup", texts)])
    opened = open_collection_or_ask(path)
    assert clicker.seen == ["damagedFile"]
    assert str(path) in texts[0] and "not valid JSON" in texts[0] and "show.json.bak" in texts[0]
    assert texts[1] == "openBackup,openOther,quit"
    assert opened is not None and opened.path == path
    assert [s.name for s in opened.collection.scenes] == ["Scene A", "Scene B", "Scene C"]
    assert opened.note is not None and "kept as show.json.damaged-" in opened.note
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("show.json.damaged-")]
    assert len(kept) == 1 and kept[0].read_bytes() == DAMAGED  # the damaged file is never lost


def test_open_another_file(qtbot: QtBot, tmp_path: Path) -> None:
    path = damaged_show(tmp_path)
    other = tmp_path / "other" / "another show.json"
    other.parent.mkdir()
    save_collection(make_collection(), other)
    clicker = Clicker([click("openOther"), choose_file(other)])
    opened = open_collection_or_ask(path)
    assert clicker.seen == ["damagedFile", "openCollection"]
    assert opened is not None and opened.path == other and opened.note is None
    assert path.read_bytes() == DAMAGED  # untouched


def test_another_damaged_file_asks_again_then_quit(qtbot: QtBot, tmp_path: Path) -> None:
    path = damaged_show(tmp_path)
    other = tmp_path / "broken.json"
    other.write_text("[]", "utf-8")
    texts: list[str] = []
    clicker = Clicker([click("openOther"), choose_file(other), click("quit", texts)])
    assert open_collection_or_ask(path) is None
    assert clicker.seen == ["damagedFile", "openCollection", "damagedFile"]
    assert str(other) in texts[0]
    assert texts[1] == "openOther,quit"  # no backup of that one: not offered
    assert path.read_bytes() == DAMAGED and other.read_text("utf-8") == "[]"


def test_quit(qtbot: QtBot, tmp_path: Path) -> None:
    path = damaged_show(tmp_path)
    clicker = Clicker([click("quit")])
    assert open_collection_or_ask(path) is None
    assert clicker.seen == ["damagedFile"]
    assert path.read_bytes() == DAMAGED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["show.json", "show.json.bak"]
