"""Sharpen: an unsharp mask (picture + amount * (picture - blurred)). Linear, so it runs on the
premultiplied pixels directly; colour is then held at or under alpha to stay valid."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cv2

from scenes.filters.alpha import spread4
from scenes.filters.base import FilterType, VideoFilter
from scenes.filters.registry import register
from scenes.frame import VideoFrame
from scenes.properties import PropertyKind, PropertySpec


class Sharpen(VideoFilter):
    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        self._amount = float(settings["amount"])
        self._sigma = float(settings["radius"])

    def apply(self, frame: VideoFrame) -> VideoFrame:
        if self._amount <= 0.0:
            return frame
        px = frame.pixels
        blurred = cv2.GaussianBlur(px, (0, 0), self._sigma)
        out = cv2.addWeighted(px, 1.0 + self._amount, blurred, -self._amount, 0.0)  # saturates
        if frame.opaque:
            out[:, :, 3] = 255
        else:
            # premultiplied colour may not exceed alpha
            alpha4 = spread4(cv2.extractChannel(out, 3))
            out = cv2.min(out, alpha4)
        return VideoFrame(out, opaque=frame.opaque, pts_ns=frame.pts_ns)


SHARPEN = register(FilterType(
    id="sharpen",
    version=1,
    name="Sharpen",
    properties=(
        PropertySpec("amount", PropertyKind.FLOAT, 0.5, "Amount", 0.0, 5.0),
        PropertySpec("radius", PropertyKind.FLOAT, 1.0, "Radius (pixels)", 0.3, 10.0),
    ),
    factory=Sharpen,
))
