"""The Stats dock: frame rate, render time, lagged/skipped/dropped frames and network figures.

Frame counters are coloured as OBS colours them: yellow over 1 %, red over 5 %. The network rows
show "—" until an output reports figures through ``show_output``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from studio.events import ClockStats
from widgets.i18n import bind
from widgets.theme import repolish

DASH = "—"
ROWS = (
    ("fps", "FPS"),
    ("render", "Render time"),
    ("lagged", "Frames lagged (rendering)"),
    ("skipped", "Frames skipped (encoding)"),
    ("dropped", "Frames dropped (network)"),
    ("bitrate", "Bitrate"),
    ("rtt", "Round trip time"),
    ("loss", "Packet loss"),
)


def level_for(ratio: float) -> str:
    """OBS's colouring of a bad-frame share: ok, warn (> 1 %) or bad (> 5 %)."""
    if ratio > 0.05:
        return "bad"
    if ratio > 0.01:
        return "warn"
    return "ok"


def _share(count: int, total: int) -> tuple[str, str]:
    ratio = count / total if total > 0 else 0.0
    return f"{count} / {total} ({ratio * 100:.1f} %)", level_for(ratio)


class StatsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 6, 8, 6)
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(4)
        self.values: dict[str, QLabel] = {}
        self.names: dict[str, QLabel] = {}
        for row, (key, label) in enumerate(ROWS):
            name = QLabel(self)
            name.setObjectName("hint")
            bind(name, "setText", label)
            value = QLabel(DASH, self)
            value.setTextFormat(Qt.TextFormat.PlainText)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setProperty("level", "ok")
            grid.addWidget(name, row, 0)
            grid.addWidget(value, row, 1)
            self.values[key] = value
            self.names[key] = name
        grid.setRowStretch(len(ROWS), 1)

    def _set(self, key: str, text: str, level: str = "ok") -> None:
        label = self.values[key]
        label.setText(text)
        if label.property("level") != level:
            label.setProperty("level", level)
            repolish(label)

    def show_clock(self, s: ClockStats) -> None:
        self._set("fps", f"{s.fps:.2f}")
        self._set("render", f"{s.render_ms_p50:.1f} ms (p95 {s.render_ms_p95:.1f} ms)")
        self._set("lagged", *_share(s.lagged, s.frames + s.lagged))

    def show_output(self, *, encoded: int | None = None, skipped: int | None = None,
                    sent: int | None = None, dropped: int | None = None, bitrate_kbps: float | None = None,
                    rtt_ms: float | None = None, loss: float | None = None) -> None:
        """Figures from the encoder and the streaming output (None leaves a row as it is)."""
        if skipped is not None and encoded is not None:
            self._set("skipped", *_share(skipped, encoded + skipped))
        if dropped is not None and sent is not None:
            self._set("dropped", *_share(dropped, sent + dropped))
        if bitrate_kbps is not None:
            self._set("bitrate", f"{bitrate_kbps:.0f} kb/s")
        if rtt_ms is not None:
            self._set("rtt", f"{rtt_ms:.0f} ms")
        if loss is not None:
            self._set("loss", f"{loss * 100:.1f} %", level_for(loss))
