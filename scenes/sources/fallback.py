"""The on-air stand-in for a failing source: a user-chosen image the program shows instead of nothing.

Status cards ("NO SIGNAL", "MEDIA ERROR") never go on air (see ``Source.frame_for``); a source with
a ``fallback_image`` puts this picture on the program while it has no picture of its own. The file
is decoded by an ``ImageSource`` (its own loader thread) as soon as it is chosen, so it is ready
before the failure it covers; the clock only fits the decoded picture to the source's size, once
per size.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from scenes.frame import VideoFrame
from scenes.properties import PropertyKind, PropertySpec
from scenes.sources.image import IMAGE_FILTER, ImageSource

FALLBACK_IMAGE = PropertySpec(
    "fallback_image", PropertyKind.PATH, "", "On-air fallback image (shown while the source fails)",
    file_filter=IMAGE_FILTER,
)


def add_fallback_image(settings: dict[str, Any]) -> dict[str, Any]:
    """Migration for source types that gained the property: older files had none."""
    settings.setdefault(FALLBACK_IMAGE.name, "")
    return settings


def fit(picture: VideoFrame, size: tuple[int, int]) -> VideoFrame:
    """``picture`` scaled to fit inside ``size`` (aspect kept), centred, transparent around it."""
    w, h = size
    if (picture.width, picture.height) == (w, h):
        return picture
    scale = min(w / picture.width, h / picture.height)
    fw, fh = max(1, round(picture.width * scale)), max(1, round(picture.height * scale))
    shrink = fw < picture.width and fh < picture.height
    scaled = cv2.resize(picture.pixels, (fw, fh), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    if (fw, fh) == (w, h):
        return VideoFrame(scaled, opaque=picture.opaque)
    out = np.zeros((h, w, 4), np.uint8)
    x, y = (w - fw) // 2, (h - fh) // 2
    out[y: y + fh, x: x + fw] = scaled
    return VideoFrame(out, opaque=False)


class FallbackImage:
    """One source's fallback picture. ``set_path`` and ``frame`` run on the clock thread."""

    def __init__(self, path: str) -> None:
        self._image = ImageSource({"path": path})
        self._fitted: VideoFrame | None = None
        self._key: tuple[int, tuple[int, int]] | None = None

    @property
    def path(self) -> str:
        return str(self._image.settings.get("path", ""))

    def set_path(self, path: str) -> None:
        if path != self.path:
            self._image.update({"path": path})  # a new loader; never joins on this thread

    @property
    def error(self) -> str | None:
        """Why the chosen image cannot be shown (None: none chosen, loading, or fine)."""
        return self._image.error if self.path else None

    def wait_ready(self, timeout_s: float) -> bool:
        return self._image.wait_ready(0, timeout_s)

    def frame(self, size: tuple[int, int]) -> VideoFrame | None:
        """The picture fitted to ``size`` (None: none chosen, not decoded yet, or unreadable)."""
        picture = self._image.frame() if self.path else None
        if picture is None or size[0] <= 0 or size[1] <= 0:
            return None
        key = (picture.serial, size)
        if key != self._key:
            self._fitted, self._key = fit(picture, size), key
        return self._fitted

    def close(self) -> None:
        self._image.close()
