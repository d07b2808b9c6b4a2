"""The Sources dock: the edited scene's items, top-most first, with visibility and lock toggles.

Add from the registered source types (or reuse an existing source), delete, reorder (buttons or
drag and drop), group (several selected rows). The current row and the preview selection are the
same thing (``EditorState``). Every change is a command, so Edit > Undo takes it back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from PySide6.QtCore import QMimeData, QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
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
from studio import commands as cmd
from widgets.clip_drop import DroppedClips, DropResolver, add_clips_batch, carries_clips
from widgets.docks.common import button_row, drop_row, tool_button
from widgets.editor_state import EditorState
from widgets.i18n import on_change, tr
from widgets.theme import icon

ID_ROLE = Qt.ItemDataRole.UserRole
COL_NAME, COL_VISIBLE, COL_LOCK = 0, 1, 2


class ItemTree(QTreeWidget):
    """The item list; a dragged row dropped elsewhere becomes a command (Qt moves nothing itself)."""

    def __init__(self, on_drop: Callable[[int, int], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._on_drop = on_drop
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        # library clips and desktop video files dropped here: (drag data, the row they land before)
        self.on_clips: Callable[[QMimeData, int], object] | None = None

    def _takes_clips(self, event: QDragEnterEvent | QDragMoveEvent | QDropEvent) -> bool:
        return self.on_clips is not None and carries_clips(event.mimeData())

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt naming
        if self._takes_clips(event):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802 - Qt naming
        if self._takes_clips(event):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt naming
        if self.on_clips is not None and self._takes_clips(event):
            target = drop_row(self, event)
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            self.on_clips(event.mimeData(), target)
            return
        current = self.currentItem()
        row = -1 if current is None else self.indexOfTopLevelItem(current)
        target = drop_row(self, event)
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.accept()
        if row >= 0:
            self._on_drop(row, target)


class SourcesPanel(QWidget):
    message = Signal(str)
    properties_requested = Signal()

    def __init__(self, state: EditorState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.studio = state.studio
        self.collection = state.studio.collection
        self.extend_menu: Callable[[QMenu], None] | None = None  # the window's copy/paste/group actions
        self.drops: DropResolver | None = None  # the asset library's: dropped clips become media sources
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.tree = ItemTree(self.drop_item, self)
        self.tree.on_clips = self.drop_clips
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
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
            if event.scene == scene and {"visible", "locked", "group"} & set(event.fields):
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
            group = values.get("group") or ""
            row = QTreeWidgetItem([f"{item.source}  ⟦{group}⟧" if group else item.source, "", ""])
            row.setData(COL_NAME, ID_ROLE, item.id)
            cfg = self.collection.sources.get(item.source)
            if cfg is not None:
                tip = tr(_type_name(cfg.type_id))
                row.setToolTip(COL_NAME, tip + (" · " + tr("Group: {name}").format(name=group) if group else ""))
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

    def selected_ids(self) -> list[str]:
        """The selected rows' item ids (several for grouping), else the current item's."""
        ids = [str(row.data(COL_NAME, ID_ROLE)) for row in self.tree.selectedItems()]
        if not ids and self.state.selected is not None:
            ids = [self.state.selected]
        return ids

    # edits are commands, applied at the next tick; the list redraws from the model's events
    def add_source(self, type_id: str, name: str | None = None) -> str | None:
        """Create a source of ``type_id`` with default settings and put it on top of the scene."""
        col, scene = self.collection, self.state.scene
        if scene is None:
            return None
        with col.lock:
            chosen = name
            if chosen is None:
                base = tr(_type_name(type_id))
                n = 1
                chosen = base
                while chosen in col.sources:
                    n += 1
                    chosen = f"{base} {n}"
            if chosen in col.sources:
                self.message.emit(tr("a source named {name!r} already exists").format(name=chosen))
                return None
        item_id = uuid.uuid4().hex[:12]
        self.studio.submit(cmd.EditBatch((cmd.AddSource(chosen, type_id), cmd.AddItem(scene, chosen, item_id)),
                                         label="Add Source"))
        self.state.select(item_id)
        return chosen

    def add_existing(self, source: str) -> str | None:
        scene = self.state.scene
        if scene is None:
            return None
        item_id = uuid.uuid4().hex[:12]
        self.studio.submit(cmd.AddItem(scene, source, item_id))
        self.state.select(item_id)
        return item_id

    def remove_item(self, item_id: str) -> None:
        """Remove the item; its source goes too when no scene uses it any more (one undo step)."""
        col, scene = self.collection, self.state.scene
        if scene is None:
            return
        with col.lock:
            if not col.has_scene(scene):
                return
            item = next((it for it in col.scene(scene).items if it.id == item_id), None)
            if item is None:
                return
            others = any(it.source == item.source and it.id != item_id for s in col.scenes for it in s.items)
        edits: tuple[cmd.EditCommand, ...] = (cmd.RemoveItem(scene, item_id),)
        if not others:
            edits += (cmd.RemoveSource(item.source),)
        self.studio.submit(cmd.EditBatch(edits, label="Remove Source"))
        if self.state.selected == item_id:
            self.state.select(None)

    def move_item(self, item_id: str, where: str) -> None:
        ids = [it.id for it in reversed(self.items())]  # bottom first, as the scene stores them
        scene = self.state.scene
        if scene is None or item_id not in ids:
            return
        i, last = ids.index(item_id), len(ids) - 1
        target = {"up": min(last, i + 1), "down": max(0, i - 1), "top": last, "bottom": 0}[where]
        if target != i:
            self.studio.submit(cmd.MoveItem(scene, item_id, target))

    def drop_item(self, row: int, before: int) -> None:
        """A drag put list row ``row`` in front of row ``before`` (rows are top-most first)."""
        rows = [it.id for it in self.items()]
        scene = self.state.scene
        if scene is None or not 0 <= row < len(rows):
            return
        position = before if before <= row else before - 1  # its row once dropped
        position = max(0, min(position, len(rows) - 1))
        if position != row:
            self.studio.submit(cmd.MoveItem(scene, rows[row], len(rows) - 1 - position))

    def drop_clips(self, mime: QMimeData, before: int) -> bool:
        """Library clips (or desktop video files, added to the library first, on a worker) dropped in
        front of list row ``before``: new media sources there, one undo step."""
        scene = self.state.scene
        if scene is None or self.drops is None:
            return False
        self.drops.resolve(mime, lambda dropped: self._add_dropped(dropped, scene, before))
        return True

    def _add_dropped(self, dropped: DroppedClips, scene: str, before: int) -> None:
        if dropped.problems:
            self.message.emit(dropped.message)
        with self.collection.lock:
            if not dropped.clips or not self.collection.has_scene(scene):
                return
            rows = len(self.collection.scene(scene).items)
        index = rows - max(0, min(before, rows))  # list rows are top-most first, the stack bottom first
        batch, ids = add_clips_batch(self.collection, scene, dropped.clips, index=index)
        self.studio.submit(batch)
        self.state.select(ids[-1])

    def _context_menu(self, pos: QPoint) -> None:
        self.build_menu().exec(self.tree.viewport().mapToGlobal(pos))

    def build_menu(self) -> QMenu:
        menu = QMenu(self)
        has_item = self.state.selected is not None
        for label, where in ((tr("Move Up"), "up"), (tr("Move Down"), "down"),
                             (tr("Move to Top"), "top"), (tr("Move to Bottom"), "bottom")):
            action = menu.addAction(label)
            action.setEnabled(has_item)
            action.triggered.connect(lambda _=False, w=where: self._move_clicked(w))
        remove = menu.addAction(tr("Remove source"))
        remove.setEnabled(has_item)
        remove.triggered.connect(self._remove_clicked)
        if self.extend_menu is not None:
            menu.addSeparator()
            self.extend_menu(menu)
        return menu

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
