"""A view that paints the newest frame of an engine slot, pulled by a QTimer (never waits)."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from studio.events import ProgramFrame
from studio.slots import LatestSlot


class FrameView(QWidget):
    """Shows a LatestSlot[ProgramFrame] letterboxed to the widget, refreshed at the display rate."""

    def __init__(self, slot: LatestSlot[ProgramFrame] | None = None, parent: QWidget | None = None,
                 refresh_hz: int = 60) -> None:
        super().__init__(parent)
        self._slot = slot
        self._version = -1
        self._image: QImage | None = None
        self.paint_count = 0
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 180)
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._pull)
        self._timer.start(max(1, 1000 // refresh_hz))

    def set_slot(self, slot: LatestSlot[ProgramFrame] | None) -> None:
        self._slot = slot
        self._version = -1
        self._image = None
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt naming
        return QSize(640, 360)

    def _pull(self) -> None:
        if self._slot is None:
            return
        frame, version = self._slot.latest()
        if frame is None or version == self._version:
            return
        self._version = version
        px = frame.pixels
        # wrap, then copy once: the engine reuses its canvases, so the view keeps its own pixels
        self._image = QImage(px.data, px.shape[1], px.shape[0], px.strides[0],
                             QImage.Format.Format_ARGB32_Premultiplied).copy()
        self.update()

    def frame_rect(self) -> QRect:
        """Where the picture is drawn inside the widget (letterboxed, aspect kept)."""
        if self._image is None:
            return self.rect()
        size = self._image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        return QRect((self.width() - size.width()) // 2, (self.height() - size.height()) // 2,
                     size.width(), size.height())

    @property
    def image(self) -> QImage | None:
        return self._image

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt naming
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(18, 18, 22))
        if self._image is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(self.frame_rect(), self._image)
        self.paint_count += 1
        painter.end()
