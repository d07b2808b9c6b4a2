"""A painted audio level meter: one horizontal bar per channel, peak and RMS, with a peak-hold tick.

Colours follow OBS: green below -20 dBFS, yellow to -9 dBFS, red above; the unlit part of each
zone is drawn dimmed so the scale is always readable. RMS is drawn in the full colour, the peak
above it a little lighter, the hold as a thin bar. ``set_levels`` repaints only when a value moved
visibly, so a meter fed at 30 Hz by a silent input costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

FLOOR_DB = -60.0  # the left edge of the meter
YELLOW_DB = -20.0
RED_DB = -9.0
REPAINT_STEP_DB = 0.25  # smaller moves are not worth a repaint
ZONES = (  # (from dB, to dB, colour)
    (FLOOR_DB, YELLOW_DB, QColor(76, 201, 92)),
    (YELLOW_DB, RED_DB, QColor(230, 200, 70)),
    (RED_DB, 0.0, QColor(235, 80, 80)),
)
BACKGROUND = QColor(20, 22, 26)
HOLD_COLOUR = QColor(235, 235, 235)


def position(db: float) -> float:
    """Where ``db`` sits on the meter, 0 (the floor or below) .. 1 (0 dBFS or above)."""
    if db <= FLOOR_DB:
        return 0.0
    return min(1.0, (db - FLOOR_DB) / -FLOOR_DB)


class AudioMeter(QWidget):
    def __init__(self, channels: int = 2, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if channels < 1:
            raise ValueError(f"meter channels must be >= 1, got {channels}")
        self.channels = channels
        self.peak_db = [FLOOR_DB] * channels
        self.rms_db = [FLOOR_DB] * channels
        self.hold_db = [FLOOR_DB] * channels
        self.repaints = 0  # how often a change asked for a paint (tests and the bench read it)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt naming
        return QSize(200, 4 + 5 * self.channels)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt naming
        return QSize(60, 4 + 4 * self.channels)

    def set_levels(self, peak_db: Sequence[float], rms_db: Sequence[float], hold_db: Sequence[float]) -> None:
        """Per-channel dBFS values (extra channels are ignored, missing ones read as silence)."""
        new = [self._fit(peak_db), self._fit(rms_db), self._fit(hold_db)]
        old = [self.peak_db, self.rms_db, self.hold_db]
        if all(abs(a - b) < REPAINT_STEP_DB for n, o in zip(new, old, strict=True)
               for a, b in zip(n, o, strict=True)):
            return
        self.peak_db, self.rms_db, self.hold_db = new
        self.repaints += 1
        self.update()

    def reset(self) -> None:
        floor = [FLOOR_DB] * self.channels
        self.set_levels(floor, floor, floor)

    def _fit(self, values: Sequence[float]) -> list[float]:
        out = [max(FLOOR_DB, float(v)) for v in list(values)[: self.channels]]
        return out + [FLOOR_DB] * (self.channels - len(out))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt naming
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        width = float(self.width() - 2)
        gap = 1.0
        bar_h = (self.height() - 2 - gap * (self.channels - 1)) / self.channels
        for ch in range(self.channels):
            top = 1.0 + ch * (bar_h + gap)
            peak, rms = position(self.peak_db[ch]), position(self.rms_db[ch])
            for low, high, colour in ZONES:
                x0, x1 = 1.0 + position(low) * width, 1.0 + position(high) * width
                painter.fillRect(QRectF(x0, top, x1 - x0, bar_h), colour.darker(330))
                lit_peak = min(x1, 1.0 + peak * width)
                if lit_peak > x0:
                    painter.fillRect(QRectF(x0, top, lit_peak - x0, bar_h), colour.darker(150))
                lit_rms = min(x1, 1.0 + rms * width)
                if lit_rms > x0:
                    painter.fillRect(QRectF(x0, top, lit_rms - x0, bar_h), colour)
            hold = position(self.hold_db[ch])
            if hold > 0.0:
                x = 1.0 + hold * width
                painter.fillRect(QRectF(max(1.0, x - 2.0), top, 2.0, bar_h), HOLD_COLOUR)
        painter.end()
