"""The Sources dock: the edited scene's items, top-most first, with visibility and lock toggles.

Add from the registered source types (or reuse an existing source), delete, reorder. The list
selection and the preview selection are the same thing (``EditorState``).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QHeaderView,
    QMenu,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from scenes.model import ItemChanged, ModelEvent, SceneItem, SceneItemsChanged, ScenesChanged, SourceChanged
from scenes.registry import all_types, get_type
from widgets.docks.common import button_row, edit_model, tool_button
from widgets.editor_state import EditorState
from widgets.i18n import on_change, tr
from widgets.theme import icon

ID_ROLE = Qt.ItemDataRole.UserRole
COL_NAME, COL_VISIBLE, COL_LOCK = 0, 1, 2


class SourcesPanel(QWidget):
    message = Signal(str)
    properties_requested = Signal()

    def __init__(self, state: EditorState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.collection = state.studio.collection
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(3)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(0)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        for col in (COL_VISIBLE, COL_LOCK):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(col, 28)
        self.tree.itemClicked.connect(self._clicked)
        self.tree.currentItemChanged.connect(self._current_changed)
        self.tree.itemDoubleClicked.connect(lambda *_: self.properties_requested.emit())
        layout.addWidget(self.tree, 1)

        self.add_button = tool_button(self, "add", "Add source", lambda: None)
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_menu = QMenu(self)
        self.add_menu.aboutToShow.connect(self._fill_add_menu)
        self.add_button.setMenu(self.add_menu)
        buttons = [
            self.add_button,
            tool_button(self, "remove", "Remove source", self._remove_clicked),
            tool_button(self, "properties", "Properties", self.properties_requested.emit),
            tool_button(self, "up", "Move up", lambda: self._move_clicked("up")),
            tool_button(self, "down", "Move down", lambda: self._move_clicked("down")),
        ]
        layout.addLayout(button_row(self, buttons))
        state.scene_changed.connect(lambda _s: self.refresh())
        state.selection_changed.connect(self._select_row)
        on_change(self, self.refresh)

    # ---- model -> view --------------------------------------------------------------------------
    def on_model(self, event: ModelEvent) -> None:
        scene = self.state.scene
        if isinstance(event, ItemChanged):
            if event.scene == scene and {"visible", "locked"} & set(event.fields):
                self.refresh()
        elif isinstance(event, SceneItemsChanged):
            if event.scene == scene:
                self.refresh()
        elif isinstance(event, ScenesChanged | SourceChanged):
            self.refresh()

    def items(self) -> list[SceneItem]:
        """The edited scene's items, top-most first (as the list shows them)."""
        col, scene = self.collection, self.state.scene
        with col.lock:
            if scene is None or not col.has_scene(scene):
                return []
            return list(reversed(col.scene(scene).items))

    def refresh(self) -> None:
        self.tree.blockSignals(True)
        self.tree.clear()
        for item in self.items():
            values = self.state.state(item)
            row = QTreeWidgetItem([item.source, "", ""])
            row.setData(COL_NAME, ID_ROLE, item.id)
            cfg = self.collection.sources.get(item.source)
            if cfg is not None:
                row.setToolTip(COL_NAME, tr(_type_name(cfg.type_id)))
            row.setIcon(COL_VISIBLE, icon("eye" if values["visible"] else "eye-off"))
            row.setToolTip(COL_VISIBLE, tr("Hide") if values["visible"] else tr("Show"))
            row.setIcon(COL_LOCK, icon("lock" if values["locked"] else "unlock"))
            row.setToolTip(COL_LOCK, tr("Unlock") if values["locked"] else tr("Lock"))
            self.tree.addTopLevelItem(row)
            if item.id == self.state.selected:
                self.tree.setCurrentItem(row)
        self.tree.blockSignals(False)

    def _select_row(self, item_id: str) -> None:
        self.tree.blockSignals(True)
        self.tree.setCurrentIndex(QModelIndex())
        for i in range(self.tree.topLevelItemCount()):
            row = self.tree.topLevelItem(i)
            if row is not None and row.data(COL_NAME, ID_ROLE) == item_id:
                self.tree.setCurrentItem(row)
        self.tree.blockSignals(False)

    # ---- view -> model --------------------------------------------------------------------------
    def _current_changed(self, row: QTreeWidgetItem | None, _prev: QTreeWidgetItem | None) -> None:
        self.state.select(None if row is None else str(row.data(COL_NAME, ID_ROLE)))

    def _clicked(self, row: QTreeWidgetItem, column: int) -> None:
        item_id = str(row.data(COL_NAME, ID_ROLE))
        item = next((it for it in self.items() if it.id == item_id), None)
        if item is None:
            return
        values = self.state.state(item)
        if column == COL_VISIBLE:
            self.set_visible(item_id, not values["visible"])
        elif column == COL_LOCK:
            self.set_locked(item_id, not values["locked"])

    def set_visible(self, item_id: str, visible: bool) -> None:
        self.state.update_item(item_id, visible=visible)
        self.refresh()

    def set_locked(self, item_id: str, locked: bool) -> None:
        self.state.update_item(item_id, locked=locked)
        self.refresh()

    def add_source(self, type_id: str, name: str | None = None) -> str | None:
        """Create a source of ``type_id`` with default settings and put it on top of the scene."""
        col, scene = self.collection, self.state.scene
        if scene is None:
            return None

        def change() -> str:
            chosen = name
            if chosen is None:
                base = tr(_type_name(type_id))
                n = 1
                chosen = base
                while chosen in col.sources:
                    n += 1
                    chosen = f"{base} {n}"
            col.add_source(chosen, type_id)
            item = col.scene(scene).add_item(SceneItem(chosen))
            self.state.select(item.id)
            return chosen

        added = edit_model(col, change, self.message.emit)
        self.refresh()
        return added

    def add_existing(self, source: str) -> str | None:
        col, scene = self.collection, self.state.scene
        if scene is None:
            return None
        item = edit_model(col, lambda: col.scene(scene).add_item(SceneItem(source)), self.message.emit)
        self.refresh()
        if item is None:
            return None
        self.state.select(item.id)
        return item.id

    def remove_item(self, item_id: str) -> None:
        """Remove the item; its source goes too when no scene uses it any more."""
        col, scene = self.collection, self.state.scene
        if scene is None:
            return

        def change() -> None:
            item = col.scene(scene).item(item_id)
            col.scene(scene).remove_item(item_id)
            if not any(it.source == item.source for s in col.scenes for it in s.items):
                col.remove_source(item.source)

        edit_model(col, change, self.message.emit)
        if self.state.selected == item_id:
            self.state.select(None)
        self.refresh()

    def move_item(self, item_id: str, where: str) -> None:
        col, scene = self.collection, self.state.scene
        if scene is None:
            return

        def change() -> None:
            s = col.scene(scene)
            ids = [it.id for it in s.items]
            i, last = ids.index(item_id), len(ids) - 1
            target = {"up": min(last, i + 1), "down": max(0, i - 1), "top": last, "bottom": 0}[where]
            if target != i:
                s.move_item(item_id, target)

        edit_model(col, change, self.message.emit)
        self.refresh()

    # ---- buttons --------------------------------------------------------------------------------
    def _fill_add_menu(self) -> None:
        menu = self.add_menu
        menu.clear()
        for source_type in all_types():
            action = menu.addAction(tr(source_type.name))
            action.triggered.connect(lambda _=False, t=source_type.id: self.add_source(t))
        existing = sorted(self.collection.sources)
        if existing:
            sub = menu.addMenu(tr("Add Existing"))
            for name in existing:
                action = sub.addAction(name)
                action.triggered.connect(lambda _=False, n=name: self.add_existing(n))

    def _remove_clicked(self) -> None:
        if self.state.selected is not None:
            self.remove_item(self.state.selected)

    def _move_clicked(self, where: str) -> None:
        if self.state.selected is not None:
            self.move_item(self.state.selected, where)


def _type_name(type_id: str) -> str:
    try:
        return get_type(type_id).name
    except ValueError:
        return type_id
