"""The cut preview's timeline: thumbnail strip, waveform, in/out range, markers and the playhead.

It only paints what it is given and turns mouse presses and drags into ``seek_requested``; the
thumbnails and waveform are computed elsewhere (studio/rundown/clips.py, on a worker thread).
Keys it does not use go on to its parent (the cut preview handles J/K/L, arrows, I/O, M).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

MARKER_COLOURS = {"product": QColor(255, 176, 32), "vote": QColor(77, 163, 255), "branch": QColor(235, 80, 200)}
STRIP_H, WAVE_H, RULER_H = 54, 40, 18


def timecode(seconds: float, fps: float) -> str:
    """HH:MM:SS:FF (frames at ``fps``)."""
    fps = max(1.0, fps)
    total = int(round(max(0.0, seconds) * fps))
    per = int(round(fps))
    frames = total % per
    s = total // per
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}:{frames:02d}"


class Timeline(QWidget):
    seek_requested = Signal(float)  # clip seconds

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.duration = 0.0
        self.position = 0.0
        self.in_s = 0.0
        self.out_s = 0.0  # 0: the clip's end
        self.markers: list[tuple[float, str, str]] = []  # (seconds, kind, id)
        self._thumbs: list[tuple[float, QImage]] = []
        self._wave = np.zeros(0, np.float32)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(RULER_H + STRIP_H + WAVE_H + 4)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt naming
        return QSize(640, RULER_H + STRIP_H + WAVE_H + 4)

    # ---- data ----------------------------------------------------------------------------------

    def set_duration(self, seconds: float) -> None:
        self.duration = max(0.0, float(seconds))
        self.update()

    def set_position(self, seconds: float) -> None:
        if seconds != self.position:
            self.position = seconds
            self.update()

    def set_range(self, in_s: float, out_s: float) -> None:
        self.in_s, self.out_s = in_s, out_s
        self.update()

    def set_markers(self, markers: Sequence[tuple[float, str, str]]) -> None:
        self.markers = list(markers)
        self.update()

    def set_thumbnails(self, thumbs: Sequence[tuple[float, np.ndarray]]) -> None:
        """BGRA thumbnails (premultiplied, opaque) at clip times."""
        self._thumbs = [
            (t, QImage(px.data, px.shape[1], px.shape[0], px.strides[0],
                       QImage.Format.Format_ARGB32_Premultiplied).copy())
            for t, px in thumbs
        ]
        self.update()

    def set_waveform(self, peaks: np.ndarray) -> None:
        self._wave = np.asarray(peaks, np.float32)
        self.update()

    @property
    def thumbnail_count(self) -> int:
        return len(self._thumbs)

    # ---- mapping -------------------------------------------------------------------------------

    def x_of(self, seconds: float) -> float:
        if self.duration <= 0:
            return 0.0
        return seconds / self.duration * max(1, self.width() - 1)

    def seconds_at(self, x: float) -> float:
        if self.duration <= 0:
            return 0.0
        return min(self.duration, max(0.0, x / max(1, self.width() - 1) * self.duration))

    # ---- mouse: scrub --------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt naming
        if event.button() == Qt.MouseButton.LeftButton:
            self.seek_requested.emit(self.seconds_at(event.position().x()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt naming
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.seek_requested.emit(self.seconds_at(event.position().x()))

    # ---- painting ------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt naming
        p = QPainter(self)
        w = self.width()
        p.fillRect(self.rect(), QColor(24, 25, 30))
        strip = QRectF(0, RULER_H, w, STRIP_H)
        wave = QRectF(0, RULER_H + STRIP_H + 2, w, WAVE_H)
        self._paint_thumbs(p, strip)
        self._paint_wave(p, wave)
        if self.duration > 0:
            end = self.out_s or self.duration
            shade = QColor(0, 0, 0, 140)
            p.fillRect(QRectF(0, RULER_H, self.x_of(self.in_s), STRIP_H + WAVE_H + 2), shade)
            p.fillRect(QRectF(self.x_of(end), RULER_H, w - self.x_of(end), STRIP_H + WAVE_H + 2), shade)
            for at, kind, _mid in self.markers:
                x = self.x_of(at)
                p.setBrush(MARKER_COLOURS.get(kind, QColor("white")))
                p.setPen(Qt.PenStyle.NoPen)
                p.drawPolygon(QPolygonF([QPointF(x - 5, 2), QPointF(x + 5, 2), QPointF(x, RULER_H - 2)]))
            p.setPen(QPen(QColor(255, 60, 60), 2))
            x = self.x_of(self.position)
            p.drawLine(QLineF(x, 0, x, self.height()))
        p.end()

    def _paint_thumbs(self, p: QPainter, r: QRectF) -> None:
        if not self._thumbs:
            p.fillRect(r, QColor(40, 42, 50))
            return
        n = len(self._thumbs)
        cell = r.width() / n
        for i, (_t, img) in enumerate(self._thumbs):
            p.drawImage(QRectF(r.x() + i * cell, r.y(), cell, r.height()), img)

    def _paint_wave(self, p: QPainter, r: QRectF) -> None:
        p.fillRect(r, QColor(30, 34, 40))
        n = len(self._wave)
        if n == 0:
            return
        p.setPen(QPen(QColor(90, 200, 140), 1))
        mid = r.center().y()
        width = int(r.width())
        peaks = self._wave[np.minimum(n - 1, (np.arange(width) * n / max(1, width)).astype(int))]
        # one call for all columns (PySide6 6.12 leaks a reference per drawLine(QPointF, QPointF) call)
        p.drawLines([QLineF(x, mid - v * r.height() / 2, x, mid + v * r.height() / 2)
                     for x, v in enumerate(peaks.tolist())])
