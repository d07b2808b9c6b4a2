"""Crop and pad: cut pixels off the edges, then add a border (transparent unless a colour is given).
The source's picture changes size; the scene item places the result like any other picture."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

from scenes.filters.base import FilterType, VideoFilter
from scenes.filters.registry import register
from scenes.frame import VideoFrame
from scenes.properties import PropertyKind, PropertySpec, parse_color

_SIDES = ("left", "top", "right", "bottom")


class CropPad(VideoFilter):
    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        self._crop = tuple(int(settings[f"crop_{s}"]) for s in _SIDES)
        self._pad = tuple(int(settings[f"pad_{s}"]) for s in _SIDES)
        b, g, r, a = parse_color(settings["pad_color"])
        self._fill = ((b * a + 127) // 255, (g * a + 127) // 255, (r * a + 127) // 255, a)  # premultiplied

    def apply(self, frame: VideoFrame) -> VideoFrame:
        cl, ct, cr, cb = self._crop
        pl, pt, pr, pb = self._pad
        if not any(self._crop) and not any(self._pad):
            return frame
        h, w = frame.height, frame.width
        if cl + cr >= w or ct + cb >= h:  # nothing left: one transparent pixel, not an error
            return VideoFrame(np.zeros((1, 1, 4), np.uint8), opaque=False, pts_ns=frame.pts_ns)
        px = frame.pixels[ct: h - cb, cl: w - cr]
        if any(self._pad):
            px = cv2.copyMakeBorder(px, pt, pb, pl, pr, cv2.BORDER_CONSTANT, value=self._fill)
        else:
            px = px.copy()
        opaque = frame.opaque and (not any(self._pad) or self._fill[3] == 255)
        return VideoFrame(px, opaque=opaque, pts_ns=frame.pts_ns)


CROP_PAD = register(FilterType(
    id="crop_pad",
    version=1,
    name="Crop / pad",
    properties=(
        *(PropertySpec(f"crop_{s}", PropertyKind.INT, 0, f"Crop {s}", 0, 8192) for s in _SIDES),
        *(PropertySpec(f"pad_{s}", PropertyKind.INT, 0, f"Pad {s}", 0, 8192) for s in _SIDES),
        PropertySpec("pad_color", PropertyKind.COLOR, "#00000000", "Pad colour"),
    ),
    factory=CropPad,
))
