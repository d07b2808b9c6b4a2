"""The director's rundown dock: what is running, how long until the next marker or branch, the
product moments coming up, and a "Next" override. Plain text labels only.

It pulls ``RundownExecutor.status()`` on a 4 Hz QTimer (a snapshot of plain values, safe on any
thread), as the frame views pull frames: the clock thread is never waited on.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QComboBox, QDockWidget, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from studio.rundown.events import RundownStatus
from studio.rundown.executor import RundownExecutor

REFRESH_MS = 250
UPCOMING_SHOWN = 3


def _secs(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


class RundownDock(QDockWidget):
    def __init__(self, executor: RundownExecutor | None = None, parent: QWidget | None = None) -> None:
        super().__init__("Rundown", parent)
        self.setObjectName("rundown-dock")
        self.executor: RundownExecutor | None = None
        body = QWidget(self)
        self.segment_label = QLabel("No show running", body)
        self.position_label = QLabel("", body)
        self.next_label = QLabel("", body)
        self.branch_label = QLabel("", body)
        self.products_label = QLabel("", body)
        self.message_label = QLabel("", body)
        for label in (self.segment_label, self.position_label, self.next_label, self.branch_label,
                      self.products_label, self.message_label):
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
        self.target = QComboBox(body)
        self.next_button = QPushButton("Next ▶", body)
        self.next_button.setToolTip("End the running segment now (a branch takes the poll's winner)")
        self.next_button.clicked.connect(lambda _=False: self.request_next())
        row = QHBoxLayout()
        row.addWidget(self.target, 1)
        row.addWidget(self.next_button)
        layout = QVBoxLayout(body)
        for label in (self.segment_label, self.position_label, self.next_label, self.branch_label,
                      self.products_label):
            layout.addWidget(label)
        layout.addLayout(row)
        layout.addWidget(self.message_label)
        layout.addStretch(1)
        self.setWidget(body)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(REFRESH_MS)
        self.set_executor(executor)

    def set_executor(self, executor: RundownExecutor | None) -> None:
        self.executor = executor
        self.target.clear()
        self.target.addItem("(as planned)", None)
        if executor is not None:
            for s in executor.rundown.segments:
                self.target.addItem(f"{s.title} [{s.kind}]", s.id)
        self.refresh()

    def request_next(self) -> None:
        if self.executor is None:
            return
        try:
            self.executor.next(self.target.currentData())
        except ValueError as exc:
            self.message_label.setText(str(exc))
            return
        self.message_label.setText("Next requested")

    def refresh(self) -> None:
        executor = self.executor
        self.next_button.setEnabled(executor is not None and executor.state in ("starting", "running"))
        if executor is None:
            self.segment_label.setText("No show running")
            return
        self.show_status(executor.status())

    def show_status(self, st: RundownStatus) -> None:
        if st.segment is None:
            self.segment_label.setText(f"Show {st.state}")
            for label in (self.position_label, self.next_label, self.branch_label, self.products_label):
                label.setText("")
            return
        self.segment_label.setText(f"Now: {st.title} ({st.kind})")
        self.position_label.setText(f"At {st.position_s:.1f} s · ends in {_secs(st.remaining_s)}")
        self.next_label.setText(f"Next marker: {st.next_marker} in {_secs(st.next_marker_in_s)}"
                                if st.next_marker else "Next marker: none")
        self.branch_label.setText(f"Branch in {_secs(st.next_branch_in_s)}" if st.next_branch_in_s is not None
                                  else f"Then: {st.next_segment or 'end of show'}")
        products = [f"{p.source} ({p.scene}) in {p.in_s:.1f} s" for p in st.upcoming_products[:UPCOMING_SHOWN]]
        self.products_label.setText("Products: " + ("; ".join(products) if products else "none coming up"))

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt naming
        self._timer.stop()
        super().closeEvent(event)
