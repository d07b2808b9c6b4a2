"""Latest-frame slots and reusable canvas rings between the clock and its readers."""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")


class LatestSlot(Generic[T]):
    """Holds the newest value; readers never wait and never see a half-written one."""

    def __init__(self) -> None:
        self._value: T | None = None
        self._version = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    def publish(self, value: T) -> None:
        with self._lock:
            self._value = value
            self._version += 1
            self._changed.notify_all()

    def latest(self) -> tuple[T | None, int]:
        """The newest value and its version number (changes whenever a new value is published)."""
        with self._lock:
            return self._value, self._version

    def wait_newer(self, version: int, timeout: float) -> tuple[T | None, int]:
        """Wait (for tests and tools, never on the UI thread) until a value newer than ``version``."""
        with self._lock:
            self._changed.wait_for(lambda: self._version > version, timeout)
            return self._value, self._version


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
