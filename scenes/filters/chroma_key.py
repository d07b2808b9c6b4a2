"""Chroma key: make a green (or blue, or any) backdrop transparent, and take its spill off the edges.

Distance is measured in the chroma plane (Cr, Cb of BT.601 YCbCr) so shadows and highlights on the
backdrop key alike, as OBS's chroma key does. Everything is uint8 OpenCV: Euclidean distance is
approximated by ``max + 3/8 * min`` of the two chroma differences (within 7 %), and the
similarity/smoothness ramp is one saturating multiply-add, so a 1080p camera keys in a few milliseconds.

Pictures from HALF_RES_MIN_WIDTH up are keyed at half resolution and the matte scaled back up
bilinearly: a camera's chroma is 4:2:0 (half resolution) to begin with, so the full-size matte
held no more information, and the upscale is the slight edge softening the smoothness ramp wants.
Colour and spill stay full resolution; on pictures from that width they are worked in two row
bands at once (scenes.filters.bands): the OpenCV calls release the GIL, so where a second core has
room (a streamer's PC has several) the clock's wall time for the key halves; the CPU time does not
change, and on a busy 2-core machine the gain goes (`studio bench filters` reports both).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

from scenes.filters.alpha import straight_bgr
from scenes.filters.bands import run_in_two_bands
from scenes.filters.base import FilterType, VideoFilter
from scenes.filters.registry import register
from scenes.frame import VideoFrame
from scenes.properties import PropertyKind, PropertySpec, parse_color

PRESETS = {"green": "#00FF00", "blue": "#0000FF"}
# Keyed pictures are written into a ring of this many buffers. A buffer is overwritten four new
# source frames after it was handed out; by then nothing can use it: the filter bank keeps the
# last two outputs per source and the compositors re-prepare on every new source frame.
OUTPUT_RING = 4
HALF_RES_MIN_WIDTH = 1280
STRIP_ROWS = 64


def chroma_of(b: int, g: int, r: int) -> tuple[float, float]:
    """(Cr, Cb) of a straight BGR colour, as OpenCV's BGR2YCrCb computes them."""
    y = 0.299 * r + 0.587 * g + 0.114 * b
    return 128.0 + 0.713 * (r - y), 128.0 + 0.564 * (b - y)


def ramp(similarity: float, smoothness: float) -> tuple[float, float]:
    """(scale, offset) so that ``alpha = scale * distance + offset`` (saturated to 0..255) is 0 up
    to ``similarity`` and 255 from ``similarity + smoothness`` (distances in 0..1 of 255)."""
    width = max(smoothness, 1.0 / 255.0)
    scale = 1.0 / width
    return scale, -similarity * 255.0 * scale


