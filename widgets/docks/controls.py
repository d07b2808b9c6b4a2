"""The Controls dock: streaming, recording, studio mode and settings.

Streaming and recording are disabled with a tooltip saying what brings them; the outputs being
built elsewhere enable them through ``set_output_available``.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

from widgets.i18n import bind, on_change, tr
from widgets.theme import icon

UNAVAILABLE = {
    "stream": "Streaming arrives with the WHIP output",
    "record": "Recording arrives with the recorder output",
}


class ControlsPanel(QWidget):
    studio_mode_toggled = Signal(bool)
    settings_requested = Signal()
    stream_toggled = Signal(bool)
    record_toggled = Signal(bool)

    def __init__(self, studio_mode: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        self._available = {"stream": False, "record": False}
        self._reasons = dict(UNAVAILABLE)
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
        for b in (self.stream, self.record, self.studio_mode, self.settings):
            layout.addWidget(b)
        layout.addStretch(1)
        on_change(self, self._retranslate)

    def set_output_available(self, which: str, available: bool, reason: str = "") -> None:
        """Enable "stream" or "record" (or disable it, saying why)."""
        if which not in self._available:
            raise ValueError(f"unknown output {which!r} (use stream or record)")
        self._available[which] = available
        if reason:
            self._reasons[which] = reason
        self._retranslate()

    def _retranslate(self) -> None:
        for which, button, start, stop in (
            ("stream", self.stream, "Start Streaming", "Stop Streaming"),
            ("record", self.record, "Start Recording", "Stop Recording"),
        ):
            button.setText(tr(stop if button.isChecked() else start))
            available = self._available[which]
            button.setEnabled(available)
            button.setToolTip("" if available else tr(self._reasons[which]))
