"""Colour correction: brightness, contrast, gamma (one 256-entry table per channel, cv2.LUT) and
saturation, hue (one 3x3 colour matrix, cv2.transform), on straight colour."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

from scenes.filters.alpha import alpha_of, premultiplied, straight_bgr
from scenes.filters.base import FilterType, VideoFilter
from scenes.filters.registry import register
from scenes.frame import VideoFrame
from scenes.properties import PropertyKind, PropertySpec

# BT.601 luma weights in B, G, R order: saturation turns about this grey
_LUMA_BGR = np.array([0.114, 0.587, 0.299], np.float64)


def tone_table(brightness: float, contrast: float, gamma: float) -> np.ndarray:
    """0..255 -> 0..255: gamma first, then contrast about mid-grey, then brightness."""
    x = np.arange(256, dtype=np.float64) / 255.0
    x = np.power(x, 1.0 / gamma)
    factor = math.tan((contrast + 1.0) * math.pi / 4.0)  # -1 -> flat, 0 -> 1, +1 -> steep
    x = (x - 0.5) * factor + 0.5 + brightness
    return np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)


def color_matrix(saturation: float, hue_degrees: float) -> np.ndarray:
    """3x3 BGR matrix: hue rotation about the grey axis, then saturation towards luma."""
    # hue: rotate in RGB about (1,1,1)/sqrt(3) (the classic matrix), expressed for BGR
    a = math.radians(hue_degrees)
    c, s = math.cos(a), math.sin(a)
    k = (1.0 - c) / 3.0
    r3 = math.sqrt(1.0 / 3.0) * s
    rgb = np.array([
        [c + k, k - r3, k + r3],
        [k + r3, c + k, k - r3],
        [k - r3, k + r3, c + k],
    ])
    rev = np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0]], np.float64)  # BGR <-> RGB
    hue_bgr = rev @ rgb @ rev
    sat = (1.0 - saturation) * np.tile(_LUMA_BGR, (3, 1)) + saturation * np.eye(3)
    return (sat @ hue_bgr).astype(np.float32)


class ColorCorrection(VideoFilter):
    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        self._table = tone_table(settings["brightness"], settings["contrast"], settings["gamma"])
        self._identity_tone = bool(np.array_equal(self._table, np.arange(256, dtype=np.uint8)))
        self._matrix = color_matrix(settings["saturation"], settings["hue"])
        self._identity_matrix = bool(np.allclose(self._matrix, np.eye(3), atol=1e-6))

    def apply(self, frame: VideoFrame) -> VideoFrame:
        if self._identity_tone and self._identity_matrix:
            return frame
        bgr = straight_bgr(frame)
        if not self._identity_matrix:
            bgr = cv2.transform(bgr, self._matrix)  # saturates to 0..255
        if not self._identity_tone:
            bgr = cv2.LUT(bgr, self._table)
        return VideoFrame(premultiplied(bgr, alpha_of(frame)), opaque=frame.opaque, pts_ns=frame.pts_ns)


COLOR_CORRECTION = register(FilterType(
    id="color_correction",
    version=1,
    name="Colour correction",
    properties=(
        PropertySpec("brightness", PropertyKind.FLOAT, 0.0, "Brightness", -1.0, 1.0),
        PropertySpec("contrast", PropertyKind.FLOAT, 0.0, "Contrast", -0.99, 0.99),
        PropertySpec("saturation", PropertyKind.FLOAT, 1.0, "Saturation", 0.0, 4.0),
        PropertySpec("gamma", PropertyKind.FLOAT, 1.0, "Gamma", 0.1, 10.0),
        PropertySpec("hue", PropertyKind.FLOAT, 0.0, "Hue shift (degrees)", -180.0, 180.0),
    ),
    factory=ColorCorrection,
))
