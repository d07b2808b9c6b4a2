"""Likes and gifts for viewers: an animated likes counter and gift toasts ("小明 送出 火箭 x2")
shown one after another.

``set_likes``/``add_likes``/``push_gift`` are safe from any thread; the ``video-clock`` thread
animates in ``tick(clock_ns)`` (program time, so offline renders repeat exactly) and re-renders
only when the displayed number or the toast changes.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from scenes.frame import VideoFrame
from scenes.properties import PropertyKind, PropertySpec
from scenes.registry import SourceFlags, SourceType, register
from scenes.sources.base import Source
from scenes.text_raster import TextStyle, blit_over, render_text

MAX_NAME = 40
_NS = 1_000_000_000
ANIMATION_NS = 600_000_000  # the counter runs up to a new total in this time


def format_likes(n: int) -> str:
    """Chinese style: 9999 -> "9999", 12345 -> "1.2万", 123456789 -> "1.2亿"."""
    if n >= 100_000_000:
        return f"{n / 100_000_000:.1f}亿"
    if n >= 10_000:
        return f"{n / 10_000:.1f}万"
    return str(n)


def gift_text(sender: str, gift: str, count: int) -> str:
    return f"{sender} 送出 {gift} x{count}"


@dataclass(frozen=True, slots=True)
class ReactionStats:
    likes_total: int
    likes_shown: int  # the animated number on screen now
    toast: str | None  # the gift toast on screen now
    queued: int
    dropped: int  # toasts dropped because the queue was full


def _clean(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"reactions overlay: {what} must be non-empty text")
    value = " ".join(value.split())
    return value if len(value) <= MAX_NAME else value[: MAX_NAME - 1] + "…"


class ReactionsOverlaySource(Source):
    type_id = "reactions_overlay"

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__(settings)
        self._lock = threading.Lock()
        self._target = 0
        self._toasts: deque[str] = deque()
        self._dropped = 0
        # clock-thread state
        self._anim_from = 0
        self._anim_to = 0
        self._anim_start: int | None = None
        self._shown = 0
        self._toast: str | None = None
        self._toast_until = 0
        self._key: tuple[int, str | None] | None = None
        self._frame: VideoFrame | None = None
        self.renders = 0

    def update(self, settings: dict[str, Any]) -> None:
        super().update(settings)
        self._key = None
        self._frame = self._render(self._shown, self._toast)

    # ---- any thread ----

    def set_likes(self, total: int) -> None:
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise ValueError(f"likes total must be an integer >= 0, got {total!r}")
        with self._lock:
            self._target = total

    def add_likes(self, count: int) -> None:
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"likes count must be an integer >= 0, got {count!r}")
        with self._lock:
            self._target += count

    def push_gift(self, sender: str, gift: str, count: int = 1) -> None:
        """Queue a toast; when the queue is full the oldest waiting one is dropped."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"gift count must be an integer >= 1, got {count!r}")
        text = gift_text(_clean(sender, "sender"), _clean(gift, "gift name"), count)
        with self._lock:
            self._toasts.append(text)
            while len(self._toasts) > int(self.settings["queue_limit"]):
                self._toasts.popleft()
                self._dropped += 1

    def stats(self) -> ReactionStats:
        with self._lock:
            return ReactionStats(self._target, self._shown, self._toast, len(self._toasts), self._dropped)

    # ---- clock thread ----

    def tick(self, clock_ns: int) -> None:
        with self._lock:
            target = self._target
            if self._toast is not None and clock_ns >= self._toast_until:
                self._toast = None
            if self._toast is None and self._toasts:
                self._toast = self._toasts.popleft()
                self._toast_until = clock_ns + int(float(self.settings["toast_seconds"]) * _NS)
            toast = self._toast
        if target != self._anim_to:  # a new total: run up to it from what is shown now
            self._anim_from, self._anim_to, self._anim_start = self._shown, target, clock_ns
        if self._anim_start is not None:
            done = min(1.0, max(0, clock_ns - self._anim_start) / ANIMATION_NS)
            eased = 1.0 - (1.0 - done) ** 3  # ease-out: fast first, settling on the total
            self._shown = round(self._anim_from + (self._anim_to - self._anim_from) * eased)
            if done >= 1.0:
                self._anim_start = None
        key = (self._shown, toast)
        if key != self._key:
            self._frame = self._render(self._shown, toast)
            self._key = key
            self.renders += 1

    def _render(self, likes: int, toast: str | None) -> VideoFrame:
        s = self.settings
        w, h, size = int(s["width"]), int(s["height"]), int(s["font_size"])
        canvas = np.zeros((h, w, 4), np.uint8)
        shadow = max(1, size // 16)
        counter = TextStyle(size_px=size, bold=True, color=s["likes_color"], shadow_offset=(shadow, shadow))
        line = render_text(counter, f"❤ {format_likes(likes)} {s['likes_label']}".rstrip())
        blit_over(canvas, line.pixels, 0, 0)
        if toast is not None:
            style = TextStyle(
                size_px=max(8, round(size * 0.8)), bold=True, color=s["toast_color"],
                background=s["toast_background"], padding=max(4, size // 4),
                corner_radius=max(4.0, size / 2.5), max_lines=1,
            )  # fmt: skip
            blit_over(canvas, render_text(style, "🎁 " + toast, w).pixels, 0, line.height + size // 3)
        return VideoFrame(canvas)

    def frame(self) -> VideoFrame | None:
        if self._frame is None:
            self._frame = self._render(self._shown, self._toast)
        return self._frame

    @property
    def size(self) -> tuple[int, int]:
        return self.settings["width"], self.settings["height"]


REACTIONS_OVERLAY = register(
    SourceType(
        id="reactions_overlay",
        version=1,
        name="Likes and gifts",
        flags=SourceFlags.VIDEO | SourceFlags.INTERACTIVE,
        properties=(
            PropertySpec("width", PropertyKind.INT, 560, "Width", 120, 3840),
            PropertySpec("height", PropertyKind.INT, 200, "Height", 60, 2160),
            PropertySpec("font_size", PropertyKind.INT, 44, "Font size (px)", 10, 200),
            PropertySpec("likes_label", PropertyKind.STRING, "赞", "Likes label", max_length=20),
            PropertySpec("likes_color", PropertyKind.COLOR, "#FFFF4D6D", "Likes colour"),
            PropertySpec("toast_color", PropertyKind.COLOR, "#FFFFFFFF", "Gift text colour"),
            PropertySpec("toast_background", PropertyKind.COLOR, "#B0E0306A", "Gift toast background"),
            PropertySpec("toast_seconds", PropertyKind.FLOAT, 3.0, "Gift toast time (s)", 0.5, 30.0),
            PropertySpec("queue_limit", PropertyKind.INT, 50, "Most gift toasts waiting", 1, 1000),
        ),
        factory=ReactionsOverlaySource,
    )
)
