"""Mask / blend image: an image file shapes the source (alpha or luma mask) or is blended over it
(multiply, add). The image is read once per path and scaled once per picture size."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from scenes.filters.alpha import scale_premultiplied, spread4
from scenes.filters.base import FilterType, VideoFilter
from scenes.filters.registry import register
from scenes.frame import VideoFrame, premultiply
from scenes.properties import PropertyKind, PropertySpec

MODES = ("alpha_mask", "luma_mask", "multiply", "add")


_cache: dict[tuple[str, int, int], np.ndarray] = {}
_cache_lock = threading.Lock()


def read_image(path: str) -> np.ndarray:
    """A picture file -> premultiplied BGRA uint8 (read-only, shared); ValueError naming the file.

    Kept by (path, mtime, size): the editor's check reads it on the UI thread, so the clock
    thread building the filter finds it decoded already."""
    if not path:
        raise ValueError("mask: choose an image file")
    try:
        st = os.stat(path)
    except OSError:
        raise ValueError(f"{path}: image not found") from None
    key = (path, st.st_mtime_ns, st.st_size)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    img = _decode(path)
    img.flags.writeable = False
    with _cache_lock:
        if len(_cache) > 8:
            _cache.clear()
        _cache[key] = img
    return img


def _decode(path: str) -> np.ndarray:
    if not Path(path).is_file():
        raise ValueError(f"{path}: image not found")
    data = np.fromfile(path, np.uint8)  # np.fromfile + imdecode: non-ASCII paths work on every OS
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        raise ValueError(f"{path}: not an image OpenCV can read")
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGRA)
    elif img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2BGRA)
    if img.dtype != np.uint8:
        img = cv2.convertScaleAbs(img, alpha=255.0 / 65535.0)
    return premultiply(img)


class Mask(VideoFilter):
    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        self._image = read_image(settings["path"])
        self._mode = settings["mode"]
        self._invert = bool(settings["invert"])
        self._opacity = float(settings["opacity"])
        self._sized: tuple[tuple[int, int], np.ndarray] | None = None

    def _image_at(self, w: int, h: int) -> np.ndarray:
        if self._sized is None or self._sized[0] != (w, h):
            self._sized = ((w, h), cv2.resize(self._image, (w, h), interpolation=cv2.INTER_AREA))
        return self._sized[1]

    def _factor(self, img: np.ndarray) -> np.ndarray:
        if self._mode == "alpha_mask":
            f = img[:, :, 3].copy()
        else:  # luma of the premultiplied image: black and transparent both hide
            f = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGRA2BGR), cv2.COLOR_BGR2GRAY)
        if self._invert:
            f = cv2.bitwise_not(f)
        if self._opacity < 1.0:
            # opacity < 1 lets part of the hidden picture through: f' = 255 - o * (255 - f)
            f = cv2.bitwise_not(cv2.convertScaleAbs(cv2.bitwise_not(f), alpha=self._opacity))
        return f

    def apply(self, frame: VideoFrame) -> VideoFrame:
        px = frame.pixels
        img = self._image_at(frame.width, frame.height)
        if self._mode in ("alpha_mask", "luma_mask"):
            return VideoFrame(scale_premultiplied(px, self._factor(img)), opaque=False, pts_ns=frame.pts_ns)
        alpha4 = spread4(cv2.extractChannel(px, 3))
        if self._mode == "multiply":
            # colour x image colour where the image is; the image's transparent parts leave it alone
            ia = spread4(cv2.extractChannel(img, 3))
            keep = cv2.subtract(np.full_like(ia, 255), ia)  # 255 - image alpha
            tinted = cv2.add(img, keep)  # premultiplied image over white: straight-ish multiplier
            tinted[:, :, 3] = 255
            multiplied = cv2.multiply(px, tinted, scale=1.0 / 255.0)
            out = cv2.addWeighted(multiplied, self._opacity, px, 1.0 - self._opacity, 0.0)
        else:  # add: light only where the picture is (premultiplied colour stays under alpha)
            light = cv2.multiply(img, alpha4, scale=self._opacity / 255.0)
            light[:, :, 3] = 0
            out = cv2.min(cv2.add(px, light), alpha4)
        return VideoFrame(out, opaque=frame.opaque, pts_ns=frame.pts_ns)


def _check(settings: Mapping[str, Any]) -> None:
    read_image(settings["path"])


MASK = register(FilterType(
    id="mask",
    version=1,
    name="Mask / blend image",
    properties=(
        PropertySpec("path", PropertyKind.PATH, "", "Image file",
                     file_filter="Images (*.png *.jpg *.jpeg *.bmp *.webp)"),
        PropertySpec("mode", PropertyKind.ENUM, "alpha_mask", "Mode", choices=MODES,
                     choice_labels=("Alpha mask", "Luma mask", "Multiply", "Add")),
        PropertySpec("invert", PropertyKind.BOOL, False, "Invert"),
        PropertySpec("opacity", PropertyKind.FLOAT, 1.0, "Opacity", 0.0, 1.0),
    ),
    factory=Mask,
    check=_check,
))
