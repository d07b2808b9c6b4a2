"""The director's rundown dock: open a rundown and start or stop it on air, see what is running,
how long until the next marker or branch, the product moments coming up, and a "Next" override.
Plain text labels only.

It pulls ``RundownExecutor.status()`` on a 4 Hz QTimer (a snapshot of plain values, safe on any
thread), as the frame views pull frames: the clock thread is never waited on. Starting a rundown
reads files (the rundown, the clips' lengths), so it runs on a worker thread and reports back
through a queued Qt signal. Before that, ``before_start`` (the window's pre-live check) opens every
clip the rundown can reach, on its own worker, and lets the director cancel or go on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.rundown.events import RundownStatus
from studio.rundown.executor import RundownExecutor
from widgets.i18n import bind, on_change, tr

REFRESH_MS = 250
UPCOMING_SHOWN = 3

StartRundown = Callable[[Path], RundownExecutor]
# (rundown file, go, cancel) -> False when no check could start; calls go or cancel later (UI thread)
BeforeStart = Callable[[Path, Callable[[], None], Callable[[], None]], bool]


def _secs(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


class _Starter(QObject):
    """Carries a worker thread's result back to the UI thread."""

    done = Signal(object, str)  # (executor or None, error message)


class RundownDock(QDockWidget):
    def __init__(self, executor: RundownExecutor | None = None, parent: QWidget | None = None, *,
                 start: StartRundown | None = None, stop: Callable[[], None] | None = None,
                 path: Path | None = None, before_start: BeforeStart | None = None) -> None:
        super().__init__(tr("Rundown"), parent)
        bind(self, "setWindowTitle", "Rundown")
        self.setObjectName("rundown-dock")
        self.executor: RundownExecutor | None = None
        self.path = path
        self._start, self._stop = start, stop
        self._before_start = before_start
        self._checking = False  # the pre-live check runs (or its dialog waits for the director)
        self._starter = _Starter(self)
        self._starter.done.connect(self._started)
        self._starting: threading.Thread | None = None
        body = QWidget(self)
        self.file_label = QLabel(body)
        self.open_button = QPushButton(tr("Open…"), body)
        bind(self.open_button, "setText", "Open…")
        self.open_button.clicked.connect(lambda _=False: self.choose_file())
        self.start_button = QPushButton(tr("Start show"), body)
        self.start_button.clicked.connect(lambda _=False: self.toggle())
        self.segment_label = QLabel(body)
        self.position_label = QLabel("", body)
        self.next_label = QLabel("", body)
        self.branch_label = QLabel("", body)
        self.products_label = QLabel("", body)
        self.message_label = QLabel("", body)
        for label in (self.file_label, self.segment_label, self.position_label, self.next_label,
                      self.branch_label, self.products_label, self.message_label):
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
        self.target = QComboBox(body)
        self.next_button = QPushButton(tr("Next ▶"), body)
        bind(self.next_button, "setText", "Next ▶")
        self.next_button.setToolTip(tr("End the running segment now (a branch takes the poll's winner)"))
        self.next_button.clicked.connect(lambda _=False: self.request_next())
        top = QHBoxLayout()
        top.addWidget(self.file_label, 1)
        top.addWidget(self.open_button)
        top.addWidget(self.start_button)
        row = QHBoxLayout()
        row.addWidget(self.target, 1)
        row.addWidget(self.next_button)
        layout = QVBoxLayout(body)
        layout.addLayout(top)
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
        on_change(self, self.refresh)
        self.set_executor(executor)

    # ---- controls -----------------------------------------------------------------------------
    def choose_file(self) -> None:
        start_dir = str(self.path.parent) if self.path else ""
        name, _ = QFileDialog.getOpenFileName(self, tr("Open rundown"), start_dir, tr("Rundowns (*.json)"))
        if name:
            self.path = Path(name)
            self.refresh()

    def toggle(self) -> None:
        if self.executor is not None and self.executor.state in ("starting", "running"):
            self.stop_show()
        else:
            self.start_show()

    def start_show(self) -> None:
        if self._start is None or self.path is None or self._starting is not None or self._checking:
            return
        path = self.path
        if self._before_start is None:
            self._launch(path)
            return
        self._checking = True
        self.start_button.setEnabled(False)
        self.message_label.setText(tr("Checking every clip the show can reach…"))
        if not self._before_start(path, lambda: self._checked(path, True), lambda: self._checked(path, False)):
            self._checked(path, False)

    def _checked(self, path: Path, go: bool) -> None:
        self._checking = False
        if go:
            self._launch(path)
        else:
            self.message_label.setText(tr("Not started"))
            self.refresh()

    def _launch(self, path: Path) -> None:
        start = self._start
        if start is None:
            return
        self.start_button.setEnabled(False)
        self.message_label.setText(tr("Starting…"))

        def work() -> None:
            try:
                self._starter.done.emit(start(path), "")
            except (OSError, ValueError) as exc:
                self._starter.done.emit(None, str(exc))

        self._starting = threading.Thread(target=work, name="rundown-start", daemon=True)
        self._starting.start()

    def _started(self, executor: RundownExecutor | None, error: str) -> None:
        if self._starting is not None:
            self._starting.join()
            self._starting = None
        self.start_button.setEnabled(True)
        if executor is None:
            self.message_label.setText(error)
        else:
            self.set_executor(executor)
            self.message_label.setText("")

    def stop_show(self) -> None:
        if self._stop is not None:
            self._stop()
        self.set_executor(None)

    def set_executor(self, executor: RundownExecutor | None) -> None:
        self.executor = executor
        self.target.clear()
        self.target.addItem(tr("(as planned)"), None)
        if executor is not None:
            for s in executor.rundown.segments:
                self.target.addItem(f"{s.title} [{tr(s.kind)}]", s.id)
        self.refresh()

    def request_next(self) -> None:
        if self.executor is None:
            return
        try:
            self.executor.next(self.target.currentData())
        except ValueError as exc:
            self.message_label.setText(str(exc))
            return
        self.message_label.setText(tr("Next requested"))

    # ---- display --------------------------------------------------------------------------------
    def refresh(self) -> None:
        executor = self.executor
        running = executor is not None and executor.state in ("starting", "running")
        self.file_label.setText(self.path.name if self.path else tr("No rundown chosen"))
        self.start_button.setText(tr("Stop show") if running else tr("Start show"))
        self.start_button.setEnabled(self._starting is None and not self._checking and (
            running or (self._start is not None and self.path is not None)))
        self.next_button.setEnabled(running)
        if executor is None:
            self.segment_label.setText(tr("No show running"))
            for label in (self.position_label, self.next_label, self.branch_label, self.products_label):
                label.setText("")
            return
        self.show_status(executor.status())

    def show_status(self, st: RundownStatus) -> None:
        if st.segment is None:
            self.segment_label.setText(tr("Show {state}").format(state=tr(st.state)))
            for label in (self.position_label, self.next_label, self.branch_label, self.products_label):
                label.setText("")
            return
        self.segment_label.setText(tr("Now: {title} ({kind})").format(title=st.title, kind=tr(st.kind)))
        self.position_label.setText(tr("At {at} · ends in {left}").format(
            at=f"{st.position_s:.1f} s", left=_secs(st.remaining_s)))
        self.next_label.setText(tr("Next marker: {marker} in {left}").format(
            marker=st.next_marker, left=_secs(st.next_marker_in_s)) if st.next_marker else tr("Next marker: none"))
        self.branch_label.setText(tr("Branch in {left}").format(left=_secs(st.next_branch_in_s))
                                  if st.next_branch_in_s is not None
                                  else tr("Then: {segment}").format(segment=st.next_segment or tr("end of show")))
        products = [tr("{source} ({scene}) in {left}").format(source=p.source, scene=p.scene, left=_secs(p.in_s))
                    for p in st.upcoming_products[:UPCOMING_SHOWN]]
        self.products_label.setText(tr("Products: {list}").format(
            list="; ".join(products) if products else tr("none coming up")))

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt naming
        self._timer.stop()
        super().closeEvent(event)
