"""Editing items on the preview: select, move, resize (8 handles), rotate (Shift: 15° steps),
Alt-crop, nudge, snap, guides. A grouped item moves with its group.

Attached to one FrameView at a time (the preview in studio mode, the program view otherwise). It
maps widget positions to canvas pixels through ``FrameView.frame_rect()``, finds boxes with the
compositor's ``placement()`` and sends every change as an ``UpdateItem`` command; the commands of
one drag carry one gesture id, so the drag is one undo step.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QMenu

from scenes.compositor import ItemSnapshot, Placement
from scenes.model import SceneItem
from studio import commands as cmd
from widgets import edit_geometry as geo
from widgets.clip_drop import DroppedClips, DropResolver, add_clips_batch, carries_clips
from widgets.editor_state import EditorState
from widgets.frame_view import FrameView
from widgets.i18n import tr

HANDLE_PX = 8  # handle square size on screen
GRAB_PX = 7  # how close (screen pixels) a press must be to grab a handle
SNAP_PX = 8  # snapping distance on screen
ROTATE_PX = 24  # how far above the top edge the rotate handle sits, on screen

_gestures = itertools.count(1)

_SELECT = QColor(59, 155, 255)
_LOCKED = QColor(224, 108, 117)
_HOVER = QColor(255, 255, 255, 110)
_SNAP = QColor(255, 64, 200)
_SAFE = QColor(255, 255, 255, 70)

_CURSORS = {
    "tl": Qt.CursorShape.SizeFDiagCursor, "br": Qt.CursorShape.SizeFDiagCursor,
    "tr": Qt.CursorShape.SizeBDiagCursor, "bl": Qt.CursorShape.SizeBDiagCursor,
    "t": Qt.CursorShape.SizeVerCursor, "b": Qt.CursorShape.SizeVerCursor,
    "l": Qt.CursorShape.SizeHorCursor, "r": Qt.CursorShape.SizeHorCursor,
}


@dataclass
class _Drag:
    mode: str  # "move", "resize", "crop" or "rotate"
    item_id: str
    handle: str
    start: geo.Point  # canvas position where the press happened
    snap: ItemSnapshot  # the item as it was at the press
    place: Placement
    source_size: tuple[int, int]
    gesture: str = field(default_factory=lambda: f"drag-{next(_gestures)}")
    others: dict[str, ItemSnapshot] = field(default_factory=dict)  # the rest of its group, as they started


class SceneEditor(QObject):
    properties_requested = Signal()
    message = Signal(str)  # a drop that could not be used, in words

    def __init__(self, state: EditorState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.drops: DropResolver | None = None  # the asset library's: dropped clips become media sources
        self.view: FrameView | None = None
        self.show_safe_areas = True
        self._drag: _Drag | None = None
        self._hover: str | None = None
        self._snap_lines: tuple[float | None, float | None] = (None, None)
        # the window adds its clipboard and group actions to the right-click menu
        self.extend_menu: Callable[[QMenu], None] | None = None
        state.selection_changed.connect(self._repaint)
        state.scene_changed.connect(self._repaint)

    # ---- attachment -----------------------------------------------------------------------------
    def attach(self, view: FrameView | None) -> None:
        if view is self.view:
            return
        if self.view is not None:
            self.view.removeEventFilter(self)
            self.view.overlay = None
            self.view.setMouseTracking(False)
            self.view.unsetCursor()
            self.view.update()
        self.view = view
        self._drag = None
        if view is not None:
            view.installEventFilter(self)
            view.overlay = self.paint
            view.setMouseTracking(True)
            view.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            view.setAcceptDrops(True)
            view.update()

    def _repaint(self, *_: object) -> None:
        if self.view is not None:
            self.view.update()

    # ---- events -------------------------------------------------------------------------------------
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        if obj is not self.view:
            return False
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress and isinstance(event, QMouseEvent):
            return self._press(event)
        if kind == QEvent.Type.MouseMove and isinstance(event, QMouseEvent):
            return self._move(event)
        if kind == QEvent.Type.MouseButtonRelease and isinstance(event, QMouseEvent):
            return self._release(event)
        if kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            return self._key(event)
        if kind == QEvent.Type.ContextMenu and isinstance(event, QContextMenuEvent):
            self._context_menu(event)
            return True
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove) and isinstance(event, QDragEnterEvent | QDragMoveEvent):
            if self.drops is None or self.state.scene is None or not carries_clips(event.mimeData()):
                return False
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            return True
        if kind == QEvent.Type.Drop and isinstance(event, QDropEvent):
            return self.drop_clips(event)
        return False

    def drop_clips(self, event: QDropEvent) -> bool:
        """Library clips (or desktop video files, added to the library first, on a worker) dropped on
        the view: new media sources in the edited scene, centred where they were dropped, one undo step."""
        scene = self.state.scene
        if self.view is None or self.drops is None or scene is None or not carries_clips(event.mimeData()):
            return False
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        centre = self.view.to_canvas(event.position())
        self.drops.resolve(event.mimeData(), lambda dropped: self._add_dropped(dropped, scene, centre))
        return True

    def _add_dropped(self, dropped: DroppedClips, scene: str, centre: tuple[float, float]) -> None:
        if dropped.problems:
            self.message.emit(dropped.message)
        collection = self.state.studio.collection
        with collection.lock:
            if not dropped.clips or not collection.has_scene(scene):
                return
        batch, ids = add_clips_batch(collection, scene, dropped.clips, centre=centre)
        self.state.studio.submit(batch)
        self.state.select(ids[-1])

    def _canvas(self, event: QMouseEvent) -> geo.Point:
        assert self.view is not None
        return self.view.to_canvas(event.position())

    def _handle_at(self, event: QMouseEvent) -> tuple[str, Placement] | None:
        """The selected item's handle under the cursor, if any."""
        assert self.view is not None
        for item, _snap, place in self.state.placements():
            if item.id != self.state.selected:
                continue
            for name, (x, y) in geo.handle_points(place).items():
                p = self.view.to_widget(x, y)
                if abs(p.x() - event.position().x()) <= GRAB_PX and abs(p.y() - event.position().y()) <= GRAB_PX:
                    return name, place
        return None

    def _rotate_handle_at(self, event: QMouseEvent) -> Placement | None:
        """The selected, unlocked item's box when the press is on its rotate handle."""
        assert self.view is not None
        for item, _snap, place in self.state.placements():
            if item.id == self.state.selected and not item.locked:
                x, y = geo.rotation_handle(place, ROTATE_PX / max(self.view.scale, 1e-6))
                p = self.view.to_widget(x, y)
                if abs(p.x() - event.position().x()) <= GRAB_PX and abs(p.y() - event.position().y()) <= GRAB_PX:
                    return place
        return None

    def _press(self, event: QMouseEvent) -> bool:
        assert self.view is not None
        self.view.setFocus(Qt.FocusReason.MouseFocusReason)
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        point = self._canvas(event)
        placements = self.state.placements()
        by_id = {item.id: (item, snap, place) for item, snap, place in placements}
        rotating = self._rotate_handle_at(event)
        if rotating is not None and self.state.selected in by_id:
            item, snap, place = by_id[self.state.selected]
            self._drag = _Drag("rotate", item.id, "", point, snap, place, self.state.source_size(item.source))
            return True
        grabbed = self._handle_at(event)
        if grabbed is not None and self.state.selected in by_id:
            item, snap, place = by_id[self.state.selected]
            if not item.locked:
                mode = "crop" if event.modifiers() & Qt.KeyboardModifier.AltModifier else "resize"
                self._drag = _Drag(mode, item.id, grabbed[0], point, snap, place,
                                   self.state.source_size(item.source),
                                   others=self._group_of(item, placements) if mode == "resize" else {})
            return True
        hit = geo.hit_test([(item.id, place) for item, _s, place in placements], point)
        self.state.select(hit)
        if hit is not None:
            item, snap, place = by_id[hit]
            if not item.locked:
                self._drag = _Drag("move", hit, "", point, snap, place, self.state.source_size(item.source),
                                   others=self._group_of(item, placements))
        return True

    @staticmethod
    def _group_of(item: SceneItem, placements: list[tuple[SceneItem, ItemSnapshot, Placement]]
                  ) -> dict[str, ItemSnapshot]:
        """The other unlocked members of the item's group, as they are at the press."""
        if not item.group:
            return {}
        return {it.id: s for it, s, _p in placements if it.group == item.group and it.id != item.id and not it.locked}

    def _move(self, event: QMouseEvent) -> bool:
        assert self.view is not None
        drag = self._drag
        if drag is None:
            self._update_hover(event)
            return False
        point = self._canvas(event)
        delta = (point[0] - drag.start[0], point[1] - drag.start[1])
        snapping = not event.modifiers() & Qt.KeyboardModifier.ControlModifier
        if drag.mode == "move":
            self._drag_move(drag, delta, snapping)
        elif drag.mode == "resize":
            keep = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self._drag_resize(drag, delta, keep, snapping)
        elif drag.mode == "rotate":
            fifteen = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self.state.update_item(drag.item_id, drag.gesture, rotation=geo.rotation_at(drag.place, point, fifteen))
        else:
            result = geo.crop(drag.place, drag.handle, delta, drag.snap.crop, drag.source_size,
                              (drag.snap.scale_x, drag.snap.scale_y))
            self.state.update_item(drag.item_id, drag.gesture, crop=result.crop, x=result.x, y=result.y)
        self.view.update()
        return True

    def _threshold(self) -> float:
        assert self.view is not None
        return SNAP_PX / max(self.view.scale, 1e-6)

    def _targets(self, exclude: str) -> tuple[list[float], list[float]]:
        assert self.view is not None
        others = [place for item, _s, place in self.state.placements() if item.id != exclude]
        return geo.snap_targets(self.view.canvas, others)

    def _drag_move(self, drag: _Drag, delta: geo.Point, snapping: bool) -> None:
        x, y = drag.snap.x + delta[0], drag.snap.y + delta[1]
        lines: tuple[float | None, float | None] = (None, None)
        if snapping:
            moved = Placement(x, y, drag.place.width, drag.place.height, drag.place.rotation)
            dx, dy, lx, ly = geo.snap_move(moved, self._targets(drag.item_id), self._threshold())
            x, y, lines = x + dx, y + dy, (lx, ly)
        self._snap_lines = lines
        dx, dy = x - drag.snap.x, y - drag.snap.y
        changes = {drag.item_id: {"x": round(x, 2), "y": round(y, 2)}}
        for other, o in drag.others.items():  # the rest of its group moves as much
            changes[other] = {"x": round(o.x + dx, 2), "y": round(o.y + dy, 2)}
        self.state.update_items(changes, drag.gesture)

    def _drag_resize(self, drag: _Drag, delta: geo.Point, keep_aspect: bool, snapping: bool) -> None:
        box = geo.resize(drag.place, drag.handle, delta, keep_aspect)
        x, y, w, h = box.x, box.y, box.width, box.height
        lines: list[float | None] = [None, None]
        if snapping and not keep_aspect and drag.place.rotation == 0.0:
            xs, ys = self._targets(drag.item_id)
            hx, hy = geo.HANDLES[drag.handle]
            t = self._threshold()
            if hx < 0:
                nx, lines[0] = geo.snap_edge(x, xs, t)
                w, x = w + (x - nx), nx
            elif hx > 0:
                right, lines[0] = geo.snap_edge(x + w, xs, t)
                w = right - x
            if hy < 0:
                ny, lines[1] = geo.snap_edge(y, ys, t)
                h, y = h + (y - ny), ny
            elif hy > 0:
                bottom, lines[1] = geo.snap_edge(y + h, ys, t)
                h = bottom - y
        self._snap_lines = (lines[0], lines[1])
        sw, sh = drag.source_size
        cl, ct, cr, cb = drag.snap.crop
        cw, ch = max(1, sw - cl - cr), max(1, sh - ct - cb)
        sx = math.copysign(min(100.0, max(0.001, w / cw)), drag.snap.scale_x)
        sy = math.copysign(min(100.0, max(0.001, h / ch)), drag.snap.scale_y)
        changes = {drag.item_id: {"x": round(x, 2), "y": round(y, 2), "scale_x": round(sx, 5),
                                  "scale_y": round(sy, 5)}}
        # the rest of its group is stretched the same way: the map that takes the item's box at the
        # press to its box now, applied to each member's place and scale
        kx, ky = sx / drag.snap.scale_x, sy / drag.snap.scale_y
        for other, o in drag.others.items():
            osx = math.copysign(min(100.0, max(0.001, abs(o.scale_x * kx))), o.scale_x)
            osy = math.copysign(min(100.0, max(0.001, abs(o.scale_y * ky))), o.scale_y)
            changes[other] = {"x": round(x + (o.x - drag.place.x) * kx, 2), "y": round(y + (o.y - drag.place.y) * ky, 2),
                              "scale_x": round(osx, 5), "scale_y": round(osy, 5)}
        self.state.update_items(changes, drag.gesture)

    def _release(self, event: QMouseEvent) -> bool:
        if event.button() != Qt.MouseButton.LeftButton or self._drag is None:
            return False
        self._drag = None
        self._snap_lines = (None, None)
        self._repaint()
        return True

    def _update_hover(self, event: QMouseEvent) -> None:
        assert self.view is not None
        grabbed = self._handle_at(event)
        item = self.state.selected_item()
        if grabbed is not None and item is not None and not item.locked:
            self.view.setCursor(_CURSORS[grabbed[0]])
        else:
            self.view.unsetCursor()
        placements = self.state.placements()
        hover = geo.hit_test([(it.id, place) for it, _s, place in placements], self._canvas(event))
        if hover != self._hover:
            self._hover = hover
            self.view.update()

    def _key(self, event: QKeyEvent) -> bool:
        steps = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}
        key = Qt.Key(event.key())
        if key == Qt.Key.Key_Escape:
            self.state.select(None)
            return True
        if key not in steps:
            return False
        self.nudge(*steps[key], big=bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))
        return True

    def nudge(self, dx: int, dy: int, big: bool = False) -> None:
        """Move the selected item by one pixel (ten with ``big``); locked items stay."""
        item = self.state.selected_item()
        if item is None or item.locked:
            return
        step = 10 if big else 1
        s = self.state.state(item)
        # a run of nudges on one item is one undo step (a held arrow key repeats)
        self.state.update_item(item.id, f"nudge-{item.id}", x=s["x"] + dx * step, y=s["y"] + dy * step)
        self._repaint()

    # ---- ordering and transform -----------------------------------------------------------------
    def move_selected(self, where: str) -> None:
        """Reorder the selected item: "up", "down", "top" or "bottom" (index 0 = bottom)."""
        col = self.state.studio.collection
        scene_name, item_id = self.state.scene, self.state.selected
        if scene_name is None or item_id is None:
            return
        with col.lock:
            if not col.has_scene(scene_name):
                return
            ids = [it.id for it in col.scene(scene_name).items]
        if item_id not in ids:
            return
        i, last = ids.index(item_id), len(ids) - 1
        target = {"up": min(last, i + 1), "down": max(0, i - 1), "top": last, "bottom": 0}[where]
        if target != i:
            self.state.studio.submit(cmd.MoveItem(scene_name, item_id, target))

    def reset_transform(self) -> None:
        item = self.state.selected_item()
        if item is None or item.locked:
            return
        self.state.update_item(item.id, x=0.0, y=0.0, scale_x=1.0, scale_y=1.0, rotation=0.0, crop=(0, 0, 0, 0))

    def build_menu(self) -> QMenu:
        """The right-click menu: order, transform, properties (and the safe-area guides)."""
        menu = QMenu(self.view)
        has_item = self.state.selected_item() is not None
        for label, where in ((tr("Move Up"), "up"), (tr("Move Down"), "down"),
                             (tr("Move to Top"), "top"), (tr("Move to Bottom"), "bottom")):
            action = menu.addAction(label)
            action.setEnabled(has_item)
            action.triggered.connect(lambda _=False, w=where: self.move_selected(w))
        menu.addSeparator()
        reset = menu.addAction(tr("Reset Transform"))
        reset.setEnabled(has_item)
        reset.triggered.connect(self.reset_transform)
        menu.addSeparator()
        props = menu.addAction(tr("Properties"))
        props.setEnabled(has_item)
        props.triggered.connect(self.properties_requested.emit)
        if self.extend_menu is not None:
            menu.addSeparator()
            self.extend_menu(menu)
        menu.addSeparator()
        safe = menu.addAction(tr("Show Safe Areas"))
        safe.setCheckable(True)
        safe.setChecked(self.show_safe_areas)
        safe.toggled.connect(self.set_safe_areas)
        return menu

    def set_safe_areas(self, on: bool) -> None:
        self.show_safe_areas = on
        self._repaint()

    def _context_menu(self, event: QContextMenuEvent) -> None:
        assert self.view is not None
        r = self.view.frame_rect()
        k = self.view.canvas[0] / max(1, r.width())
        point = ((event.pos().x() - r.x()) * k, (event.pos().y() - r.y()) * k)
        hit = geo.hit_test([(it.id, place) for it, _s, place in self.state.placements()], point)
        if hit is not None:
            self.state.select(hit)
        self.build_menu().exec(event.globalPos())

    # ---- overlay --------------------------------------------------------------------------------
    def paint(self, painter: QPainter) -> None:
        view = self.view
        if view is None:
            return
        painter.save()
        if self.show_safe_areas:
            # axis-aligned dashes, cosmetic and not antialiased: the cheapest stroke Qt has
            pen = QPen(_SAFE, 1, Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for share in (geo.ACTION_SAFE, geo.TITLE_SAFE):
                x, y, w, h = geo.safe_area(view.canvas, share)
                painter.drawRect(QRectF(view.to_widget(x, y), view.to_widget(x + w, y + h)))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for item, _snap, place in self.state.placements():
            if item.id == self.state.selected:
                self._paint_selected(painter, item.locked, place)
            elif item.id == self._hover:
                painter.setPen(QPen(_HOVER, 1))
                painter.drawPolygon(self._polygon(place))
        lx, ly = self._snap_lines
        painter.setPen(QPen(_SNAP, 1))
        r = view.frame_rect()
        if lx is not None:
            p = view.to_widget(lx, 0)
            painter.drawLine(QPointF(p.x(), r.top()), QPointF(p.x(), r.bottom()))
        if ly is not None:
            p = view.to_widget(0, ly)
            painter.drawLine(QPointF(r.left(), p.y()), QPointF(r.right(), p.y()))
        painter.restore()

    def _polygon(self, place: Placement) -> QPolygonF:
        assert self.view is not None
        return QPolygonF([self.view.to_widget(x, y) for x, y in geo.corners(place)])

    def _paint_selected(self, painter: QPainter, locked: bool, place: Placement) -> None:
        assert self.view is not None
        color = _LOCKED if locked else _SELECT
        painter.setPen(QPen(color, 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPolygon(self._polygon(place))
        if locked:
            return
        painter.setPen(QPen(color, 1))
        top = geo.handle_points(place)["t"]
        knob = self.view.to_widget(*geo.rotation_handle(place, ROTATE_PX / max(self.view.scale, 1e-6)))
        painter.drawLine(self.view.to_widget(*top), knob)
        painter.setBrush(QColor(255, 255, 255))
        painter.drawEllipse(knob, HANDLE_PX / 2 + 1, HANDLE_PX / 2 + 1)  # round: it turns, not resizes
        half = HANDLE_PX / 2
        for x, y in geo.handle_points(place).values():
            p = self.view.to_widget(x, y)
            painter.drawRect(QRectF(p.x() - half, p.y() - half, HANDLE_PX, HANDLE_PX))
