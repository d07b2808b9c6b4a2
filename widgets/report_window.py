"""The producer's session reports: the table of past sessions with their key figures, one session's
charts and tables, two sessions compared, and export to HTML/CSV.

Reading a session and drawing its charts (matplotlib, Agg) runs on a ``report-worker`` thread;
results cross to the UI by a Qt signal, so the window never freezes on a long show. Viewer text
(nicknames) is shown as plain text only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.report.across import Comparison, compare, sessions_table
from studio.report.charts import render_charts
from studio.report.export import render_html, summary_rows, write_csv
from studio.report.figures import SessionFigures, load_figures
from studio.sessiondata.store import list_sessions
from widgets.i18n import bind, on_change, tr, translator
from widgets.viewer_tags_panel import ViewerTagsPanel

TABLE_COLUMNS = ("session", "duration_s", "peak_viewers", "unique_viewers", "danmaku", "likes", "votes",
                 "product_clicks", "gift_value", "retention_first_switch", "branches")


class _WorkerSignals(QObject):
    progress = Signal(float, str)
    done = Signal(str, object)  # (job, result or Exception)


class ReportWindow(QWidget):
    """``folder``: the sessions folder (default ``<data>/sessions``)."""

    loaded = Signal(str)  # "sessions" | "report" | "compare" | "error": a job's result is on screen

    def __init__(self, parent: QWidget | None = None, folder: Path | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        bind(self, "setWindowTitle", "Session Reports")
        self.folder = folder
        self.paths: list[Path] = []
        self.figures: SessionFigures | None = None
        self._charts: dict[str, bytes] = {}
        self.comparison: Comparison | None = None
        self.chart_labels: list[QLabel] = []
        self._thread: threading.Thread | None = None
        self._signals = _WorkerSignals()
        self._signals.progress.connect(self._on_progress)
        self._signals.done.connect(self._on_done)

        self.sessions = QTableWidget(0, len(TABLE_COLUMNS), self)
        self.sessions.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.sessions.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.sessions.doubleClicked.connect(lambda _i: self.open_selected())
        self.sessions.itemSelectionChanged.connect(self._update_buttons)
        translator().on_change(self, self._set_headers)
        buttons = QHBoxLayout()
        self.refresh_button = self._button("Refresh", self.refresh, buttons)
        self.open_button = self._button("Open Report", self.open_selected, buttons)
        self.compare_button = self._button("Compare Two", self.compare_selected, buttons)
        self.html_button = self._button("Export HTML…", self.export_html, buttons)
        self.csv_button = self._button("Export CSV…", self.export_csv, buttons)
        buttons.addStretch(1)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.status = QLabel(self)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.verdict = QLabel(self)
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        self.verdict.setWordWrap(True)
        self.summary = QTableWidget(0, 3, self)
        self.summary.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.charts = QWidget(self)
        self.charts_layout = QVBoxLayout(self.charts)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        body = QWidget(scroll)
        body_layout = QVBoxLayout(body)
        body_layout.addWidget(self.verdict)
        body_layout.addWidget(self.summary)
        body_layout.addWidget(self.charts)
        scroll.setWidget(body)

        layout = QVBoxLayout(self)
        layout.addWidget(self.sessions, 1)
        layout.addLayout(buttons)
        row = QHBoxLayout()
        row.addWidget(self.progress)
        row.addWidget(self.status, 1)
        layout.addLayout(row)
        # the viewer tags of the selected sessions (or all) sit beside the report, for the shop's CRM
        self.viewer_tags = ViewerTagsPanel(self.selected_paths, lambda: list_sessions(self.folder), self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(scroll, "")
        self.tabs.addTab(self.viewer_tags, "")
        on_change(self.tabs, self._set_tab_names)
        layout.addWidget(self.tabs, 3)
        self.resize(1000, 800)
        self._update_buttons()

    def _button(self, text: str, slot: Callable[[], object], layout: QHBoxLayout) -> QPushButton:
        button = QPushButton(self)
        bind(button, "setText", text)
        button.clicked.connect(lambda _=False: slot())
        layout.addWidget(button)
        return button

    def _set_headers(self) -> None:
        names = (tr("Session"), tr("Duration (s)"), tr("Peak viewers"), tr("Unique viewers"), tr("Danmaku"),
                 tr("Likes"), tr("Votes"), tr("Product clicks"), tr("Gift value (yuan)"),
                 tr("Retention at the first drama→live switch"), tr("Branches"))
        self.sessions.setHorizontalHeaderLabels(list(names))

    def _set_tab_names(self) -> None:
        self.tabs.setTabText(0, tr("Report"))
        self.tabs.setTabText(1, tr("Viewer Tags"))

    def _update_buttons(self) -> None:
        busy = self._thread is not None
        chosen = len(self.selected_paths())
        self.refresh_button.setEnabled(not busy)
        self.open_button.setEnabled(not busy and chosen == 1)
        self.compare_button.setEnabled(not busy and chosen == 2)
        self.html_button.setEnabled(not busy and self.figures is not None)
        self.csv_button.setEnabled(not busy and self.figures is not None)

    def selected_paths(self) -> list[Path]:
        rows = sorted({i.row() for i in self.sessions.selectionModel().selectedRows()})
        return [self.paths[r] for r in rows if r < len(self.paths)]

    # ---- jobs on the worker thread ----

    def _start(self, job: str, work: Callable[[Callable[[float, str], None]], Any]) -> None:
        if self._thread is not None:
            return
        self.progress.setValue(0)

        def run() -> None:
            try:
                result: Any = work(lambda f, s: self._signals.progress.emit(f, s))
            except Exception as exc:  # a damaged database is shown in the status line
                result = exc
            self._signals.done.emit(job, result)

        self._thread = threading.Thread(target=run, name="report-worker", daemon=True)
        self._thread.start()
        self._update_buttons()

    def refresh(self) -> None:
        self.paths = list_sessions(self.folder)
        paths = list(self.paths)
        self._start("sessions", lambda _p: sessions_table(paths))

    def open_selected(self) -> None:
        paths = self.selected_paths()
        if len(paths) != 1:
            return
        language = translator().translate

        def work(progress: Callable[[float, str], None]) -> tuple[SessionFigures, dict[str, bytes]]:
            figures = load_figures(paths[0], lambda f, s: progress(0.3 * f, s))
            return figures, render_charts(figures, language, lambda f, s: progress(0.3 + 0.7 * f, s))

        self._start("report", work)

    def compare_selected(self) -> None:
        paths = self.selected_paths()
        if len(paths) == 2:
            self._start("compare", lambda _p: compare(paths[0], paths[1]))

    def _on_progress(self, fraction: float, stage: str) -> None:
        self.progress.setValue(int(100 * fraction))
        self.status.setText(stage)

    def _on_done(self, job: str, result: object) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        self.progress.setValue(100)
        if isinstance(result, Exception):
            self.status.setText(tr("Could not read the session: {error}").format(error=result))
            self._update_buttons()
            self.loaded.emit("error")
            return
        if job == "sessions":
            self._show_sessions(result)  # type: ignore[arg-type]
        elif job == "report":
            assert isinstance(result, tuple)
            self._show_report(result[0], result[1])
        elif job == "compare":
            self._show_comparison(result)  # type: ignore[arg-type]
        self.status.setText("")
        self._update_buttons()
        self.loaded.emit(job)

    # ---- showing results ----

    def _show_sessions(self, rows: list[dict[str, object]]) -> None:
        self.sessions.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, key in enumerate(TABLE_COLUMNS):
                value = row.get(key, row.get("error", "") if c == 1 else "")
                self.sessions.setItem(r, c, QTableWidgetItem("" if value is None else str(value)))

    def _fill(self, rows: list[tuple[object, ...]], headers: list[str]) -> None:
        self.summary.setColumnCount(len(headers))
        self.summary.setHorizontalHeaderLabels(headers)
        self.summary.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                self.summary.setItem(r, c, QTableWidgetItem(str(value)))

    def _clear_charts(self) -> None:
        for label in self.chart_labels:
            label.deleteLater()
        self.chart_labels = []

    def _show_report(self, figures: SessionFigures, charts: dict[str, bytes]) -> None:
        self.figures, self.comparison, self._charts = figures, None, charts
        self.verdict.setText(figures.name)
        self._fill([(k, v) for k, v in summary_rows(figures, tr)], [tr("Figure"), tr("Value")])
        self._clear_charts()
        for png in charts.values():
            pixmap = QPixmap()
            pixmap.loadFromData(png, "PNG")
            label = QLabel(self.charts)
            label.setPixmap(pixmap)
            self.charts_layout.addWidget(label)
            self.chart_labels.append(label)

    def _show_comparison(self, comparison: Comparison) -> None:
        self.comparison = comparison
        self.verdict.setText(comparison.verdict(tr))
        rows: list[tuple[object, ...]] = [*comparison.rows(), *comparison.segment_rows()]
        self._fill(rows, [tr("Figure"), comparison.a.name, comparison.b.name])
        self._clear_charts()

    # ---- export ----

    def export_html(self, path: Path | None = None) -> Path | None:
        if self.figures is None:
            return None
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(self, tr("Export HTML…"), f"{self.figures.name}.html", "HTML (*.html)")
            if not chosen:
                return None
            path = Path(chosen)
        path.write_text(render_html(self.figures, tr, self._charts), encoding="utf-8")  # the charts on screen
        return path

    def export_csv(self, folder: Path | None = None) -> list[Path]:
        if self.figures is None:
            return []
        if folder is None:
            chosen = QFileDialog.getExistingDirectory(self, tr("Export CSV…"))
            if not chosen:
                return []
            folder = Path(chosen)
        return write_csv(self.figures, folder)

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        self.viewer_tags.shutdown()
        if self._thread is not None:
            self._thread.join(30)  # a worker must not outlive the window it reports to
            self._thread = None
        super().closeEvent(event)
