"""LUT filter: a .cube colour grade, trilinear, on straight colour.

Trilinear without per-pixel Python, in one OpenCV ``remap``: trilinear interpolation is linear
along blue of a bilinear red/green lookup, so the table is baked once (when the filter is built)
into 256 red x green slices, one for every 8-bit blue value, each blended from the two cube slices
around it. Stacked as one uint8 image (rows: blue value x green, columns: red), a single bilinear
``remap`` per frame then gives exactly the trilinear result (to OpenCV's 1/32-pixel weights).
1D LUTs become one 256-entry table per channel (cv2.LUT).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

from scenes.filters.alpha import alpha_of, premultiplied, straight_bgr
from scenes.filters.base import FilterType, VideoFilter
from scenes.filters.cube import CubeLut, load_cube
from scenes.filters.registry import register
from scenes.frame import VideoFrame
from scenes.properties import PropertyKind, PropertySpec

MAX_BAKED = 64  # cubes up to this size are baked as they are; larger ones are resampled to it
# (remap's fixed-point maps need the image under 32767 rows: 256 x 65 rows fits, 256 x 129 does not)


def _coords(lut: CubeLut, channel: int, n: int) -> np.ndarray:
    """8-bit value -> position in an n-point table along one RGB channel (0..n-1), domain applied."""
    lo, hi = lut.domain_min[channel], lut.domain_max[channel]
    v = np.arange(256, dtype=np.float64) / 255.0
    return np.clip((v - lo) / (hi - lo), 0.0, 1.0) * (n - 1)


def _lerp_axis(table: np.ndarray, pos: np.ndarray, axis: int) -> np.ndarray:
    """Linear interpolation of ``table`` at fractional positions ``pos`` along ``axis``."""
    n = table.shape[axis]
    i0 = np.floor(pos).astype(int).clip(0, n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    w = (pos - i0).reshape([-1 if a == axis else 1 for a in range(table.ndim)])
    return np.take(table, i0, axis=axis) * (1.0 - w) + np.take(table, i1, axis=axis) * w


def _resampled(lut: CubeLut, n: int) -> np.ndarray:
    """The cube resampled to n points per axis (trilinear), for cubes too large to bake."""
    grid = np.linspace(0, lut.size - 1, n)
    t = lut.table.astype(np.float64)
    for axis in range(3):
        t = _lerp_axis(t, grid, axis)
    return t


class Lut(VideoFilter):
    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        if not settings["path"]:
            raise ValueError("LUT: choose a .cube file")
        self.lut = load_cube(settings["path"])
        self._mix = float(settings["amount"])
        if self.lut.is_3d:
            n = min(self.lut.size, MAX_BAKED)
            table = self.lut.table.astype(np.float64) if n == self.lut.size else _resampled(self.lut, n)
            # (b, g, r, RGB): one slice per 8-bit blue value, then rows b*n + g, columns r, BGR 0..255
            slices = _lerp_axis(table, _coords(self.lut, 2, n), axis=0)
            self._image = np.ascontiguousarray(
                np.clip(np.round(slices[..., ::-1] * 255.0), 0, 255).astype(np.uint8).reshape(256 * n, n, 3))
            self._x = _coords(self.lut, 0, n).astype(np.float32).reshape(256, 1)
            self._y = _coords(self.lut, 1, n).astype(np.float32).reshape(256, 1)
            self._row = (np.arange(256) * n).astype(np.float32).reshape(256, 1)
            self._n = n
            self._plain_domain = self.lut.domain_min == (0.0, 0.0, 0.0) and self.lut.domain_max == (1.0, 1.0, 1.0)
        else:
            n = self.lut.size
            curves = []
            for ch in (2, 1, 0):  # BGR order
                curves.append(np.interp(_coords(self.lut, ch, n), np.arange(n), self.lut.table[:, ch]) * 255.0)
            self._table1d = np.clip(np.round(np.stack(curves, axis=1)), 0, 255).astype(np.uint8).reshape(256, 1, 3)

    def _grade(self, bgr: np.ndarray) -> np.ndarray:
        if not self.lut.is_3d:
            return cv2.LUT(bgr, self._table1d)
        b, g, r = cv2.split(bgr)
        n = self._n
        if self._plain_domain:  # 0..1: the coordinates are plain multiply-adds (SIMD, no lookups)
            k = (n - 1) / 255.0
            mapx = cv2.addWeighted(r, k, r, 0.0, 0.0, dtype=cv2.CV_32F)
            mapy = cv2.addWeighted(b, float(n), g, k, 0.0, dtype=cv2.CV_32F)
        else:
            mapx = cv2.LUT(r, self._x)
            mapy = cv2.add(cv2.LUT(g, self._y), cv2.LUT(b, self._row))
        return cv2.remap(self._image, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def apply(self, frame: VideoFrame) -> VideoFrame:
        bgr = straight_bgr(frame)
        graded = self._grade(bgr)
        if self._mix < 1.0:
            graded = cv2.addWeighted(graded, self._mix, bgr, 1.0 - self._mix, 0.0)
        return VideoFrame(premultiplied(graded, alpha_of(frame)), opaque=frame.opaque, pts_ns=frame.pts_ns)


def _check(settings: Mapping[str, Any]) -> None:
    if settings["path"]:
        load_cube(settings["path"])


LUT = register(FilterType(
    id="lut",
    version=1,
    name="LUT",
    properties=(
        PropertySpec("path", PropertyKind.PATH, "", "LUT file", file_filter="Cube LUT (*.cube)"),
        PropertySpec("amount", PropertyKind.FLOAT, 1.0, "Amount", 0.0, 1.0),
    ),
    factory=Lut,
    check=_check,
))
