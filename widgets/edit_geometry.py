"""Pure maths for editing items on the preview: hit tests, handles, move/resize/crop and snapping.

Canvas pixels, y down. An item's box comes from ``scenes.compositor.placement`` (the compositor's
own maths); rotation turns the box clockwise on screen about its centre, as the compositor draws it.
No Qt here, so every rule is easy to test.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scenes.compositor import Placement

Point = tuple[float, float]

# handle ids: which edges a handle moves (-1 = left/top edge, +1 = right/bottom edge, 0 = none)
HANDLES: dict[str, tuple[int, int]] = {
    "tl": (-1, -1), "t": (0, -1), "tr": (1, -1), "r": (1, 0),
    "br": (1, 1), "b": (0, 1), "bl": (-1, 1), "l": (-1, 0),
}

ACTION_SAFE = 0.93  # share of width/height inside the action-safe frame (EBU R 95)
TITLE_SAFE = 0.90


def _rotate(dx: float, dy: float, degrees: float) -> Point:
    r = math.radians(degrees)
    c, s = math.cos(r), math.sin(r)
    return dx * c - dy * s, dx * s + dy * c


def center(p: Placement) -> Point:
    return p.x + p.width / 2.0, p.y + p.height / 2.0


def to_local(p: Placement, point: Point) -> Point:
    """Canvas point -> item-local coordinates (0,0 = box top-left before rotation)."""
    cx, cy = center(p)
    lx, ly = _rotate(point[0] - cx, point[1] - cy, -p.rotation)
    return lx + p.width / 2.0, ly + p.height / 2.0


def to_canvas(p: Placement, local: Point) -> Point:
    cx, cy = center(p)
    dx, dy = _rotate(local[0] - p.width / 2.0, local[1] - p.height / 2.0, p.rotation)
    return cx + dx, cy + dy


def contains(p: Placement, point: Point) -> bool:
    lx, ly = to_local(p, point)
    return 0.0 <= lx <= p.width and 0.0 <= ly <= p.height


def corners(p: Placement) -> list[Point]:
    """The four corners on the canvas, clockwise from top-left."""
    return [to_canvas(p, c) for c in ((0, 0), (p.width, 0), (p.width, p.height), (0, p.height))]


def handle_points(p: Placement) -> dict[str, Point]:
    """Canvas position of each of the 8 resize handles."""
    out = {}
    for name, (hx, hy) in HANDLES.items():
        out[name] = to_canvas(p, ((hx + 1) / 2.0 * p.width, (hy + 1) / 2.0 * p.height))
    return out


def bounds(p: Placement) -> tuple[float, float, float, float]:
    """Axis-aligned bounding box of the rotated item: left, top, right, bottom."""
    pts = corners(p)
    xs, ys = [q[0] for q in pts], [q[1] for q in pts]
    return min(xs), min(ys), max(xs), max(ys)


def hit_test(placements: Sequence[tuple[str, Placement]], point: Point) -> str | None:
    """The top-most item under ``point`` (the list is bottom-first, as scenes store items)."""
    for item_id, p in reversed(placements):
        if contains(p, point):
            return item_id
    return None


@dataclass(frozen=True)
class Box:
    """An edited item: its box (top-left x/y, size) and the rotation it keeps."""

    x: float
    y: float
    width: float
    height: float
    rotation: float


def resize(p: Placement, handle: str, delta: Point, keep_aspect: bool, min_size: float = 1.0) -> Box:
    """Drag ``handle`` by the canvas vector ``delta``; the opposite edge/corner stays in place."""
    hx, hy = HANDLES[handle]
    ldx, ldy = _rotate(delta[0], delta[1], -p.rotation)
    left, top, right, bottom = 0.0, 0.0, p.width, p.height
    if hx < 0:
        left = min(left + ldx, right - min_size)
    elif hx > 0:
        right = max(right + ldx, left + min_size)
    if hy < 0:
        top = min(top + ldy, bottom - min_size)
    elif hy > 0:
        bottom = max(bottom + ldy, top + min_size)
    w, h = right - left, bottom - top
    if keep_aspect and p.width > 0 and p.height > 0:
        ratio = p.width / p.height
        if hx != 0 and hy != 0:
            # follow the edge that moved more, relatively
            if abs(w / p.width - 1) >= abs(h / p.height - 1):
                h = w / ratio
            else:
                w = h * ratio
        elif hx != 0:
            h = w / ratio
        else:
            w = h * ratio
        # anchor at the opposite side (centre for the axis the handle does not move)
        if hx < 0:
            left = right - w
        elif hx > 0:
            right = left + w
        else:
            left, right = (p.width - w) / 2.0, (p.width + w) / 2.0
        if hy < 0:
            top = bottom - h
        elif hy > 0:
            bottom = top + h
        else:
            top, bottom = (p.height - h) / 2.0, (p.height + h) / 2.0
    return _box_from_local(p, left, top, right, bottom)


def _box_from_local(p: Placement, left: float, top: float, right: float, bottom: float) -> Box:
    w, h = right - left, bottom - top
    cx, cy = to_canvas(p, ((left + right) / 2.0, (top + bottom) / 2.0))
    return Box(cx - w / 2.0, cy - h / 2.0, w, h, p.rotation)


@dataclass(frozen=True)
class CropResult:
    crop: tuple[int, int, int, int]
    x: float
    y: float


def crop(p: Placement, handle: str, delta: Point, start_crop: tuple[int, int, int, int],
         source_size: tuple[int, int], scale: tuple[float, float]) -> CropResult:
    """Alt-drag a handle: crop that side of the source; the rest of the picture stays in place."""
    hx, hy = HANDLES[handle]
    sx, sy = abs(scale[0]) or 1.0, abs(scale[1]) or 1.0
    ldx, ldy = _rotate(delta[0], delta[1], -p.rotation)
    cl, ct, cr, cb = start_crop
    sw, sh = source_size
    # box edges in local canvas units -> source pixels; a flipped item crops the mirrored side
    d_left = d_right = d_top = d_bottom = 0
    if hx < 0:
        d_left = int(round(ldx / sx))
    elif hx > 0:
        d_right = int(round(-ldx / sx))
    if hy < 0:
        d_top = int(round(ldy / sy))
    elif hy > 0:
        d_bottom = int(round(-ldy / sy))
    if scale[0] < 0:
        d_left, d_right = d_right, d_left
        cl, cr = cr, cl
    if scale[1] < 0:
        d_top, d_bottom = d_bottom, d_top
        ct, cb = cb, ct
    nl = min(max(0, cl + d_left), max(0, sw - cr - 1))
    nr = min(max(0, cr + d_right), max(0, sw - nl - 1))
    nt = min(max(0, ct + d_top), max(0, sh - cb - 1))
    nb = min(max(0, cb + d_bottom), max(0, sh - nt - 1))
    moved_l, moved_r, moved_t, moved_b = (nl - cl) * sx, (nr - cr) * sx, (nt - ct) * sy, (nb - cb) * sy
    if scale[0] < 0:
        nl, nr = nr, nl
        moved_l, moved_r = moved_r, moved_l
    if scale[1] < 0:
        nt, nb = nb, nt
        moved_t, moved_b = moved_b, moved_t
    box = _box_from_local(p, moved_l, moved_t, p.width - moved_r, p.height - moved_b)
    return CropResult((nl, nt, nr, nb), box.x, box.y)


def snap_targets(canvas: tuple[int, int], others: Iterable[Placement]) -> tuple[list[float], list[float]]:
    """Lines an edge may snap to: canvas edges and centre, and other items' edges."""
    w, h = canvas
    xs, ys = [0.0, w / 2.0, float(w)], [0.0, h / 2.0, float(h)]
    for o in others:
        left, top, right, bottom = bounds(o)
        xs += [left, right]
        ys += [top, bottom]
    return xs, ys


