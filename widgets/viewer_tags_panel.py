"""The report window's viewer tags tab: tag the viewers of the chosen sessions (or all of them) with
the rules (the built-in set or a JSON file), see each tag's segment size, export CSV for the CRM.

Reading the sessions runs on a ``tags-worker`` thread; the result crosses to the UI by a Qt signal.
Viewer nicknames are shown as plain text (table items, never rich text).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.report.tag_rules import Rule, default_rules, load_rules
from studio.report.viewer_tags import TaggedViewer, segments, tag_viewers, viewer_facts, write_tags_csv
from widgets.i18n import bind, on_change, tr
from widgets.plain_text import tooltip

COLUMNS = ("Platform", "User", "Nickname", "Tags", "Sessions", "Episodes watched", "Stayed into live",
           "Products clicked", "Gift value (yuan)")


class _Signals(QObject):
    done = Signal(object)  # list[TaggedViewer] or the Exception


class ViewerTagsPanel(QWidget):
    """``sessions()``: the session databases chosen in the window (all of them with "All sessions")."""

    tagged_ready = Signal(int)  # viewers tagged (-1: it failed; the status line says why)

    def __init__(self, sessions: Callable[[], list[Path]], all_sessions: Callable[[], list[Path]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._sessions = sessions
        self._all_sessions = all_sessions
        self.rules: list[Rule] = default_rules()
        self.rules_path: Path | None = None
        self.tagged: list[TaggedViewer] = []
        self._thread: threading.Thread | None = None
        self._signals = _Signals()
        self._signals.done.connect(self._on_done)

        self.all_box = QCheckBox(self)
        bind(self.all_box, "setText", "All sessions (tags across sessions)")
        self.run_button = self._button("Tag Viewers", self.run)
        self.rules_button = self._button("Rules…", lambda: self.choose_rules())
        self.export_button = self._button("Export CSV…", lambda: self.export_csv())
        top = QHBoxLayout()
        top.addWidget(self.all_box)
        for b in (self.run_button, self.rules_button, self.export_button):
            top.addWidget(b)
        top.addStretch(1)
        self.rules_label = QLabel(self)
        self.rules_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status = QLabel(self)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.segments = QListWidget(self)
        self.segments.setMaximumWidth(240)
        self.segments.itemSelectionChanged.connect(self._fill_table)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setColumnWidth(3, 320)  # the tags: the column a CRM export is about
        on_change(self.table, lambda: self.table.setHorizontalHeaderLabels([tr(c) for c in COLUMNS]))
        on_change(self.rules_label, self._show_rules_name)
        body = QHBoxLayout()
        body.addWidget(self.segments)
        body.addWidget(self.table, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.rules_label)
        layout.addLayout(body, 1)
        layout.addWidget(self.status)
        self._update_buttons()

    def _button(self, text: str, slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(self)
        bind(button, "setText", text)
        button.clicked.connect(lambda _=False: slot())
        return button

    def _show_rules_name(self) -> None:
        name = self.rules_path.name if self.rules_path else tr("built-in")
        self.rules_label.setText(tr("Rules: {name} ({count})").format(name=name, count=len(self.rules)))

    def _update_buttons(self) -> None:
        busy = self._thread is not None
        self.run_button.setEnabled(not busy)
        self.export_button.setEnabled(not busy and bool(self.tagged))

    def choose_rules(self, path: Path | None = None) -> bool:
        if path is None:
            chosen, _ = QFileDialog.getOpenFileName(self, tr("Rules…"), "", "JSON (*.json)")
            if not chosen:
                return False
            path = Path(chosen)
        try:
            self.rules = load_rules(path)
        except ValueError as exc:
            self.status.setText(str(exc))
            return False
        self.rules_path = path
        self._show_rules_name()
        return True

    def run(self) -> bool:
        if self._thread is not None:
            return False
        paths = self._all_sessions() if self.all_box.isChecked() else self._sessions()
        if not paths:
            self.status.setText(tr("Choose one or more sessions first"))
            return False
        rules = list(self.rules)

        def work() -> None:
            try:
                result: Any = tag_viewers(viewer_facts(paths), rules)
            except Exception as exc:  # a damaged database: said in the status line
                result = exc
            self._signals.done.emit(result)

        self.status.setText(tr("Reading {count} session(s)…").format(count=len(paths)))
        self._thread = threading.Thread(target=work, name="tags-worker", daemon=True)
        self._thread.start()
        self._update_buttons()
        return True

    def _on_done(self, result: object) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        if isinstance(result, Exception):
            self.status.setText(tr("Could not read the session: {error}").format(error=result))
            self._update_buttons()
            self.tagged_ready.emit(-1)
            return
        assert isinstance(result, list)
        self.tagged = result
        self.segments.clear()
        everyone = QListWidgetItem(tr("All viewers ({count})").format(count=len(result)))
        everyone.setData(Qt.ItemDataRole.UserRole, "")
        self.segments.addItem(everyone)
        for tag, viewers in segments(result).items():
            item = QListWidgetItem(f"{tag} ({len(viewers)})")
            item.setData(Qt.ItemDataRole.UserRole, tag)
            self.segments.addItem(item)
        self.segments.setCurrentRow(0)
        self._fill_table()
        self.status.setText(tr("{count} viewers tagged").format(count=len(result)))
        self._update_buttons()
        self.tagged_ready.emit(len(result))

    def chosen_tag(self) -> str | None:
        items = self.segments.selectedItems()
        tag = items[0].data(Qt.ItemDataRole.UserRole) if items else ""
        return str(tag) or None

    def _fill_table(self) -> None:
        tag = self.chosen_tag()
        shown = [v for v in self.tagged if tag is None or tag in v.tags]
        self.table.setRowCount(len(shown))
        for r, v in enumerate(shown):
            f = v.facts
            clicks = ", ".join(f"{p} x{n}" for p, n in sorted(f.clicks.items()))
            values = (f.platform, f.user, f.nick, " ".join(v.tags), len(f.sessions), len(f.watched),
                      tr("yes") if f.stayed_into_live else tr("no"), clicks, f"{f.gift_value:g}")
            for c, value in enumerate(values):
                item = QTableWidgetItem(str(value))
                item.setToolTip(tooltip(str(value)))  # viewer text (nicks, product names): escaped
                self.table.setItem(r, c, item)

    def export_csv(self, path: Path | None = None) -> Path | None:
        """The chosen segment (or everyone) as CSV for the CRM (UTF-8 with BOM, formula-safe)."""
        if not self.tagged:
            return None
        tag = self.chosen_tag()
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(self, tr("Export CSV…"), f"{tag or 'viewers'}.csv", "CSV (*.csv)")
            if not chosen:
                return None
            path = Path(chosen)
        try:
            return write_tags_csv(self.tagged, path, tag)
        except OSError as exc:
            self.status.setText(str(exc))
            return None

    def shutdown(self) -> None:
        if self._thread is not None:
            self._thread.join(30)  # a worker must not outlive the window it reports to
            self._thread = None
