"""The source interface: what the compositor and the clock need from every source type."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from scenes.frame import VideoFrame


class Source(ABC):
    """A live producer of pictures (and maybe sound).

    Runs on the ``video-clock`` thread: ``tick`` and ``frame`` must never block. Sources that do
    I/O (clips, cameras) do it on their own worker thread and hand frames over through a slot.
    ``error`` holds a human-readable problem (missing file, camera unplugged); the source then
    shows a card saying so instead of failing the show.
    """

    type_id: str = ""
    # the program's frame duration, set by the engine when it adopts the source (0: unknown);
    # sources that release sound hand out one frame's worth with each frame
    frame_ns: int = 0

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.error: str | None = None

    def update(self, settings: dict[str, Any]) -> None:
        """New validated settings; default re-reads everything."""
        self.settings = settings

    def tick(self, clock_ns: int) -> None:  # noqa: B027 - optional hook
        """Advance to the program clock time ``clock_ns`` (called once per output frame)."""

    @abstractmethod
    def frame(self) -> VideoFrame | None:
        """The picture to show now (premultiplied BGRA), or None for nothing."""

    @property
    @abstractmethod
    def size(self) -> tuple[int, int]:
        """Native (width, height) of the picture; stable while the settings do not change."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release threads, files and devices."""
