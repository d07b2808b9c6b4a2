"""The Scenes dock: the collection's scenes; add, rename (double-click / F2), duplicate, delete, reorder.

Clicking a scene asks the window to put it in preview (studio mode) or switch to it. The program
scene carries a red dot and the preview scene a green one.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from scenes.model import SceneCollection
from widgets.docks.common import button_row, edit_model, tool_button
from widgets.i18n import on_change, tr
from widgets.theme import icon

NAME_ROLE = Qt.ItemDataRole.UserRole


class ScenesPanel(QWidget):
    scene_clicked = Signal(str)
    message = Signal(str)

    def __init__(self, collection: SceneCollection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.collection = collection
        self.studio_mode = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.list = QListWidget(self)
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

    def current_name(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else str(item.data(NAME_ROLE))

    def _clicked(self, item: QListWidgetItem) -> None:
        self.scene_clicked.emit(str(item.data(NAME_ROLE)))

    # ---- model edits (public for tests and menus) -------------------------------------------------
    def add_scene(self, name: str | None = None) -> str | None:
        col = self.collection

        def change() -> str:
            chosen = name
            if chosen is None:
                n = len(col.scenes) + 1
                while col.has_scene(tr("Scene {n}").format(n=n)):
                    n += 1
                chosen = tr("Scene {n}").format(n=n)
            return col.add_scene(chosen).name

        added = edit_model(col, change, self.message.emit)
        self.refresh()
        return added

    def rename_scene(self, old: str, new: str) -> bool:
        def change() -> bool:
            self.collection.rename_scene(old, new)
            return True

        ok = edit_model(self.collection, change, self.message.emit)
        self.refresh()
        return bool(ok)

    def duplicate_scene(self, name: str) -> str | None:
        copy = edit_model(self.collection, lambda: self.collection.duplicate_scene(name).name, self.message.emit)
        self.refresh()
        return copy

    def delete_scene(self, name: str) -> bool:
        col = self.collection

        def change() -> bool:
            if len(col.scenes) <= 1:
                raise ValueError(tr("The last scene cannot be deleted"))
            col.remove_scene(name)
            return True

        ok = edit_model(col, change, self.message.emit)
        self.refresh()
        return bool(ok)

    def move_scene(self, name: str, offset: int) -> None:
        col = self.collection

        def change() -> None:
            index = [s.name for s in col.scenes].index(name) + offset
            if 0 <= index < len(col.scenes):
                col.move_scene(name, index)

        edit_model(col, change, self.message.emit)
        self.refresh()

    # ---- buttons --------------------------------------------------------------------------------------
    def _add_clicked(self) -> None:
        name = self.add_scene()
        if name is None:
            return
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(NAME_ROLE) == name:
                self.list.setCurrentItem(item)
                self.list.editItem(item)  # type the real name straight away

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
