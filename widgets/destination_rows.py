"""Per-destination rows: name, state, bitrate, dropped frames, reconnects (stats and controls docks).

The rows bind to ``DestinationEvents`` (emitted on writer, net and clock threads): a small bridge
QObject re-emits each ``DestinationStats`` as a Qt signal, so the labels change on the UI thread.
With ``with_buttons`` each row has Start/Stop and the panel Start all/Stop all (the controls dock);
the buttons only emit signals -- the binding starts and stops destinations through the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from studio.outputs.destinations import DestinationEvents, DestinationStats
from studio.outputs.whip_events import OutputStatus
from studio.secrets import redact
from widgets.i18n import bind, on_change, tr

STATE_TEXT = {
    OutputStatus.IDLE: "Idle",
    OutputStatus.CONNECTING: "Connecting…",
    OutputStatus.LIVE: "● LIVE",
    OutputStatus.RECONNECTING: "Reconnecting",
    OutputStatus.FAILED: "Failed",
    OutputStatus.STOPPED: "Stopped",
}
LEVEL = {OutputStatus.LIVE: "live", OutputStatus.CONNECTING: "warn", OutputStatus.RECONNECTING: "warn",
         OutputStatus.FAILED: "bad"}


class _Bridge(QObject):
    changed = Signal(object)
    removed = Signal(str)


def figures_text(stats: DestinationStats) -> str:
    return tr("{kbps} kb/s · dropped {dropped} · reconnects {reconnects}").format(
        kbps=f"{stats.bitrate_kbps:.0f}", dropped=stats.dropped_frames, reconnects=stats.reconnects)


class DestinationRows(QWidget):
    start_requested = Signal(str)  # destination id
    stop_requested = Signal(str)
    start_all_requested = Signal()
    stop_all_requested = Signal()

    def __init__(self, parent: QWidget | None = None, with_buttons: bool = False) -> None:
        super().__init__(parent)
        self._buttons = with_buttons
        self._bridge = _Bridge(self)
        self._bridge.changed.connect(self.show_stats)
        self._bridge.removed.connect(self.remove)
        self._disconnects: list[Callable[[], None]] = []
        self.rows: dict[str, tuple[QLabel, QLabel, QLabel, QPushButton | None]] = {}
        self._stats: dict[str, DestinationStats] = {}
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel(self)
        self.title.setObjectName("hint")
        bind(self.title, "setText", "Destinations")
        column.addWidget(self.title)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(8)
        column.addLayout(self.grid)
        self.start_all: QPushButton | None = None
        self.stop_all: QPushButton | None = None
        if with_buttons:
            pair = QHBoxLayout()
            start_all, stop_all = QPushButton(self), QPushButton(self)
            bind(start_all, "setText", "Start all")
            start_all.clicked.connect(lambda _=False: self.start_all_requested.emit())
            bind(stop_all, "setText", "Stop all")
            stop_all.clicked.connect(lambda _=False: self.stop_all_requested.emit())
            pair.addWidget(start_all)
            pair.addWidget(stop_all)
            self.start_all, self.stop_all = start_all, stop_all
            column.addLayout(pair)
        self.setVisible(False)  # until a destination exists
        on_change(self, self._retranslate)

    # ---- binding (any thread) -------------------------------------------------------------------
    def bind_events(self, events: DestinationEvents) -> None:
        self._disconnects += [events.changed.connect(self._bridge.changed.emit),
                              events.removed.connect(self._bridge.removed.emit)]

    def unbind(self) -> None:
        for disconnect in self._disconnects:
            disconnect()
        self._disconnects.clear()

    # ---- UI thread ----------------------------------------------------------------------------------
    def show_stats(self, stats: DestinationStats) -> None:
        if stats.id not in self.rows:
            self._add_row(stats.id)
        self._stats[stats.id] = stats
        self._render(stats.id)
        self.setVisible(True)

    def remove(self, dest_id: str) -> None:
        stats = self._stats.get(dest_id)
        if stats is not None and self._buttons:  # the controls keep the row: it can start again
            self.show_stats(DestinationStats(stats.id, stats.name, stats.kind, OutputStatus.STOPPED))
            return
        row = self.rows.pop(dest_id, None)
        self._stats.pop(dest_id, None)
        if row is not None:
            for widget in row:
                if widget is not None:
                    self.grid.removeWidget(widget)
                    widget.deleteLater()
        self.setVisible(bool(self.rows))

    def _add_row(self, dest_id: str) -> None:
        r = len(self.rows)
        name, state, figures = QLabel(self), QLabel(self), QLabel(self)
        for label in (name, state, figures):
            label.setTextFormat(Qt.TextFormat.PlainText)  # names and messages come from users and servers
        figures.setObjectName("hint")
        button: QPushButton | None = None
        self.grid.addWidget(name, r, 0)
        self.grid.addWidget(state, r, 1)
        self.grid.addWidget(figures, r, 2)
        if self._buttons:
            button = QPushButton(self)
            button.clicked.connect(lambda _=False, d=dest_id: self._toggle(d))
            self.grid.addWidget(button, r, 3)
        self.rows[dest_id] = (name, state, figures, button)

    def _toggle(self, dest_id: str) -> None:
        stats = self._stats.get(dest_id)
        running = stats is not None and stats.state not in (OutputStatus.STOPPED, OutputStatus.FAILED,
                                                             OutputStatus.IDLE)
        (self.stop_requested if running else self.start_requested).emit(dest_id)

    def _render(self, dest_id: str) -> None:
        stats = self._stats[dest_id]
        name, state, figures, button = self.rows[dest_id]
        name.setText(f"{stats.kind.value.upper()} {stats.name}")
        text = tr(STATE_TEXT[stats.state])
        if stats.state is OutputStatus.RECONNECTING and stats.retry_in_s:
            text = tr("Reconnecting in {n} s").format(n=max(1, round(stats.retry_in_s)))
        state.setText(text)
        state.setToolTip(redact(stats.message))
        state.setProperty("level", LEVEL.get(stats.state, "ok"))
        figures.setText(figures_text(stats) if stats.state is OutputStatus.LIVE else redact(stats.message)[:80])
        if button is not None:
            running = stats.state not in (OutputStatus.STOPPED, OutputStatus.FAILED, OutputStatus.IDLE)
            button.setText(tr("Stop") if running else tr("Start"))

    def _retranslate(self) -> None:
        for dest_id in self._stats:
            self._render(dest_id)
