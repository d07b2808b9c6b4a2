"""Composites a scene's items into a preallocated BGRA canvas (premultiplied alpha, uint8).

Per item: take the source's current frame, crop, scale (cached per source frame), rotate, apply
opacity, then blend only over the item's rectangle. Blending is ``dst = src + dst * (1 - a)``
done with OpenCV on uint8 views; opaque items at full opacity are copied instead.

A source that offers ``sprites`` (a sparse overlay: bullet comments) is drawn patch by patch
straight onto the canvas when its item only moves it (no scaling, crop, rotation, opacity or
filter): no full-size frame is painted or blended. Any other transform takes the frame path.

A compositor renders for one ``View``: the program (what is streamed and recorded) never shows a
source's status card, the operator's preview does (``Source.frame_for``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import numpy as np

from scenes.filters.base import FilterConfig
from scenes.filters.chain import FilterBank
from scenes.frame import VideoFrame
from scenes.model import Scene, SceneItem
from scenes.sources.base import Source, Sprite, View


@dataclass(frozen=True, slots=True)
class ItemSnapshot:
    """An item's state, copied at the start of a tick so editors may change the model meanwhile."""

    id: str
    source: str
    x: float
    y: float
    scale_x: float
    scale_y: float
    rotation: float
    crop: tuple[int, int, int, int]
    opacity: float
    filters: tuple[FilterConfig, ...] = ()  # the source's video filters, in order

    @classmethod
    def of(cls, item: SceneItem, filters: tuple[FilterConfig, ...] = ()) -> ItemSnapshot:
        return cls(item.id, item.source, item.x, item.y, item.scale_x, item.scale_y,
                   item.rotation, item.crop, item.opacity, filters)


def snapshot(scene: Scene) -> tuple[ItemSnapshot, ...]:
    col = scene._collection
    sources = col.sources if col is not None else {}

    def filters_of(name: str) -> tuple[FilterConfig, ...]:
        cfg = sources.get(name)
        return cfg.filters if cfg is not None else ()

    return tuple(ItemSnapshot.of(it, filters_of(it.source)) for it in scene.items if it.visible)


@dataclass(slots=True)
class _Prepared:
    """A source frame transformed for one item: pixels ready to blend, and where they go."""

    key: tuple[object, ...]
    pixels: np.ndarray  # premultiplied BGRA with opacity applied
    inv_alpha: np.ndarray | None  # 255 - alpha as 4 channels; None when opaque (plain copy)
    x: int
    y: int


