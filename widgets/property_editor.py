"""One generic editor for any source type, generated from its PropertySpec list.

Each field validates with the spec (and the type's full ``validate``) before anything is sent; a
rejected value stays in the field with the ValueError text shown under it, and is not applied.
Accepted values go to the engine as ``UpdateSource`` commands.

Below the source's own fields, the source's video filters: an ordered list (add, remove, move,
switch on/off) and the selected filter's settings, generated from the filter type's schema by the
same editor. Filter edits go to the engine as ``SetSourceFilters`` (the whole new list).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from scenes.filters.base import FilterConfig
from scenes.filters.registry import all_filter_types, get_filter_type, make_config
from scenes.properties import PropertyKind, PropertySpec
from scenes.registry import get_type
from studio import commands as cmd
from studio.engine import Studio
from studio.interaction.compliance import default_checker
from widgets.i18n import tr, translator
from widgets.theme import icon, repolish

INT_LIMIT = 2**31 - 1
FLOAT_LIMIT = 1e12
TEXT_COMMIT_MS = 500  # multi-line text is applied once typing pauses


class _Field:
    """One property: its input widget, how to read/write it, its error label and (for text shown
    on screen) its advertising-law warning label."""

    warning: QLabel | None = None

    def __init__(self, spec: PropertySpec, editor: QWidget, error: QLabel) -> None:
        self.spec = spec
        self.editor = editor
        self.error = error
        self.swatch: QToolButton | None = None  # colour fields: shows the colour, opens the picker

    def value(self) -> Any:
        w = self.editor
        if isinstance(w, QSpinBox | QDoubleSpinBox):
            return w.value()
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QComboBox):
            data = w.currentData()  # the choice itself; the text may be its translated label
            return data if data is not None else w.currentText()
        if isinstance(w, QPlainTextEdit):
            return w.toPlainText()
        if isinstance(w, QLineEdit):
            return w.text()
        raise TypeError(type(w))

    def set_value(self, value: Any) -> None:
        w = self.editor
        w.blockSignals(True)
        try:
            if isinstance(w, QSpinBox):
                w.setValue(int(value))
            elif isinstance(w, QDoubleSpinBox):
                w.setValue(float(value))
            elif isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QComboBox):
                index = w.findData(value)
                if index >= 0:
                    w.setCurrentIndex(index)
            elif isinstance(w, QPlainTextEdit):
                if w.toPlainText() != value:
                    w.setPlainText(str(value))
            elif isinstance(w, QLineEdit):
                w.setText(str(value))
        finally:
            w.blockSignals(False)


class PropertyEditor(QWidget):
    """Edits the settings of the source ``name`` (and lists its filters); with ``filter_index``,
    the settings of that filter of the source instead."""

    def __init__(self, studio: Studio, name: str, parent: QWidget | None = None,
                 filter_index: int | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self.name = name
        cfg = studio.collection.source(name)
        self.type_id = cfg.type_id
        self.filter_index = filter_index
        self.filter_type = cfg.filters[filter_index].type_id if filter_index is not None else None
        self.filters: FilterListEditor | None = None
        self.fields: dict[str, _Field] = {}
        self.applied = 0  # accepted edits sent to the engine
        self.language = translator().language  # labels are in this language; rebuilt when it changes
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)  # labels above fields: fits a narrow dock
        for spec in self._specs():
            field = self._make_field(spec)
            self.fields[spec.name] = field
            label = QLabel(tr(spec.label or spec.name), self)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
            form.addRow(label, self._row(field))
        if filter_index is None:
            self.filters = FilterListEditor(studio, name, self)
            form.addRow(self.filters)
        self.load()

    # ---- what is edited: the source's settings, or one of its filters' ---------------------------
    def _specs(self) -> tuple[PropertySpec, ...]:
        if self.filter_type is not None:
            return get_filter_type(self.filter_type).properties
        return get_type(self.type_id).properties

    def _settings(self) -> dict[str, Any]:
        """The model's current settings (call with the collection's lock held)."""
        cfg = self.studio.collection.sources.get(self.name)
        if cfg is None:
            return {}
        if self.filter_index is None:
            return dict(cfg.settings)
        if self.filter_index < len(cfg.filters) and cfg.filters[self.filter_index].type_id == self.filter_type:
            return dict(cfg.filters[self.filter_index].settings)
        return {}

    def _validate(self, merged: dict[str, Any]) -> None:
        """The type's own cross-field rules (and, for filters, what only the file can tell)."""
        if self.filter_type is None:
            get_type(self.type_id).validate(merged)
            return
        ftype = get_filter_type(self.filter_type)
        checked = ftype.validate(merged)
        if ftype.check is not None:
            ftype.check(checked)

    def _send(self, name: str, value: Any) -> None:
        if self.filter_index is None:
            self.studio.submit(cmd.UpdateSource(self.name, {name: value}))
            return
        col = self.studio.collection
        with col.lock:
            filters = list(col.source(self.name).filters)
        i = self.filter_index
        if i < len(filters):
            filters[i] = make_config(filters[i].type_id, {**filters[i].settings, name: value}, filters[i].enabled)
            self.studio.submit(cmd.SetSourceFilters(self.name, tuple(filters)))

    # ---- building ---------------------------------------------------------------------------------
    def _make_field(self, spec: PropertySpec) -> _Field:
        error = QLabel(self)
        error.setObjectName("fieldError")
        error.setTextFormat(Qt.TextFormat.PlainText)
        error.setWordWrap(True)
        error.hide()
        kind = spec.kind
        editor: QWidget
        if kind is PropertyKind.INT:
            spin = QSpinBox(self)
            spin.setRange(int(spec.minimum) if spec.minimum is not None else -INT_LIMIT,
                          int(spec.maximum) if spec.maximum is not None else INT_LIMIT)
            spin.setKeyboardTracking(False)
            editor = spin
        elif kind is PropertyKind.FLOAT:
            dspin = QDoubleSpinBox(self)
            dspin.setDecimals(3)
            dspin.setRange(spec.minimum if spec.minimum is not None else -FLOAT_LIMIT,
                           spec.maximum if spec.maximum is not None else FLOAT_LIMIT)
            dspin.setKeyboardTracking(False)
            editor = dspin
        elif kind is PropertyKind.BOOL:
            editor = QCheckBox(self)
        elif kind is PropertyKind.ENUM:
            combo = QComboBox(self)
            labels = spec.choice_labels if len(spec.choice_labels) == len(spec.choices) else spec.choices
            for choice, label in zip(spec.choices, labels, strict=True):
                combo.addItem(tr(label), choice)
            editor = combo
        elif kind is PropertyKind.TEXT:
            text = QPlainTextEdit(self)
            text.setTabChangesFocus(True)
            text.setFixedHeight(72)
            editor = text
        else:  # STRING, COLOR, PATH: a line edit
            editor = QLineEdit(self)
        field = _Field(spec, editor, error)
        if kind in (PropertyKind.STRING, PropertyKind.TEXT):
            warning = QLabel(self)
            warning.setObjectName("fieldWarning")
            warning.setTextFormat(Qt.TextFormat.PlainText)
            warning.setWordWrap(True)
            warning.hide()
            field.warning = warning
        self._connect(field)
        return field

    def _connect(self, field: _Field) -> None:
        w = field.editor
        commit = lambda *_: self.commit(field.spec.name)  # noqa: E731 - tiny adapter
        if isinstance(w, QSpinBox | QDoubleSpinBox):
            w.valueChanged.connect(commit)
        elif isinstance(w, QCheckBox):
            w.toggled.connect(commit)
        elif isinstance(w, QComboBox):
            w.currentIndexChanged.connect(commit)
        elif isinstance(w, QPlainTextEdit):
            timer = QTimer(w)
            timer.setSingleShot(True)
            timer.setInterval(TEXT_COMMIT_MS)
            timer.timeout.connect(commit)
            w.textChanged.connect(timer.start)
        elif isinstance(w, QLineEdit):
            w.editingFinished.connect(commit)

    def _row(self, field: _Field) -> QWidget:
        row = QWidget(self)
        outer = QVBoxLayout(row)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        line = QHBoxLayout()
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(field.editor, 1)
        spec = field.spec
        if spec.kind is PropertyKind.COLOR:
            pick = QToolButton(row)
            pick.setToolTip(tr("Choose colour"))
            pick.clicked.connect(lambda _=False: self._pick_color(field))
            field.swatch = pick
            line.addWidget(pick)
        elif spec.kind is PropertyKind.PATH:
            browse = QToolButton(row)
            browse.setIcon(icon("folder"))
            browse.setToolTip(tr("Browse…"))
            browse.clicked.connect(lambda _=False: self._browse(field))
            line.addWidget(browse)
        outer.addLayout(line)
        outer.addWidget(field.error)
        if field.warning is not None:
            outer.addWidget(field.warning)
        return row

    # ---- values -----------------------------------------------------------------------------------
    def load(self) -> None:
        """Show the model's current settings (fields being typed in are left alone)."""
        col = self.studio.collection
        with col.lock:
            settings = self._settings()
        for name, field in self.fields.items():
            if name in settings and not field.editor.hasFocus() and not field.error.isVisible():
                field.set_value(settings[name])
            self._update_swatch(field)
            self._check_compliance(field, settings.get(name))
        if self.filters is not None:
            self.filters.load()

    def commit(self, name: str) -> bool:
        """Validate the field's value; apply it, or show why not. True when it was applied."""
        field = self.fields[name]
        spec = field.spec
        col = self.studio.collection
        try:
            value = spec.coerce(field.value())
            if spec.kind is PropertyKind.PATH and value and not Path(value).is_file():
                raise ValueError(f"{spec.label or spec.name}: file not found: {value}")
            with col.lock:
                col.source(self.name)
                current = self._settings()
            if current.get(name) == value:
                self._show_error(field, None)
                return False
            self._validate({**current, name: value})  # the type's own cross-field rules
        except ValueError as exc:
            self._show_error(field, str(exc))
            return False
        self._show_error(field, None)
        self._check_compliance(field, value)
        self._send(name, value)
        self.applied += 1
        self._update_swatch(field)
        return True

    def _check_compliance(self, field: _Field, value: Any) -> None:
        """Extreme words (Advertising Law) in on-screen text: a warning, never a block."""
        if field.warning is None:
            return
        hits = default_checker().check(value) if isinstance(value, str) and value else []
        words = "、".join(dict.fromkeys(h.word for h in hits))
        field.warning.setText(tr("Advertising law: extreme words {words}").format(words=words) if hits else "")
        field.warning.setVisible(bool(hits))

    def _show_error(self, field: _Field, message: str | None) -> None:
        field.error.setText(message or "")
        field.error.setVisible(message is not None)
        field.editor.setProperty("invalid", message is not None)
        repolish(field.editor)

    def _update_swatch(self, field: _Field) -> None:
        swatch = field.swatch
        if swatch is None:
            return
        color = _qcolor(field.value())
        swatch.setStyleSheet(
            f"background-color: {color.name(QColor.NameFormat.HexArgb)}; border: 1px solid #8b909a;"
            if color.isValid() else "")

    def _pick_color(self, field: _Field) -> None:
        start = _qcolor(field.value())
        chosen = QColorDialog.getColor(start if start.isValid() else QColor("white"), self, tr("Choose colour"),
                                       QColorDialog.ColorDialogOption.ShowAlphaChannel)
        if chosen.isValid():
            field.editor.blockSignals(True)
            assert isinstance(field.editor, QLineEdit)
            field.editor.setText(chosen.name(QColor.NameFormat.HexArgb).upper())
            field.editor.blockSignals(False)
            self.commit(field.spec.name)

    def _browse(self, field: _Field) -> None:
        current = str(field.value())
        path, _ = QFileDialog.getOpenFileName(self, tr("Choose a file"), str(Path(current).parent) if current else "",
                                              field.spec.file_filter or tr("All files (*)"))
        if path:
            assert isinstance(field.editor, QLineEdit)
            field.editor.setText(path)
            self.commit(field.spec.name)


