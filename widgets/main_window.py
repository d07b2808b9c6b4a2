"""The studio's main window: for now the program picture and a status line."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget

from studio.engine import Studio
from studio.events import ClockStats, SourceProblem
from widgets.bridge import EngineBridge
from widgets.frame_view import FrameView


class MainWindow(QMainWindow):
    def __init__(self, studio: Studio) -> None:
        super().__init__()
        self.studio = studio
        self.setWindowTitle(f"Drama Live Studio — {studio.collection.name}")
        self.bridge = EngineBridge(studio, self)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        self.program_view = FrameView(studio.program, central)
        layout.addWidget(self.program_view, 1)
        self.status = QLabel(central)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.status)
        self.setCentralWidget(central)
        self.bridge.stats.connect(self._on_stats)
        self.bridge.source_problem.connect(self._on_problem)
        self.resize(1280, 800)

    def _on_stats(self, s: ClockStats) -> None:
        self.status.setText(f"{s.fps:.1f} fps · render {s.render_ms_p50:.1f} ms · lagged {s.lagged}")

    def _on_problem(self, p: SourceProblem) -> None:
        if p.message:
            self.statusBar().showMessage(f"{p.source}: {p.message}", 10_000)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt naming
        self.bridge.close()
        super().closeEvent(event)
