"""LUT filter: a .cube colour grade, trilinear, on straight colour.

Trilinear without per-pixel Python: the 3D table is laid out as a 2D image (rows: blue slice x
green, columns: red) so OpenCV's ``remap`` does the bilinear red/green step inside a slice; two
remaps (the blue slices below and above) are blended by the blue fraction. 1D LUTs become one
256-entry table per channel (cv2.LUT).
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


def _coords(lut: CubeLut, channel: int) -> np.ndarray:
    """8-bit value -> position in the table along one RGB channel (0..N-1), domain applied."""
    lo, hi = lut.domain_min[channel], lut.domain_max[channel]
    v = np.arange(256, dtype=np.float64) / 255.0
    return np.clip((v - lo) / (hi - lo), 0.0, 1.0) * (lut.size - 1)


class Lut(VideoFilter):
    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        if not settings["path"]:
            raise ValueError("LUT: choose a .cube file")
        self.lut = load_cube(settings["path"])
        self._mix = float(settings["amount"])
        n = self.lut.size
        if self.lut.is_3d:
            # (b, g, r, RGB) -> image rows b*N + g, columns r, channels BGR, in 0..255
            self._image = np.ascontiguousarray(
                self.lut.table[..., ::-1].reshape(n * n, n, 3) * 255.0, dtype=np.float32)
            cr, cg, cb = _coords(self.lut, 0), _coords(self.lut, 1), _coords(self.lut, 2)
            b0 = np.floor(cb).clip(0, n - 1)
            b1 = np.minimum(b0 + 1, n - 1)
            self._x = cr.astype(np.float32).reshape(256, 1)
            self._y = cg.astype(np.float32).reshape(256, 1)
            self._y0 = (b0 * n).astype(np.float32).reshape(256, 1)
            self._y1 = (b1 * n).astype(np.float32).reshape(256, 1)
            self._w1 = (cb - b0).astype(np.float32).reshape(256, 1)
            self._w0 = (1.0 - (cb - b0)).astype(np.float32).reshape(256, 1)
        else:
            curves = []
            for ch in (2, 1, 0):  # BGR order
                pos = _coords(self.lut, ch)
                curves.append(np.interp(pos, np.arange(n), self.lut.table[:, ch]) * 255.0)
            self._table1d = np.clip(np.round(np.stack(curves, axis=1)), 0, 255).astype(np.uint8).reshape(256, 1, 3)

    def _grade(self, bgr: np.ndarray) -> np.ndarray:
        if not self.lut.is_3d:
            return cv2.LUT(bgr, self._table1d)
        b, g, r = cv2.split(bgr)
        mapx = cv2.LUT(r, self._x)
        gy = cv2.LUT(g, self._y)
        lower = cv2.remap(self._image, mapx, cv2.add(gy, cv2.LUT(b, self._y0)), cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
        upper = cv2.remap(self._image, mapx, cv2.add(gy, cv2.LUT(b, self._y1)), cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
        mixed = cv2.blendLinear(lower, upper, cv2.LUT(b, self._w0), cv2.LUT(b, self._w1))
        return cv2.convertScaleAbs(mixed)  # rounds and saturates to uint8 (values are >= 0)

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
