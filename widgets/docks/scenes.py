"""The Scenes dock: the collection's scenes; add, rename (double-click / F2), duplicate, delete,
reorder (buttons or drag and drop). Every change is a command, so Edit > Undo takes it back.

Clicking a scene asks the window to put it in preview (studio mode) or switch to it. The program
scene carries a red dot and the preview scene a green one.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from studio import commands as cmd
from studio.engine import Studio
from widgets.docks.common import button_row, drop_row, tool_button
from widgets.i18n import on_change, tr
from widgets.theme import icon

NAME_ROLE = Qt.ItemDataRole.UserRole


class SceneList(QListWidget):
    """The list, with rows dragged to a new place: the drop becomes a command (Qt moves nothing
    itself; the list redraws from the model when the command has been applied)."""

    def __init__(self, on_drop: Callable[[int, int], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._on_drop = on_drop
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt naming
        row, target = self.currentRow(), drop_row(self, event)
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.accept()
        if row >= 0:
            self._on_drop(row, target)


class ScenesPanel(QWidget):
    scene_clicked = Signal(str)
    message = Signal(str)

    def __init__(self, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self.collection = studio.collection
        self.studio_mode = True
        self._edit_when_listed: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.list = SceneList(self.drop_scene, self)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.list.itemClicked.connect(self._clicked)
        self.list.itemChanged.connect(self._renamed)
        layout.addWidget(self.list, 1)
        self.buttons = {
            "add": tool_button(self, "add", "Add scene", self._add_clicked),
            "remove": tool_button(self, "remove", "Delete scene", self._delete_clicked),
            "duplicate": tool_button(self, "duplicate", "Duplicate scene", self._duplicate_clicked),
            "rename": tool_button(self, "rename", "Rename scene", self._rename_clicked),
            "up": tool_button(self, "up", "Move scene up", lambda: self._move_clicked(-1)),
            "down": tool_button(self, "down", "Move scene down", lambda: self._move_clicked(1)),
        }
        layout.addLayout(button_row(self, list(self.buttons.values())))
        on_change(self, self.refresh)

    # ---- view ---------------------------------------------------------------------------------------
    def refresh(self) -> None:
        col = self.collection
        with col.lock:
            names = [s.name for s in col.scenes]
            program, preview = col.program_scene, col.preview_scene
        current = self.current_name()
        self.list.blockSignals(True)
        self.list.clear()
        for i, name in enumerate(names):
            item = QListWidgetItem(name)
            item.setData(NAME_ROLE, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            tips = []
            if name == program:
                item.setIcon(icon("live"))
                tips.append(tr("On program"))
            elif self.studio_mode and name == preview:
                item.setIcon(icon("preview"))
                tips.append(tr("In preview"))
            if i < 9:
                tips.append(tr("Hotkey: {key}").format(key=i + 1))
            item.setToolTip(" · ".join(tips))
            self.list.addItem(item)
            if name == current:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        if self._edit_when_listed in names:
            row = self.list.item(names.index(self._edit_when_listed))
            self._edit_when_listed = None
            self.list.setCurrentItem(row)
            self.list.editItem(row)  # type the real name straight away

    def current_name(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else str(item.data(NAME_ROLE))

    def _clicked(self, item: QListWidgetItem) -> None:
        self.scene_clicked.emit(str(item.data(NAME_ROLE)))

    # ---- model edits (public for tests and menus): commands, applied at the next tick -----------
    def _refuse(self, text: str) -> None:
        self.message.emit(text)
        self.refresh()  # an edited name in the list goes back to the model's

    def add_scene(self, name: str | None = None) -> str | None:
        col = self.collection
        with col.lock:
            chosen = name
            if chosen is None:
                n = len(col.scenes) + 1
                while col.has_scene(tr("Scene {n}").format(n=n)):
                    n += 1
                chosen = tr("Scene {n}").format(n=n)
            if col.has_scene(chosen.strip()):
                self._refuse(tr("a scene named {name!r} already exists").format(name=chosen.strip()))
                return None
        self.studio.submit(cmd.AddScene(chosen))
        return chosen.strip()

    def rename_scene(self, old: str, new: str) -> bool:
        new = new.strip()
        with self.collection.lock:
            taken = new != old and self.collection.has_scene(new)
        if not new:
            self._refuse(tr("a scene needs a non-empty name"))
            return False
        if taken:
            self._refuse(tr("a scene named {name!r} already exists").format(name=new))
            return False
        self.studio.submit(cmd.RenameScene(old, new))
        return True

    def duplicate_scene(self, name: str) -> str | None:
        col = self.collection
        with col.lock:
            if not col.has_scene(name):
                return None
            n = 2
            while col.has_scene(f"{name} {n}"):
                n += 1
        self.studio.submit(cmd.DuplicateScene(name, f"{name} {n}"))
        return f"{name} {n}"

    def delete_scene(self, name: str) -> bool:
        with self.collection.lock:
            last = len(self.collection.scenes) <= 1
        if last:
            self._refuse(tr("The last scene cannot be deleted"))
            return False
        self.studio.submit(cmd.RemoveScene(name))
        return True

    def move_scene(self, name: str, offset: int) -> None:
        col = self.collection
        with col.lock:
            names = [s.name for s in col.scenes]
        if name not in names:
            return
        index = names.index(name) + offset
        if 0 <= index < len(names):
            self.studio.submit(cmd.MoveScene(name, index))

    def drop_scene(self, row: int, before: int) -> None:
        """A drag put list row ``row`` in front of row ``before`` (``count`` = after the last)."""
        col = self.collection
        with col.lock:
            names = [s.name for s in col.scenes]
        if not 0 <= row < len(names):
            return
        index = before if before <= row else before - 1
        if index != row:
            self.studio.submit(cmd.MoveScene(names[row], max(0, min(index, len(names) - 1))))

    # ---- buttons --------------------------------------------------------------------------------------
    def _add_clicked(self) -> None:
        # the scene exists from the next tick: its row opens for typing the real name when it shows
        self._edit_when_listed = self.add_scene()

    def _renamed(self, item: QListWidgetItem) -> None:
        old, new = str(item.data(NAME_ROLE)), item.text()
        if new != old:
            self.rename_scene(old, new)

    def _rename_clicked(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.list.editItem(item)

    def _duplicate_clicked(self) -> None:
        name = self.current_name()
        if name is not None:
            self.duplicate_scene(name)

    def _delete_clicked(self) -> None:
        name = self.current_name()
        if name is None:
            return
        answer = QMessageBox.question(self, tr("Delete scene"), tr("Delete the scene “{name}”?").format(name=name))
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_scene(name)

    def _move_clicked(self, offset: int) -> None:
        name = self.current_name()
        if name is not None:
            self.move_scene(name, offset)
