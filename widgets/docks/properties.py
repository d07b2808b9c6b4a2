"""The Properties dock: the generic editor for the selected item's source."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from scenes.model import ModelEvent, SceneItemsChanged, SourceChanged
from scenes.registry import get_type
from widgets.editor_state import EditorState
from widgets.i18n import on_change, tr, translator
from widgets.property_editor import PropertyEditor


class PropertiesPanel(QWidget):
    def __init__(self, state: EditorState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.editor: PropertyEditor | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.header = QLabel(self)
        self.header.setObjectName("hint")
        self.header.setTextFormat(Qt.TextFormat.PlainText)
        self.header.setWordWrap(True)
        layout.addWidget(self.header)
        self.scroller = QScrollArea(self)
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(300)
        layout.addWidget(self.scroller, 1)
        self._host = QWidget(self)
        self._host_layout = QVBoxLayout(self._host)
        self._host_layout.setContentsMargins(0, 0, 0, 0)
        self._placeholder = QLabel(self._host)
        self._placeholder.setWordWrap(True)
        self._host_layout.addWidget(self._placeholder)
        self._host_layout.addStretch(1)
        self.scroller.setWidget(self._host)
        self._editors: dict[str, PropertyEditor] = {}
        state.selection_changed.connect(lambda _id: self.rebuild())
        on_change(self, self.rebuild)  # labels come from the catalog: rebuild in the new language

    def source_name(self) -> str | None:
        item = self.state.selected_item()
        return None if item is None else item.source

    def rebuild(self) -> None:
        """Show the editor for the selected item's source (built once per source, then reused)."""
        name = self.source_name()
        cfg = self.state.studio.collection.sources.get(name) if name else None
        editor: PropertyEditor | None = None
        if name is not None and cfg is not None:
            try:
                type_name = tr(get_type(cfg.type_id).name)
            except ValueError:
                type_name = cfg.type_id
            self.header.setText(f"{name} · {type_name}")
            editor = self._editors.get(name)
            if editor is None or editor.type_id != cfg.type_id or editor.language != translator().language:
                if editor is not None:
                    self._drop(name)
                # building and styling widgets costs tens of ms: once per source, not per click
                editor = PropertyEditor(self.state.studio, name, self._host)
                self._editors[name] = editor
                self._host_layout.insertWidget(0, editor)
            else:
                editor.load()
        else:
            self.header.setText("")
            self._placeholder.setText(tr("Select a source to edit its properties."))
        # switching is show/hide inside one host: re-parenting would re-polish every field
        for other in self._editors.values():
            if other is not editor:
                other.hide()
        self._placeholder.setVisible(editor is None)
        if editor is not None:
            editor.show()
        self.editor = editor

    def prepare(self, names: list[str], limit: int = 40) -> None:
        """Build editors ahead (at start-up), so the first click on a source during the show is quick."""
        col = self.state.studio.collection
        for name in names[:limit]:
            if name in self._editors or name not in col.sources:
                continue
            editor = PropertyEditor(self.state.studio, name, self._host)
            editor.hide()
            self._editors[name] = editor
            self._host_layout.insertWidget(0, editor)

    def _drop(self, name: str) -> None:
        stale = self._editors.pop(name, None)
        if stale is not None:
            stale.hide()
            stale.deleteLater()

    def on_model(self, event: ModelEvent) -> None:
        if isinstance(event, SceneItemsChanged) and event.scene == self.state.scene:
            # an item selected as it was added (a command) exists now, or an undo took it away
            if (self.editor is None) != (self.state.selected_item() is None):
                self.rebuild()
            return
        if not isinstance(event, SourceChanged):
            return
        if event.removed:
            was_shown = self.editor is not None and self.editor.name == event.name
            self._drop(event.name)
            if was_shown:
                self.rebuild()
        elif self.editor is not None and event.name == self.editor.name:
            self.editor.load()
