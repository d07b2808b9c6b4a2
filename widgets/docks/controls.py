"""The Controls dock: streaming, recording, studio mode and settings.

Streaming and recording are disabled with a tooltip saying why until a running show enables them
(``set_output_available``). Each output button follows a phase (``set_output_phase``): idle
"Start …", starting "Starting…", active "Stop …", stopping "Stopping…". Under each button a status
line says what the output is doing (connecting, live, reconnecting with a countdown, failed with
the reason; the recording's file name and elapsed time). Status texts are kept as functions so a
language switch re-renders them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from studio.outputs.whip_events import OutputState, OutputStatus
from studio.secrets import redact
from widgets.destination_rows import DestinationRows
from widgets.i18n import bind, on_change, tr
from widgets.theme import icon, repolish

UNAVAILABLE = {
    "stream": "Streaming arrives with the WHIP output",
    "record": "Recording arrives with the recorder output",
}
LABELS = {
    "stream": ("Start Streaming", "Stop Streaming"),
    "record": ("Start Recording", "Stop Recording"),
}
BUSY = {"starting": "Starting…", "stopping": "Stopping…"}
# the one accent the theme keeps for "on air", plus the levels the stats use
STATUS_STYLE = 'QLabel[level="live"] { color: #ff6b70; font-weight: bold; }'

Status = Callable[[], tuple[str, str]]  # -> (text, level: ok | warn | bad | live)


def stream_status(state: OutputState | None) -> tuple[str, str]:
    """The stream's status line for an ``OutputState`` (in the current language)."""
    if state is None or state.state in (OutputStatus.IDLE, OutputStatus.STOPPED):
        return "", "ok"
    if state.state is OutputStatus.CONNECTING:
        return tr("Connecting…"), "warn"
    if state.state is OutputStatus.LIVE:
        return tr("● LIVE"), "live"
    if state.state is OutputStatus.RECONNECTING:
        seconds = max(1, math.ceil(state.retry_in_s or 0))
        text = tr("Reconnecting in {n} s").format(n=seconds)
        return (f"{text} — {state.message}" if state.message else text), "warn"
    return tr("Failed: {message}").format(message=state.message or tr("unknown error")), "bad"


def format_elapsed(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def format_size(size: int) -> str:
    if size >= 1_000_000_000:
        return f"{size / 1e9:.2f} GB"
    return f"{size / 1e6:.1f} MB"


def _status_label(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)  # messages come from servers and file names
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setProperty("level", "ok")
    label.hide()
    return label


class ControlsPanel(QWidget):
    studio_mode_toggled = Signal(bool)
    settings_requested = Signal()
    stream_toggled = Signal(bool)
    record_toggled = Signal(bool)

    def __init__(self, studio_mode: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(STATUS_STYLE)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(scroll)
        body = QWidget(scroll)
        scroll.setWidget(body)
        column = QVBoxLayout(body)
        column.setContentsMargins(6, 6, 6, 6)
        column.setSpacing(4)

        self._available = {"stream": False, "record": False}
        self._reasons = dict(UNAVAILABLE)
        self._phases = {"stream": "idle", "record": "idle"}
        self._status: dict[str, Status | None] = {"stream": None, "record": None, "warning": None}
        self.stream = QPushButton(self)
        self.stream.setIcon(icon("stream"))
        self.stream.setCheckable(True)
        self.stream.toggled.connect(self.stream_toggled.emit)
        self.stream.toggled.connect(lambda _on: self._retranslate())
        self.record = QPushButton(self)
        self.record.setIcon(icon("record"))
        self.record.setCheckable(True)
        self.record.toggled.connect(self.record_toggled.emit)
        self.record.toggled.connect(lambda _on: self._retranslate())
        self.studio_mode = QPushButton(self)
        self.studio_mode.setIcon(icon("studio-mode"))
        self.studio_mode.setCheckable(True)
        self.studio_mode.setChecked(studio_mode)
        self.studio_mode.toggled.connect(self.studio_mode_toggled.emit)
        bind(self.studio_mode, "setText", "Studio Mode")
        self.settings = QPushButton(self)
        self.settings.setIcon(icon("settings"))
        self.settings.clicked.connect(lambda _=False: self.settings_requested.emit())
        bind(self.settings, "setText", "Settings")
        self.labels = {"stream": _status_label(body), "record": _status_label(body),
                       "warning": _status_label(body)}

        # buttons full width, each output's status line right under its button (narrow docks too)
        column.addWidget(self.stream)
        column.addWidget(self.labels["stream"])
        column.addWidget(self.record)
        column.addWidget(self.labels["record"])
        column.addWidget(self.labels["warning"])
        self.destinations = DestinationRows(body, with_buttons=True)  # RTMP/SRT/WHIP destinations
        column.addWidget(self.destinations)
        pair = QHBoxLayout()
        pair.setSpacing(6)
        pair.addWidget(self.studio_mode, 1)
        pair.addWidget(self.settings, 1)
        column.addLayout(pair)
        column.addStretch(1)
        on_change(self, self._retranslate)

    # ---- availability and phases ---------------------------------------------------------------
    def set_output_available(self, which: str, available: bool, reason: str = "") -> None:
        """Enable "stream" or "record" (or disable it, saying why)."""
        self._check(which)
        self._available[which] = available
        if reason:
            self._reasons[which] = reason
        self._retranslate()

    def set_output_phase(self, which: str, phase: str) -> None:
        """idle / starting / active / stopping: the button's check state, text and enabled state."""
        self._check(which)
        if phase not in ("idle", "starting", "active", "stopping"):
            raise ValueError(f"unknown output phase {phase!r}")
        self._phases[which] = phase
        button = self.stream if which == "stream" else self.record
        button.blockSignals(True)
        button.setChecked(phase in ("starting", "active"))
        button.blockSignals(False)
        self._retranslate()

    def phase(self, which: str) -> str:
        self._check(which)
        return self._phases[which]

    def _check(self, which: str) -> None:
        if which not in self._available:
            raise ValueError(f"unknown output {which!r} (use stream or record)")

    # ---- status lines ------------------------------------------------------------------------------
    def set_status(self, which: str, status: Status | None) -> None:
        """``which``: stream, record or warning; ``status`` renders (text, level), None hides."""
        if which not in self._status:
            raise ValueError(f"unknown status line {which!r}")
        self._status[which] = status
        self._render_status(which)

    def status_text(self, which: str) -> str:
        label = self.labels[which]
        return label.text() if not label.isHidden() else ""

    def _render_status(self, which: str) -> None:
        label = self.labels[which]
        status = self._status[which]
        text, level = status() if status is not None else ("", "ok")
        text = redact(text)  # status lines quote servers, which may echo the token
        label.setText(text)
        label.setVisible(bool(text))
        if label.property("level") != level:
            label.setProperty("level", level)
            repolish(label)

    # ---- language ----------------------------------------------------------------------------------
    def _retranslate(self) -> None:
        for which, button in (("stream", self.stream), ("record", self.record)):
            start, stop = LABELS[which]
            phase = self._phases[which]
            if phase in BUSY:
                button.setText(tr(BUSY[phase]))
            else:
                button.setText(tr(stop if button.isChecked() else start))
            available = self._available[which]
            button.setEnabled(available and phase not in BUSY)
            button.setToolTip("" if available else tr(self._reasons[which]))
        for which in self._status:
            self._render_status(which)
