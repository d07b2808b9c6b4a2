"""Multiview: preview and program large, every scene small with its name and hotkey, tally colours
(red: on program, green: in preview). Click a scene to put it in preview, double-click to cut it
to program, both through the command API.

It costs the video clock nothing: it reads the frames the engine already publishes (the program
and preview slots) and scales them here, on the UI thread (OpenCV, bilinear: about a millisecond
a picture). The small scene tiles show the last picture each scene had when it was on program or in preview (refreshed
at most twice a second while it is there), marked as older when it is not. Rendering every scene
live, as OBS does, would mean one more composite per scene per tick on the clock thread: on the
2-core machines this studio targets that is the frame budget the encoder needs. A scene never
seen yet shows its name on a dark tile.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from scenes.transitions import TransitionKind, TransitionSpec
from studio import commands as cmd
from studio.engine import Studio
from studio.events import ProgramFrame
from studio.slots import LatestSlot
from widgets.frame_image import scaled_image
from widgets.hotkeys import default_bindings
from widgets.i18n import on_change, tr

PROGRAM_RED = QColor("#e0383e")
PREVIEW_GREEN = QColor("#2fb457")
TILE_REFRESH_S = 0.5  # a scene's tile is re-taken at most this often while it is on program/preview
COLUMNS = 4
GAP = 6
LABEL_H = 20

Bindings = Callable[[], dict[str, list[str]]]


@dataclass
class _Tile:
    image: QImage | None = None
    taken: float = 0.0  # time.monotonic() of the picture


class Multiview(QWidget):
    """The multiview picture: one widget painting everything (cheap to lay out full screen)."""

    scene_clicked = Signal(str)
    scene_double_clicked = Signal(str)

    def __init__(self, studio: Studio, bindings: Bindings | None = None, parent: QWidget | None = None,
                 refresh_hz: int = 40) -> None:
        super().__init__(parent)
        self.studio = studio
        self._bindings = bindings or default_bindings
        self._tiles: dict[str, _Tile] = {}
        self._big: dict[str, QImage | None] = {"preview": None, "program": None}
        self._versions: dict[str, int] = {"preview": -1, "program": -1}
        self._labels = {"preview": "", "program": ""}
        self.frames_taken = 0
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(480, 320)
        self.setMouseTracking(False)
        on_change(self, self._retranslate)
        self.scene_clicked.connect(self.put_in_preview)
        self.scene_double_clicked.connect(self.cut_to_program)
        self._turn = 0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._timer.start(max(1, 1000 // refresh_hz))

    def _retranslate(self) -> None:
        self._labels = {"preview": tr("Preview"), "program": tr("Program")}
        self.update()

    # ---- commands -------------------------------------------------------------------------------
    def put_in_preview(self, scene: str) -> None:
        self.studio.submit(cmd.SetPreviewScene(scene))

    def cut_to_program(self, scene: str) -> None:
        self.studio.submit(cmd.Transition(scene=scene, spec=TransitionSpec(TransitionKind.CUT, 0)))

    # ---- state ----------------------------------------------------------------------------------
    def scene_names(self) -> list[str]:
        with self.studio.collection.lock:
            return [s.name for s in self.studio.collection.scenes]

    def on_air(self) -> tuple[str | None, str | None]:
        """(program scene, preview scene); no preview outside studio mode."""
        col = self.studio.collection
        with col.lock:
            return col.program_scene, (col.preview_scene if self.studio.studio_mode else None)

    def hotkey_text(self, index: int) -> str:
        keys = self._bindings().get(f"scene.{index + 1}", [])
        return keys[0] if keys else ""

    # ---- frames ---------------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Take new program/preview pictures if the engine published any; True when one was taken."""
        program, preview = self.on_air()
        took = self._take("program", self.studio.program, program)
        took = self._take("preview", self.studio.preview if preview is not None else None, preview) or took
        if took:
            self.update()
        return took

    def _tick(self) -> None:
        """The timer takes program and preview on alternate ticks (each at half the timer's rate): the
        window stays a confidence monitor while the UI thread scales half as much per tick
        (bench ui --multiview: the event loop's longest gaps grew with both at full rate)."""
        if not self.isVisible():
            return
        program, preview = self.on_air()
        self._turn ^= 1
        if self._turn:
            took = self._take("program", self.studio.program, program)
        else:
            took = self._take("preview", self.studio.preview if preview is not None else None, preview)
        if took:
            self.update()

    def _take(self, which: str, slot: LatestSlot[ProgramFrame] | None, scene: str | None) -> bool:
        if slot is None:
            if self._big[which] is not None:
                self._big[which] = None
                return True
            return False
        frame, version = slot.latest()
        if frame is None or version == self._versions[which]:
            return False
        self._versions[which] = version
        px = frame.pixels
        big = self._layout()[which]
        self._big[which] = scaled_image(px, big.width(), big.height())
        self.frames_taken += 1
        if scene is not None:
            tile = self._tiles.setdefault(scene, _Tile())
            now = time.monotonic()
            if tile.image is None or now - tile.taken >= TILE_REFRESH_S:
                r = self._tile_rects(1)[0]
                tile.image, tile.taken = scaled_image(px, r.width(), r.height() - LABEL_H), now
        return True

    # ---- layout ---------------------------------------------------------------------------------
    def _layout(self) -> dict[str, QRect]:
        w, h = self.width(), self.height()
        half_w = (w - 3 * GAP) // 2
        big_h = min(int(half_w * 9 / 16) + LABEL_H, int(h * 0.55))
        return {"preview": QRect(GAP, GAP, half_w, big_h),
                "program": QRect(2 * GAP + half_w, GAP, half_w, big_h)}

    def _tile_rects(self, count: int) -> list[QRect]:
        big = self._layout()["preview"]
        top = big.bottom() + GAP + 1
        tw = (self.width() - (COLUMNS + 1) * GAP) // COLUMNS
        th = int(tw * 9 / 16) + LABEL_H
        return [QRect(GAP + (i % COLUMNS) * (tw + GAP), top + (i // COLUMNS) * (th + GAP), tw, th)
                for i in range(count)]

    def scene_at(self, pos: QPoint) -> str | None:
        names = self.scene_names()
        for name, rect in zip(names, self._tile_rects(len(names)), strict=True):
            if rect.contains(pos):
                return name
        return None

    def tile_rect(self, scene: str) -> QRect:
        names = self.scene_names()
        return self._tile_rects(len(names))[names.index(scene)]

    # ---- input ----------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt naming
        if event.button() == Qt.MouseButton.LeftButton:
            name = self.scene_at(event.position().toPoint())
            if name is not None:
                self.scene_clicked.emit(name)
                return
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt naming
        if event.button() == Qt.MouseButton.LeftButton:
            name = self.scene_at(event.position().toPoint())
            if name is not None:
                self.scene_double_clicked.emit(name)
                return
        super().mouseDoubleClickEvent(event)

    # ---- painting -------------------------------------------------------------------------------
    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt naming
        program, preview = self.on_air()
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#101114"))
        font = QFont(self.font())
        font.setBold(True)
        p.setFont(font)
        big = self._layout()
        for which, big_colour in (("preview", PREVIEW_GREEN), ("program", PROGRAM_RED)):
            name = program if which == "program" else preview
            label = self._labels[which] + (f" · {name}" if name else "")
            self._paint_box(p, big[which], self._big[which], label, big_colour, stale=False)
        names = self.scene_names()
        now = time.monotonic()
        for i, (name, rect) in enumerate(zip(names, self._tile_rects(len(names)), strict=True)):
            tile = self._tiles.get(name)
            colour: QColor | None = PROGRAM_RED if name == program else PREVIEW_GREEN if name == preview else None
            key = self.hotkey_text(i)
            label = f"{key}  {name}" if key else name
            stale = colour is None or tile is None or now - tile.taken > 2 * TILE_REFRESH_S
            self._paint_box(p, rect, tile.image if tile else None, label, colour, stale=stale)
        p.end()

    def _paint_box(self, p: QPainter, rect: QRect, image: QImage | None, label: str,
                   tally: QColor | None, stale: bool) -> None:
        pic = QRect(rect.x(), rect.y(), rect.width(), rect.height() - LABEL_H)
        p.fillRect(pic, QColor("#1c1e23"))
        if image is not None:
            x = pic.x() + (pic.width() - image.width()) // 2
            y = pic.y() + (pic.height() - image.height()) // 2
            p.drawImage(QPoint(x, y), image)
            if stale:  # an older picture: dimmed, so nobody takes it for live
                p.fillRect(QRect(x, y, image.width(), image.height()), QColor(0, 0, 0, 110))
        bar = QRect(rect.x(), pic.bottom() + 1, rect.width(), LABEL_H)
        p.fillRect(bar, tally if tally is not None else QColor("#2a2d33"))
        p.setPen(QColor("white"))
        p.drawText(bar.adjusted(6, 0, -6, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                   p.fontMetrics().elidedText(label, Qt.TextElideMode.ElideRight, bar.width() - 12))
        if tally is not None:
            p.setPen(QPen(tally, 3))
            p.drawRect(rect.adjusted(1, 1, -2, -2))


class MultiviewWindow(QWidget):
    """A top-level window holding the multiview; full screen on any monitor, Esc leaves full screen."""

    def __init__(self, studio: Studio, bindings: Bindings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.view = Multiview(studio, bindings, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        on_change(self, lambda: self.setWindowTitle(tr("Multiview")))
        self.resize(1280, 800)

    def show_full_screen(self, screen_index: int | None = None) -> None:
        """Full screen on monitor ``screen_index`` (default: the last one, usually the second)."""
        screens = QGuiApplication.screens()
        if screens:
            screen = screens[-1 if screen_index is None else max(0, min(screen_index, len(screens) - 1))]
            self.setScreen(screen)
            self.setGeometry(screen.geometry())
        self.showFullScreen()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt naming
        if event.key() == Qt.Key.Key_Escape and self.isFullScreen():
            self.showNormal()
            return
        super().keyPressEvent(event)