class ChromaKey(VideoFilter):
    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        hex_color = PRESETS.get(settings["key"], settings["color"])
        b, g, r, _ = parse_color(hex_color)
        cr, cb = chroma_of(b, g, r)
        self._kcr, self._kcb = int(round(min(max(cr, 0), 255))), int(round(min(max(cb, 0), 255)))
        self._scale, self._offset = ramp(float(settings["similarity"]), float(settings["smoothness"]))
        self._spill = float(settings["spill"])
        # spill lives in the key's strongest channel (green for a green screen)
        self._spill_ch = int(np.argmax((b, g, r)))
        self._planes: dict[str, np.ndarray] | None = None
        self._outputs: list[np.ndarray] = []
        self._next = 0
        self._strips: dict[tuple[int, int], list[np.ndarray]] = {}  # per band (first row, width)

    def _scratch(self, h: int, w: int) -> dict[str, np.ndarray]:
        """Intermediate planes, reused while the picture size stays (no page faults per frame).
        The matte's planes ("y" … "small") are at the size the matte is computed at."""
        if self._planes is None or self._planes["key"].shape != (h, w):
            halved = w >= HALF_RES_MIN_WIDTH and h % 2 == 0 and w % 2 == 0
            mh, mw = (h // 2, w // 2) if halved else (h, w)

            self._planes = {name: np.empty((mh, mw), np.uint8) for name in
                            ("y", "cr", "cb", "dcr", "dcb", "big", "small")}
            self._planes.update({name: np.empty((h, w), np.uint8) for name in
                                 ("key", "b", "g", "r", "a", "spill")})
            self._planes["ycc"] = np.empty((mh, mw, 3), np.uint8)
            self._planes["half"] = np.empty((mh, mw, 4), np.uint8)
            self._outputs = [np.empty((h, w, 4), np.uint8) for _ in range(OUTPUT_RING)]
        return self._planes

    def matte(self, frame: VideoFrame) -> np.ndarray:
        """Alpha that the key leaves (HxW uint8, 0 = backdrop); a scratch plane, valid until the
        next call."""
        s = self._scratch(frame.height, frame.width)
        bgr = frame.pixels if frame.opaque else straight_bgr(frame)
        half = s["ycc"].shape[:2] != s["key"].shape
        if half:  # 2x2 averages: INTER_AREA's fast path for an exact half
            bgr = cv2.resize(bgr, s["half"].shape[1::-1], dst=s["half"], interpolation=cv2.INTER_AREA)
        cv2.cvtColor(bgr, cv2.COLOR_BGR2YCrCb, dst=s["ycc"])  # takes BGRA as it is (the 4th is ignored)
        cv2.split(s["ycc"], [s["y"], s["cr"], s["cb"]])  # into preallocated planes: one pass
        cv2.absdiff(s["cr"], self._kcr, dst=s["dcr"])  # type: ignore[call-overload]
        cv2.absdiff(s["cb"], self._kcb, dst=s["dcb"])  # type: ignore[call-overload]
        cv2.max(s["dcr"], s["dcb"], dst=s["big"])
        cv2.min(s["dcr"], s["dcb"], dst=s["dcb"])
        # distance (max + 3/8 min) and the similarity/smoothness ramp in one saturating pass
        out = s["small"] if half else s["key"]
        cv2.addWeighted(s["big"], self._scale, s["dcb"], 0.375 * self._scale, self._offset, dst=out)
        if half:
            cv2.resize(out, s["key"].shape[::-1], dst=s["key"], interpolation=cv2.INTER_LINEAR)
        return s["key"]

    def apply(self, frame: VideoFrame) -> VideoFrame:
        key = self.matte(frame)
        out = self._outputs[self._next]
        self._next = (self._next + 1) % OUTPUT_RING
        if frame.width >= HALF_RES_MIN_WIDTH:
            run_in_two_bands(lambda a, b: self._colour_rows(frame, key, out, a, b), frame.height)
        else:
            self._colour_rows(frame, key, out, 0, frame.height)
        return VideoFrame(out, opaque=False, pts_ns=frame.pts_ns)

    def _colour_rows(self, frame: VideoFrame, key: np.ndarray, out: np.ndarray, a: int, b: int) -> None:
        """Spill reduction and premultiplication of rows [a, b) into ``out``, STRIP_ROWS at a time
        through strip-sized planes that stay in the core's cache (the whole-picture planes made each
        step a trip to memory)."""
        w = frame.width
        strip = self._strips.get((a, w))
        if strip is None:
            strip = self._strips[(a, w)] = [np.empty((STRIP_ROWS, w), np.uint8) for _ in range(5)]
        for y in range(a, b, STRIP_ROWS):
            n = min(STRIP_ROWS, b - y)
            b_, g_, r_, a_, spill = (p[:n] for p in strip)
            planes = [b_, g_, r_, a_]
            k = key[y:y + n]
            cv2.split(frame.pixels[y:y + n], planes)
            if self._spill > 0.0:
                # the key colour's channel may not exceed the larger of the other two: homogeneous,
                # so it holds on premultiplied colour too; blended in by ``spill``
                c = self._spill_ch
                own = planes[c]
                o1, o2 = (planes[i] for i in range(3) if i != c)
                cv2.max(o1, o2, dst=spill)
                cv2.min(own, spill, dst=spill)
                cv2.addWeighted(spill, self._spill, own, 1.0 - self._spill, 0.0, dst=own)
            # premultiplied: every channel scales with the key (an opaque picture's alpha becomes
            # the key itself), merged into the next buffer of a small ring (a fresh 8 MB array per
            # frame costs page faults; see OUTPUT_RING for why 4 is safe)
            for plane in planes[:3]:
                cv2.multiply(plane, k, dst=plane, scale=1.0 / 255.0)
            if frame.opaque:
                planes[3] = k
            else:
                cv2.multiply(planes[3], k, dst=planes[3], scale=1.0 / 255.0)
            cv2.merge(planes, dst=out[y:y + n])


def _check_color(settings: Mapping[str, Any]) -> None:
    if settings["key"] == "custom":
        parse_color(settings["color"])


CHROMA_KEY = register(FilterType(
    id="chroma_key",
    version=1,
    name="Chroma key",
    properties=(
        PropertySpec("key", PropertyKind.ENUM, "green", "Key colour", choices=("green", "blue", "custom"),
                     choice_labels=("Green", "Blue", "Custom colour")),
        PropertySpec("color", PropertyKind.COLOR, "#FF00FF00", "Custom colour"),
        PropertySpec("similarity", PropertyKind.FLOAT, 0.35, "Similarity", 0.0, 1.0),
        PropertySpec("smoothness", PropertyKind.FLOAT, 0.08, "Smoothness", 0.0, 1.0),
        PropertySpec("spill", PropertyKind.FLOAT, 0.8, "Spill reduction", 0.0, 1.0),
    ),
    factory=ChromaKey,
    check=_check_color,
))
