"""Stand-in sources the compositor benches share: a still picture, and an overlay forced onto the
compositor's full-frame path (how sparse overlays were drawn before sprites), to time beside it."""

from __future__ import annotations

from scenes.frame import VideoFrame
from scenes.sources.base import Source
from scenes.sources.danmaku_overlay import DanmakuOverlaySource


class Still(Source):
    def __init__(self, frame: VideoFrame) -> None:
        super().__init__({})
        self._frame = frame

    def frame(self) -> VideoFrame:
        return self._frame

    @property
    def size(self) -> tuple[int, int]:
        return self._frame.width, self._frame.height


class FramePathOverlay(Source):
    """The overlay without its sprites: the compositor blends its full-size frame's content box.
    With ``drives_overlay`` it also ticks the overlay and paints that frame in ``tick``, as the
    overlay did on air before the compositor drew its sprites."""

    def __init__(self, inner: DanmakuOverlaySource, *, drives_overlay: bool = False) -> None:
        super().__init__({})
        self.inner = inner
        self._drives = drives_overlay

    def tick(self, clock_ns: int) -> None:
        if self._drives:
            self.inner.tick(clock_ns)
            self.inner.frame()

    def frame(self) -> VideoFrame | None:
        return self.inner.frame()

    def content_bounds(self) -> tuple[int, int, int, int] | None:
        return self.inner.content_bounds()

    @property
    def size(self) -> tuple[int, int]:
        return self.inner.size

    def close(self) -> None:
        if self._drives:
            self.inner.close()
