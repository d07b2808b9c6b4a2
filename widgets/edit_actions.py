"""The Edit menu: undo/redo, copy/paste of sources and of filter chains, group/ungroup.

Every action sends commands (the engine records them for undo); none edits the model. Keyboard
shortcuts stand back while a text field has focus, so Ctrl+Z/C/V keep working inside it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from scenes.filters.base import FilterConfig
from studio import commands as cmd
from widgets.editor_state import EditorState
from widgets.i18n import bind, tr


@dataclass(frozen=True)
class CopiedSource:
    """A copied item: where it sat and how (transform), and its source as it was (for a duplicate)."""

    item: cmd.ItemCopy
    type_id: str
    settings: dict[str, object]
    filters: tuple[FilterConfig, ...]


def typing_in_text() -> bool:
    """True while the keyboard belongs to a text field (its own undo/copy/paste come first)."""
    focus = QApplication.focusWidget()
    if isinstance(focus, QComboBox):
        return focus.isEditable()
    return isinstance(focus, QLineEdit | QTextEdit | QPlainTextEdit | QAbstractSpinBox)


def unique_name(taken: set[str] | dict[str, object], base: str) -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base} {n}" in taken:
        n += 1
    return f"{base} {n}"


class EditActions(QObject):
    def __init__(self, parent: QWidget, state: EditorState, selection: Callable[[], list[str]],
                 report: Callable[[str], None]) -> None:
        super().__init__(parent)
        self.state = state
        self.studio = state.studio
        self.selection = selection  # the selected item ids of the edited scene (the Sources dock's)
        self.report = report
        self.copied: CopiedSource | None = None
        self.copied_filters: tuple[FilterConfig, ...] | None = None

        def action(text: str, slot: Callable[[], object], *keys: QKeySequence | QKeySequence.StandardKey) -> QAction:
            a = QAction(parent)
            bind(a, "setText", text)
            if keys:
                a.setShortcuts([QKeySequence(k) for k in keys])
            a.triggered.connect(lambda _=False: slot())
            parent.addAction(a)  # shortcuts work wherever the window has focus
            return a

        self.undo_action = action("&Undo", self.undo, QKeySequence.StandardKey.Undo)
        self.redo_action = action("&Redo", self.redo, QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y"))
        self.copy_action = action("&Copy Source", self.copy, QKeySequence.StandardKey.Copy)
        self.paste_action = action("&Paste Source", self.paste, QKeySequence.StandardKey.Paste)
        self.paste_duplicate_action = action("Paste Source (&Duplicate)", self.paste_duplicate)
        self.copy_filters_action = action("Copy &Filters", self.copy_filters)
        self.paste_filters_action = action("Paste F&ilters", self.paste_filters)
        self.group_action = action("&Group Selected", self.group, QKeySequence("Ctrl+G"))
        self.ungroup_action = action("U&ngroup", self.ungroup, QKeySequence("Ctrl+Shift+G"))
        self.enable_all()

    # ---- menus ----------------------------------------------------------------------------------------
    def fill_edit_menu(self, menu: QMenu) -> None:
        menu.aboutToShow.connect(self.update_actions)
        menu.aboutToHide.connect(self.enable_all)
        menu.addActions([self.undo_action, self.redo_action])
        menu.addSeparator()
        self._add_item_actions(menu)

    def fill_item_menu(self, menu: QMenu) -> None:
        """Copy/paste and group entries for a right-click menu (the preview's, the Sources dock's),
        enabled for what is selected now."""
        self.update_actions()
        menu.aboutToHide.connect(self.enable_all)
        self._add_item_actions(menu)

    def _add_item_actions(self, menu: QMenu) -> None:
        menu.addActions([self.copy_action, self.paste_action, self.paste_duplicate_action])
        menu.addSeparator()
        menu.addActions([self.copy_filters_action, self.paste_filters_action])
        menu.addSeparator()
        menu.addActions([self.group_action, self.ungroup_action])

    def update_actions(self) -> None:
        h = self.studio.history.state()
        self.undo_action.setText(tr("&Undo {what}").format(what=tr(h.undo_label)) if h.can_undo else tr("&Undo"))
        self.redo_action.setText(tr("&Redo {what}").format(what=tr(h.redo_label)) if h.can_redo else tr("&Redo"))
        item = self.state.selected_item()
        self.copy_action.setEnabled(item is not None)
        self.copy_filters_action.setEnabled(item is not None)
        self.paste_action.setEnabled(self.copied is not None and self.state.scene is not None)
        self.paste_duplicate_action.setEnabled(self.copied is not None and self.state.scene is not None)
        self.paste_filters_action.setEnabled(item is not None and self.copied_filters is not None)
        self.group_action.setEnabled(len(self.selection()) >= 2)
        self.ungroup_action.setEnabled(item is not None and bool(item.group))

    def enable_all(self) -> None:
        """Back to enabled once a menu closes: a disabled action's shortcut would not fire, and
        each action checks for itself whether it has something to do."""
        for a in (self.copy_action, self.paste_action, self.paste_duplicate_action, self.copy_filters_action,
                  self.paste_filters_action, self.group_action, self.ungroup_action):
            a.setEnabled(True)

    # ---- undo/redo ----------------------------------------------------------------------------------
    def undo(self) -> None:
        focus = QApplication.focusWidget()
        if typing_in_text():
            getattr(focus, "undo", lambda: None)()
            return
        self.state.forget_pending()
        self.studio.submit(cmd.Undo())

    def redo(self) -> None:
        focus = QApplication.focusWidget()
        if typing_in_text():
            getattr(focus, "redo", lambda: None)()
            return
        self.state.forget_pending()
        self.studio.submit(cmd.Redo())

    # ---- copy/paste -----------------------------------------------------------------------------------
    def copy(self) -> None:
        focus = QApplication.focusWidget()
        if typing_in_text():
            getattr(focus, "copy", lambda: None)()
            return
        item = self.state.selected_item()
        if item is None:
            return
        col = self.studio.collection
        with col.lock:
            cfg = col.sources.get(item.source)
            if cfg is None:
                return
            self.copied = CopiedSource(cmd.ItemCopy(item.source, item.id, self.state.state(item)),
                                       cfg.type_id, dict(cfg.settings), cfg.filters)

    def paste(self) -> str | None:
        """A new item of the copied source (shared, as OBS's "Paste (Reference)") in the edited
        scene, with the copied transform; it becomes the selection. Returns its id."""
        focus = QApplication.focusWidget()
        if typing_in_text():
            getattr(focus, "paste", lambda: None)()
            return None
        copied, scene = self.copied, self.state.scene
        if copied is None or scene is None:
            return None
        if copied.item.source not in self.studio.collection.sources:
            return self.paste_duplicate()  # the original is gone: bring it back as a copy
        new_id = uuid.uuid4().hex[:12]
        self.studio.submit(cmd.AddItem(scene, copied.item.source, new_id, _placed(copied.item.fields)))
        self.state.select(new_id)
        return new_id

    def paste_duplicate(self) -> str | None:
        """A new source with the copied settings and filters, and an item of it (one undo step)."""
        copied, scene = self.copied, self.state.scene
        if copied is None or scene is None:
            return None
        with self.studio.collection.lock:
            name = unique_name(set(self.studio.collection.sources), copied.item.source)
        new_id = uuid.uuid4().hex[:12]
        self.studio.submit(cmd.EditBatch((
            cmd.AddSource(name, copied.type_id, dict(copied.settings), copied.filters),
            cmd.AddItem(scene, name, new_id, _placed(copied.item.fields)),
        ), label="Paste Source"))
        self.state.select(new_id)
        return new_id

    def copy_filters(self) -> None:
        item = self.state.selected_item()
        if item is None:
            return
        cfg = self.studio.collection.sources.get(item.source)
        if cfg is not None:
            self.copied_filters = cfg.filters

    def paste_filters(self) -> None:
        """The copied filter chain replaces the selected source's (as a whole: one undo step)."""
        item = self.state.selected_item()
        if item is None or self.copied_filters is None:
            return
        self.studio.submit(cmd.SetSourceFilters(item.source, self.copied_filters))

    # ---- groups ---------------------------------------------------------------------------------------
    def group(self) -> str | None:
        """Put the selected items into a new group; moving one then moves them all."""
        scene, ids = self.state.scene, self.selection()
        if scene is None or len(ids) < 2:
            return None
        col = self.studio.collection
        with col.lock:
            if not col.has_scene(scene):
                return None
            taken = {it.group for it in col.scene(scene).items if it.group}
        name = unique_name(taken, tr("Group"))
        self.studio.submit(cmd.EditBatch(tuple(cmd.UpdateItem(scene, i, {"group": name}) for i in ids),
                                         label="Group"))
        return name

    def ungroup(self) -> None:
        scene, item = self.state.scene, self.state.selected_item()
        if scene is None or item is None or not item.group:
            return
        col = self.studio.collection
        with col.lock:
            members = [it.id for it in col.scene(scene).items if it.group == item.group]
        self.studio.submit(cmd.EditBatch(tuple(cmd.UpdateItem(scene, i, {"group": ""}) for i in members),
                                         label="Ungroup"))


def _placed(fields: dict[str, object]) -> dict[str, object]:
    # a pasted item keeps where and how it was shown, but not its group nor its lock
    return {k: v for k, v in fields.items() if k not in ("group", "locked")}
