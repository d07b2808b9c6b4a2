"""A latest-value slot: a producer thread overwrites it, readers take the newest without waiting.

Used between a camera worker and the video clock, and between the clock and the UI/encoder.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestSlot(Generic[T]):
    """Holds the newest value a producer wrote; readers never block and never see a torn value.

    Older values are simply replaced (a live source never queues frames the clock has no time
    to show). ``wait`` lets offline renders and tests block until a value is there.
    """

    def __init__(self) -> None:
        self._value: T | None = None
        self._cond = threading.Condition(threading.Lock())
        self.writes = 0

    def put(self, value: T | None) -> None:
        with self._cond:
            self._value = value
            self.writes += 1
            self._cond.notify_all()

    def get(self) -> T | None:
        # a single attribute read is atomic under the GIL; no lock needed on the clock's path
        return self._value

    def clear(self) -> None:
        self.put(None)

    def latest(self) -> tuple[T | None, int]:
        """The newest value and its write count (a version: it changes with every put)."""
        with self._cond:
            return self._value, self.writes

    def wait_newer(self, version: int, timeout_s: float) -> tuple[T | None, int]:
        """For tests and tools, never the UI thread: wait for a value newer than ``version``."""
        self.wait(timeout_s, after_writes=version)
        return self.latest()

    def wait(self, timeout_s: float, after_writes: int = 0) -> bool:
        """Block until a value is present and more than ``after_writes`` writes happened."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self._value is not None and self.writes > after_writes, timeout_s
            )
