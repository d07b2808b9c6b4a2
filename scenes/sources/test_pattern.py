"""Test pattern: colour bars, a moving bar (motion is visible), a frame counter and the latency stamp.

The stamp (``scenes.stamp``) at the top-left carries the wall-clock time of ``tick()``, i.e. the
moment the compositor asked for this frame, so a reader downstream can measure glass-to-glass delay.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scenes.frame import VideoFrame
from scenes.properties import PropertyKind, PropertySpec
from scenes.registry import SourceFlags, SourceType, register
from scenes.sources.base import Source
from scenes.stamp import STAMP_HEIGHT, STAMP_WIDTH, draw_stamp, wall_clock_ms
from scenes.text_raster import TextStyle, blit_over, render_text

# 75 % bars (BGR), left to right: white, yellow, cyan, green, magenta, red, blue.
BARS = ((191, 191, 191), (0, 191, 191), (191, 191, 0), (0, 191, 0), (191, 0, 191), (0, 0, 191), (191, 0, 0))
SWEEP_NS = 2_000_000_000  # the moving bar crosses the picture every 2 s


def color_bars(width: int, height: int) -> np.ndarray:
    """Opaque BGRA: seven bars over the top three quarters, a grey ramp below."""
    px = np.empty((height, width, 4), np.uint8)
    px[:, :, 3] = 255
    bars_h = height * 3 // 4
    edges = [width * i // len(BARS) for i in range(len(BARS) + 1)]
    for (b, g, r), x0, x1 in zip(BARS, edges, edges[1:], strict=False):
        px[:bars_h, x0:x1, :3] = (b, g, r)
    ramp = np.linspace(0, 255, width, dtype=np.float32).astype(np.uint8)
    px[bars_h:, :, :3] = ramp[None, :, None]
    return px


class TestPatternSource(Source):
    type_id = "test_pattern"
    __test__ = False  # not a pytest test class despite the name

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__(settings)
        self._count = 0
        self._prepare()
        self._frame = self._render(0)

    def update(self, settings: dict[str, Any]) -> None:
        super().update(settings)
        self._prepare()
        self._frame = self._render(0)

    def _prepare(self) -> None:
        w, h = self.size
        self._bars = color_bars(w, h)
        style = TextStyle(size_px=max(14, h // 18), bold=True, color="#FFFFFFFF", outline_width=2)
        # digits are drawn from a small atlas so per-frame text does not fill the text cache
        glyphs = [render_text(style, str(d)).pixels for d in range(10)]
        self._digit_w = max(g.shape[1] for g in glyphs)
        self._digits = glyphs
        self._label = render_text(style, "frame").pixels

    def _draw_counter(self, canvas: np.ndarray, number: int) -> None:
        h = canvas.shape[0]
        x = max(8, h // 40)
        y = h - self._label.shape[0] - x
        blit_over(canvas, self._label, x, y)
        x += self._label.shape[1] + self._digit_w // 2
        for ch in str(number):
            glyph = self._digits[int(ch)]
            blit_over(canvas, glyph, x + (self._digit_w - glyph.shape[1]) // 2, y)
            x += self._digit_w

    def _render(self, clock_ns: int) -> VideoFrame:
        w, h = self.size
        canvas = self._bars.copy()  # a new array per frame: consumers may still hold the last one
        bar_w = max(4, w // 40)
        phase = (clock_ns % SWEEP_NS) / SWEEP_NS
        x = int(phase * (w - bar_w))
        canvas[: h * 3 // 4, x : x + bar_w, :3] = 255
        self._draw_counter(canvas, self._count)
        if self.settings["show_clock"]:
            draw_stamp(canvas, wall_clock_ms(), self._count)
        return VideoFrame(canvas, opaque=True, pts_ns=clock_ns)

    def tick(self, clock_ns: int) -> None:
        self._count += 1
        self._frame = self._render(clock_ns)

    @property
    def frame_count(self) -> int:
        return self._count

    def frame(self) -> VideoFrame:
        return self._frame

    @property
    def size(self) -> tuple[int, int]:
        return self.settings["width"], self.settings["height"]


TEST_PATTERN = register(
    SourceType(
        id="test_pattern",
        version=1,
        name="Test pattern",
        flags=SourceFlags.VIDEO,
        properties=(
            PropertySpec("width", PropertyKind.INT, 1280, "Width", STAMP_WIDTH, 7680),
            PropertySpec("height", PropertyKind.INT, 720, "Height", max(STAMP_HEIGHT, 180), 4320),
            PropertySpec("show_clock", PropertyKind.BOOL, True, "Latency stamp (wall clock)"),
        ),
        factory=TestPatternSource,
    )
)