def _qcolor(value: Any) -> QColor:
    """"#AARRGGBB" / "#RRGGBB" (the spec's format, also Qt's) -> QColor; invalid when not a colour."""
    return QColor(value) if isinstance(value, str) and QColor.isValidColorName(value) else QColor()


class FilterListEditor(QWidget):
    """A source's video filters in order (top runs first): add, remove, move, switch on/off, and
    the selected filter's settings below. Every change sends the whole new list."""

    def __init__(self, studio: Studio, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self.name = name
        self.settings: PropertyEditor | None = None
        self._shown: tuple[str, ...] = ()  # filter type ids the list shows, in order
        self._want_row: int | None = None  # the row to select once the model shows an edit
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        title = QLabel(tr("Filters"), self)
        title.setObjectName("sectionTitle")
        layout.addWidget(title)
        self.list = QListWidget(self)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setMaximumHeight(120)
        self.list.currentRowChanged.connect(lambda _row: self._show_settings())
        self.list.itemChanged.connect(self._toggled)
        layout.addWidget(self.list)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        self.type_box = QComboBox(self)
        for ftype in all_filter_types():
            self.type_box.addItem(tr(ftype.name), ftype.id)
        buttons.addWidget(self.type_box, 1)
        self.add_button = self._tool("add", tr("Add filter"), self.add_selected_type)
        self.remove_button = self._tool("remove", tr("Remove filter"), self.remove_current)
        self.up_button = self._tool("up", tr("Move filter up"), lambda: self.move_current(-1))
        self.down_button = self._tool("down", tr("Move filter down"), lambda: self.move_current(1))
        for b in (self.add_button, self.remove_button, self.up_button, self.down_button):
            buttons.addWidget(b)
        layout.addLayout(buttons)
        # filters the engine skips (a LUT file gone since the show was saved): said, never hidden
        self.problems = QLabel(self)
        self.problems.setObjectName("fieldError")
        self.problems.setTextFormat(Qt.TextFormat.PlainText)
        self.problems.setWordWrap(True)
        self.problems.hide()
        layout.addWidget(self.problems)
        self._settings_host = QVBoxLayout()
        self._settings_host.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._settings_host)
        self._problem_timer = QTimer(self)
        self._problem_timer.setInterval(1000)  # the engine builds a chain on its next tick: look again
        self._problem_timer.timeout.connect(self.show_problems)
        self._problem_timer.start()

    def show_problems(self) -> None:
        """Show why filters are skipped on this source (from the engine's filter bank)."""
        if not self.isVisible() and not self.problems.isVisible():
            return
        errors = self.studio.filters.errors(self.name) if self.current_filters() else []
        text = "\n".join(tr("Filter skipped: {reason}").format(reason=e) for e in errors)
        if text != self.problems.text():
            self.problems.setText(text)
        self.problems.setVisible(bool(errors))

    def _tool(self, icon_name: str, tip: str, slot: Any) -> QToolButton:
        button = QToolButton(self)
        button.setIcon(icon(icon_name))
        button.setToolTip(tip)
        button.clicked.connect(lambda _=False: slot())
        return button

    def current_filters(self) -> tuple[FilterConfig, ...]:
        col = self.studio.collection
        with col.lock:
            cfg = col.sources.get(self.name)
            return cfg.filters if cfg is not None else ()

    def load(self) -> None:
        """Show the model's filter list (keeps the selection where it can)."""
        filters = self.current_filters()
        shown = tuple(f.type_id for f in filters)
        row = self.list.currentRow()
        if self._want_row is not None and shown != self._shown:  # our edit has landed
            row, self._want_row = self._want_row, None
        self.list.blockSignals(True)
        try:
            self.list.clear()
            for f in filters:
                try:
                    label = tr(get_filter_type(f.type_id).name)
                except ValueError:
                    label = f.type_id
                item = QListWidgetItem(label)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if f.enabled else Qt.CheckState.Unchecked)
                self.list.addItem(item)
            if filters:
                self.list.setCurrentRow(min(max(row, 0), len(filters) - 1))
        finally:
            self.list.blockSignals(False)
        if shown != self._shown or self.settings is None or self.settings.filter_index != self.list.currentRow():
            self._shown = shown
            self._show_settings()
        else:
            self.settings.load()
        has = bool(filters)
        self.remove_button.setEnabled(has)
        self.up_button.setEnabled(has)
        self.down_button.setEnabled(has)

    def _show_settings(self) -> None:
        if self.settings is not None:
            self.settings.hide()
            self.settings.deleteLater()
            self.settings = None
        row = self.list.currentRow()
        if 0 <= row < len(self.current_filters()):
            self.settings = PropertyEditor(self.studio, self.name, self, filter_index=row)
            self._settings_host.addWidget(self.settings)
            self.settings.show()

    def _send(self, filters: list[FilterConfig]) -> None:
        self.studio.submit(cmd.SetSourceFilters(self.name, tuple(filters)))

    def add_selected_type(self) -> None:
        type_id = self.type_box.currentData()
        filters = list(self.current_filters())
        filters.append(make_config(str(type_id)))
        self._want_row = len(filters) - 1  # selected once the model shows it
        self._send(filters)

    def remove_current(self) -> None:
        filters = list(self.current_filters())
        row = self.list.currentRow()
        if 0 <= row < len(filters):
            del filters[row]
            self._send(filters)

    def move_current(self, step: int) -> None:
        filters = list(self.current_filters())
        row = self.list.currentRow()
        to = row + step
        if 0 <= row < len(filters) and 0 <= to < len(filters):
            filters[row], filters[to] = filters[to], filters[row]
            self._want_row = to
            self._send(filters)

    def _toggled(self, item: QListWidgetItem) -> None:
        row = self.list.row(item)
        filters = list(self.current_filters())
        if 0 <= row < len(filters):
            on = item.checkState() == Qt.CheckState.Checked
            if filters[row].enabled != on:
                f = filters[row]
                filters[row] = FilterConfig(f.type_id, f.settings, on)
                self._send(filters)
