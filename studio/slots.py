"""Reusable canvas rings for the clock; the latest-frame slot lives in scenes.slots."""

from __future__ import annotations

import numpy as np

from scenes.slots import LatestSlot

__all__ = ["CanvasRing", "LatestSlot"]


class CanvasRing:
    """Preallocated canvases reused round-robin, so the clock never allocates a frame.

    A canvas handed out is rewritten ``len(ring)`` frames later; readers that keep one longer copy it.
    """

    def __init__(self, width: int, height: int, count: int = 6) -> None:
        self._canvases = [np.zeros((height, width, 4), np.uint8) for _ in range(count)]
        self._next = 0

    def __len__(self) -> int:
        return len(self._canvases)

    def take(self) -> np.ndarray:
        canvas = self._canvases[self._next]
        self._next = (self._next + 1) % len(self._canvases)
        return canvas