def _best(values: Sequence[float], targets: Sequence[float], threshold: float) -> tuple[float, float | None]:
    """The smallest shift (<= threshold) that puts one of ``values`` on a target."""
    best_shift, best_line = 0.0, None
    for v in values:
        for t in targets:
            d = t - v
            if abs(d) <= threshold and (best_line is None or abs(d) < abs(best_shift)):
                best_shift, best_line = d, t
    return best_shift, best_line


def snap_move(p: Placement, targets: tuple[list[float], list[float]],
              threshold: float) -> tuple[float, float, float | None, float | None]:
    """Shift (dx, dy) that snaps the item's bounding box edges or centre; and the lines it hit."""
    left, top, right, bottom = bounds(p)
    dx, line_x = _best((left, (left + right) / 2.0, right), targets[0], threshold)
    dy, line_y = _best((top, (top + bottom) / 2.0, bottom), targets[1], threshold)
    return dx, dy, line_x, line_y


def snap_edge(value: float, targets: Sequence[float], threshold: float) -> tuple[float, float | None]:
    shift, line = _best((value,), targets, threshold)
    return value + shift, line


def safe_area(canvas: tuple[int, int], share: float) -> tuple[float, float, float, float]:
    """Centred frame covering ``share`` of the width and height: left, top, width, height."""
    w, h = canvas
    return w * (1 - share) / 2.0, h * (1 - share) / 2.0, w * share, h * share


ROTATE_SNAP_DEG = 15.0  # Shift while rotating: whole steps of this


def rotation_handle(p: Placement, distance: float) -> Point:
    """The rotate handle: ``distance`` canvas pixels above the top edge's middle, turning with the item."""
    return to_canvas(p, (p.width / 2.0, -distance))


def rotation_at(p: Placement, point: Point, snap: bool = False) -> float:
    """The rotation (degrees, clockwise, 0..360) that puts the rotate handle under ``point``."""
    cx, cy = center(p)
    dx, dy = point[0] - cx, point[1] - cy
    if dx == 0.0 and dy == 0.0:
        return p.rotation
    degrees = math.degrees(math.atan2(dx, -dy))  # straight up = 0, clockwise on screen (y down)
    if snap:
        degrees = round(degrees / ROTATE_SNAP_DEG) * ROTATE_SNAP_DEG
    return round(degrees % 360.0, 3)
