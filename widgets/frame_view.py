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
from widgets.frame_image import owned_image, resized_image

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
        self._box_key: tuple[int, int, tuple[int, int]] | None = None
        self._box_value = (0, 0, 0, 0, 1.0)
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
        self.canvas = (px.shape[1], px.shape[0])
        # the engine reuses its canvases, so the view keeps its own pixels: shrunk to the size they
        # are shown at when that is smaller (painting then draws them 1:1, and a repaint is cheap)
        w, h = self._device_size(self.frame_rect())
        if 0 < w < px.shape[1] and 0 < h < px.shape[0]:
            self._image = resized_image(px, w, h)
        else:
            self._image = owned_image(px)
        self.update()
        return True

    def frame_rect(self) -> QRect:
        """Where the picture is drawn inside the widget (letterboxed, aspect kept)."""
        x, y, w, h, _k = self._box()
        return QRect(x, y, w, h)

    def _box(self) -> tuple[int, int, int, int, float]:
        """(x, y, width, height, widget pixels per canvas pixel), kept until the size or canvas
        changes: the scene editor maps a dozen points per paint."""
        key = (self.width(), self.height(), self.canvas)
        if key != self._box_key:
            size = QSize(*self.canvas).scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            w, h = size.width(), size.height()
            self._box_key = key
            self._box_value = ((key[0] - w) // 2, (key[1] - h) // 2, w, h, w / max(1, self.canvas[0]))
        return self._box_value

    def _device_size(self, box: QRect) -> tuple[int, int]:
        ratio = self.devicePixelRatioF()
        return round(box.width() * ratio), round(box.height() * ratio)

    def to_canvas(self, pos: QPointF) -> tuple[float, float]:
        """Widget position -> canvas pixels."""
        x, y, w, _h, _k = self._box()
        k = self.canvas[0] / max(1, w)
        return (pos.x() - x) * k, (pos.y() - y) * k

    def to_widget(self, x: float, y: float) -> QPointF:
        """Canvas pixels -> widget position."""
        bx, by, _w, _h, k = self._box()
        return QPointF(bx + x * k, by + y * k)

    @property
    def scale(self) -> float:
        """Widget pixels per canvas pixel."""
        return self._box()[4]

    @property
    def image(self) -> QImage | None:
        return self._image

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt naming
        t0 = time.perf_counter()
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(14, 15, 18))
        target = self.frame_rect()
        if self._image is not None:
            if (self._image.width(), self._image.height()) != self._device_size(target):
                # shown larger than the canvas, or resized since the picture was taken
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(target, self._image)
        else:
            painter.fillRect(target, QColor(0, 0, 0))
        if self.overlay is not None:
            self.overlay(painter)
        painter.end()
        self.paint_count += 1
        self.paint_ms.append((time.perf_counter() - t0) * 1000.0)