@dataclass(frozen=True, slots=True)
class _SpriteLayer:
    """An item drawn from its source's sprites: their offset on the canvas and the item's box
    (clipped to the canvas) that they are clipped to."""

    sprites: list[Sprite]
    x: int
    y: int
    clip: tuple[int, int, int, int]  # x0, y0, x1, y1


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an item lands on the canvas: the un-rotated box (top-left, size) and its rotation."""

    x: float
    y: float
    width: float
    height: float
    rotation: float


def placement(item: ItemSnapshot | SceneItem, source_size: tuple[int, int]) -> Placement:
    """The item's box on the canvas (used by the compositor and by the editor's handles)."""
    sw, sh = source_size
    left, top, right, bottom = item.crop
    cw, ch = max(0, sw - left - right), max(0, sh - top - bottom)
    return Placement(item.x, item.y, cw * abs(item.scale_x), ch * abs(item.scale_y), item.rotation)


class Compositor:
    """Renders scenes at a fixed canvas size for ``view`` (the program unless told otherwise: a
    compositor made without thinking about it must never put an error slate on air).
    Not thread-safe: one compositor per render thread."""

    def __init__(self, width: int, height: int, view: View = View.PROGRAM,
                 filters: FilterBank | None = None) -> None:
        self.width = width
        self.height = height
        self.view = view
        # video filters run once per new source frame; program and preview may share one bank
        self.filters = filters if filters is not None else FilterBank()
        self._cache: dict[str, _Prepared] = {}

    def render(
        self,
        items: tuple[ItemSnapshot, ...],
        sources: Mapping[str, Source],
        out: np.ndarray,
    ) -> None:
        """Draw ``items`` bottom-up into ``out`` (HxWx4 uint8, overwritten)."""
        if out.shape != (self.height, self.width, 4):
            raise ValueError(f"canvas must be {self.width}x{self.height}x4, got {out.shape}")
        prepared: list[_Prepared | _SpriteLayer] = []
        seen: set[str] = set()
        for item in items:
            source = sources.get(item.source)
            layer = None if item.filters else self._sprite_layer(item, source)  # filters need the frame
            if layer is not None:
                prepared.append(layer)
                continue
            frame = source.frame_for(self.view) if source is not None else None
            if frame is None:
                continue
            if item.filters:
                frame = self.filters.apply(item.source, item.filters, frame)
            prep = self._prepare(item, frame, None if item.filters else _content_bounds(source))
            seen.add(item.id)
            if prep is not None:
                prepared.append(prep)
        # forget cached transforms of items that are gone (keeps memory bounded across scene edits)
        for stale in self._cache.keys() - seen:
            del self._cache[stale]

        start = 0
        # Skip clearing and everything below the top-most opaque item covering the whole canvas.
        for i in range(len(prepared) - 1, -1, -1):
            p = prepared[i]
            if isinstance(p, _Prepared) and p.inv_alpha is None and p.x <= 0 and p.y <= 0 and \
                    p.x + p.pixels.shape[1] >= self.width and p.y + p.pixels.shape[0] >= self.height:
                start = i
                break
        else:
            out.fill(0)
        for p in prepared[start:]:
            if isinstance(p, _SpriteLayer):
                _blend_sprites(out, p)
            else:
                _blend_into(out, p)

    def _sprite_layer(self, item: ItemSnapshot, source: Source | None) -> _SpriteLayer | None:
        """The item as sprites when its source offers them and the item only moves the picture;
        None: take the frame path (it also honours scale, crop, rotation and opacity)."""
        if source is None or item.rotation % 360.0 != 0.0 or item.crop != (0, 0, 0, 0) \
                or item.scale_x <= 0 or item.scale_y <= 0 or item.opacity < 1.0:
            return None
        sw, sh = source.size
        place = placement(item, (sw, sh))
        if (int(round(place.width)), int(round(place.height))) != (sw, sh) or source.status() is not None:
            return None
        sprites = source.sprites()
        if sprites is None:
            return None
        x, y = int(round(item.x)), int(round(item.y))
        clip = (max(0, x), max(0, y), min(self.width, x + sw), min(self.height, y + sh))
        return _SpriteLayer(sprites, x, y, clip)

    def _prepare(self, item: ItemSnapshot, frame: VideoFrame,
                 bounds: tuple[int, int, int, int] | None = None) -> _Prepared | None:
        place = placement(item, (frame.width, frame.height))
        w, h = int(round(place.width)), int(round(place.height))
        if w <= 0 or h <= 0 or item.opacity <= 0.0:
            return None
        key = (frame.serial, w, h, item.crop, item.rotation, item.opacity,
               item.scale_x < 0, item.scale_y < 0, int(round(item.x)), int(round(item.y)), bounds)
        cached = self._cache.get(item.id)
        if cached is not None and cached.key == key:
            return cached
        if bounds is not None and (w, h) == (frame.width, frame.height) and item.crop == (0, 0, 0, 0) \
                and item.rotation % 360.0 == 0.0 and item.scale_x > 0 and item.scale_y > 0:
            # a full-canvas overlay that says where its pixels are: blend only that box
            return self._prepare_box(item, frame, bounds, key)

        left, top, right, bottom = item.crop
        px = frame.pixels[top: frame.height - bottom, left: frame.width - right]
        if (w, h) != (px.shape[1], px.shape[0]):
            shrinking = w < px.shape[1] and h < px.shape[0]
            px = cv2.resize(px, (w, h), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
        if item.scale_x < 0 or item.scale_y < 0:
            flip = -1 if item.scale_x < 0 and item.scale_y < 0 else (1 if item.scale_x < 0 else 0)
            px = cv2.flip(px, flip)
        opaque = frame.opaque
        x, y = int(round(item.x)), int(round(item.y))
        if item.rotation % 360.0 != 0.0:
            px, dx, dy = _rotate(px, item.rotation)
            x, y = x + dx, y + dy
            opaque = False
        if item.opacity < 1.0:
            px = cv2.convertScaleAbs(px, alpha=item.opacity)  # premultiplied: scale all four channels
            opaque = False
        inv = None if opaque else cv2.merge([255 - px[:, :, 3]] * 4)
        prep = _Prepared(key, px, inv, x, y)
        self._cache[item.id] = prep
        return prep


    def _prepare_box(self, item: ItemSnapshot, frame: VideoFrame, bounds: tuple[int, int, int, int],
                     key: tuple[object, ...]) -> _Prepared | None:
        x0, y0, x1, y1 = bounds
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(frame.width, x1), min(frame.height, y1)
        if x0 >= x1 or y0 >= y1:
            return None
        px = frame.pixels[y0:y1, x0:x1]
        if item.opacity < 1.0:
            px = cv2.convertScaleAbs(px, alpha=item.opacity)
        inv = None if frame.opaque and item.opacity >= 1.0 else cv2.merge([255 - px[:, :, 3]] * 4)
        prep = _Prepared(key, px, inv, int(round(item.x)) + x0, int(round(item.y)) + y0)
        self._cache[item.id] = prep
        return prep


def _content_bounds(source: Source | None) -> tuple[int, int, int, int] | None:
    """Sources whose frames are mostly transparent may say where their pixels are (x0, y0, x1, y1)."""
    bounds = getattr(source, "content_bounds", None)
    return bounds() if callable(bounds) else None


def _rotate(px: np.ndarray, degrees: float) -> tuple[np.ndarray, int, int]:
    """Rotate about the centre into a bounding box; returns pixels and the box's offset."""
    h, w = px.shape[:2]
    rad = math.radians(degrees)
    cos, sin = abs(math.cos(rad)), abs(math.sin(rad))
    bw, bh = int(math.ceil(w * cos + h * sin)), int(math.ceil(w * sin + h * cos))
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), -degrees, 1.0)  # OpenCV: positive = counter-clockwise
    m[0, 2] += (bw - w) / 2.0
    m[1, 2] += (bh - h) / 2.0
    out = cv2.warpAffine(px, m, (bw, bh), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    return out, -(bw - w) // 2, -(bh - h) // 2


def _blend_sprites(canvas: np.ndarray, layer: _SpriteLayer) -> None:
    """Each sprite over the canvas, only its own pixels (hundreds per frame: clipping inlined)."""
    ox, oy = layer.x, layer.y
    cx0, cy0, cx1, cy1 = layer.clip
    scale = 1.0 / 255.0
    for s in layer.sprites:
        src = s.pixels
        inv = s.inv_alpha
        h, w = src.shape[:2]
        x0, y0 = ox + s.x, oy + s.y
        x1, y1 = x0 + w, y0 + h
        if x0 < cx0 or y0 < cy0 or x1 > cx1 or y1 > cy1:
            sx, sy = (cx0 - x0 if x0 < cx0 else 0), (cy0 - y0 if y0 < cy0 else 0)
            x0, y0 = x0 + sx, y0 + sy
            x1, y1 = (x1 if x1 < cx1 else cx1), (y1 if y1 < cy1 else cy1)
            if x0 >= x1 or y0 >= y1:
                continue
            src = src[sy: sy + y1 - y0, sx: sx + x1 - x0]
            if inv is not None:
                inv = inv[sy: sy + y1 - y0, sx: sx + x1 - x0]
        dst = canvas[y0:y1, x0:x1]
        if inv is None:
            np.copyto(dst, src)
        else:
            # the same rounding as _blend_into: dst = src + dst * (255 - a) / 255
            cv2.add(src, cv2.multiply(dst, inv, scale=scale), dst=dst)


def _blend_into(canvas: np.ndarray, p: _Prepared) -> None:
    ch, cw = canvas.shape[:2]
    ph, pw = p.pixels.shape[:2]
    x0, y0 = max(p.x, 0), max(p.y, 0)
    x1, y1 = min(p.x + pw, cw), min(p.y + ph, ch)
    if x0 >= x1 or y0 >= y1:
        return
    src = p.pixels[y0 - p.y: y1 - p.y, x0 - p.x: x1 - p.x]
    dst = canvas[y0:y1, x0:x1]
    if p.inv_alpha is None:
        np.copyto(dst, src)
        return
    inv = p.inv_alpha[y0 - p.y: y1 - p.y, x0 - p.x: x1 - p.x]
    # dst = src + dst * (255 - a) / 255 ; both ops saturate and round like the reference formula
    cv2.add(src, cv2.multiply(dst, inv, scale=1.0 / 255.0), dst=dst)
