"""A view that paints the newest frame of an engine slot, pulled by a QTimer (never waits).

The engine publishes frames into a ``LatestSlot``; the view checks the slot's version on a timer
and copies a new picture once. An optional overlay callback (the scene editor) paints on top.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRect, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from studio.events import ProgramFrame
from studio.slots import LatestSlot

Overlay = Callable[[QPainter], None]


class FrameView(QWidget):
    """Shows a LatestSlot[ProgramFrame] letterboxed to the widget, refreshed at the display rate."""

    def __init__(self, slot: LatestSlot[ProgramFrame] | None = None, parent: QWidget | None = None,
                 refresh_hz: int = 60, canvas: tuple[int, int] = (1920, 1080)) -> None:
        super().__init__(parent)
        self._slot = slot
        self._version = -1
        self._image: QImage | None = None
        self.canvas = canvas  # used for mapping before the first frame arrives
        self.overlay: Overlay | None = None
        self.paint_count = 0
        self.paint_ms: deque[float] = deque(maxlen=600)  # recent paint costs (bench)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 135)
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(max(1, 1000 // refresh_hz))

    def set_slot(self, slot: LatestSlot[ProgramFrame] | None) -> None:
        self._slot = slot
        self._version = -1
        self._image = None
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt naming
        return QSize(640, 360)

    def refresh(self) -> bool:
        """Take the slot's newest frame if it changed; True when a new picture was taken."""
        if self._slot is None:
            return False
        frame, version = self._slot.latest()
        if frame is None or version == self._version:
            return False
        self._version = version
        px = frame.pixels
        # wrap, then copy once: the engine reuses its canvases, so the view keeps its own pixels
        self._image = QImage(px.data, px.shape[1], px.shape[0], px.strides[0],
                             QImage.Format.Format_ARGB32_Premultiplied).copy()
        self.canvas = (px.shape[1], px.shape[0])
        self.update()
        return True

    def frame_rect(self) -> QRect:
        """Where the picture is drawn inside the widget (letterboxed, aspect kept)."""
        size = QSize(*self.canvas).scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        return QRect((self.width() - size.width()) // 2, (self.height() - size.height()) // 2,
                     size.width(), size.height())

    def to_canvas(self, pos: QPointF) -> tuple[float, float]:
        """Widget position -> canvas pixels."""
        r = self.frame_rect()
        k = self.canvas[0] / max(1, r.width())
        return (pos.x() - r.x()) * k, (pos.y() - r.y()) * k

    def to_widget(self, x: float, y: float) -> QPointF:
        """Canvas pixels -> widget position."""
        r = self.frame_rect()
        k = r.width() / max(1, self.canvas[0])
        return QPointF(r.x() + x * k, r.y() + y * k)

    @property
    def scale(self) -> float:
        """Widget pixels per canvas pixel."""
        return self.frame_rect().width() / max(1, self.canvas[0])

    @property
    def image(self) -> QImage | None:
        return self._image

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt naming
        t0 = time.perf_counter()
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(14, 15, 18))
        target = self.frame_rect()
        if self._image is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(target, self._image)
        else:
            painter.fillRect(target, QColor(0, 0, 0))
        if self.overlay is not None:
            self.overlay(painter)
        painter.end()
        self.paint_count += 1
        self.paint_ms.append((time.perf_counter() - t0) * 1000.0)
