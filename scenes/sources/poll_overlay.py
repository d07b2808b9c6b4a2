"""Poll results for viewers: the question, one bar per option with its percentage and votes, a
countdown, and the winner highlighted once the poll is closed.

The interaction service (``studio/interaction/overlays.py``) hands over a :class:`PollView` from
any thread with ``set_state``; the ``video-clock`` thread re-renders in ``tick`` only when what is
shown changes (counts, the displayed second, closing), at most once a frame however often votes
come. A re-render draws only what votes change: the panel with its question is kept (``_base``)
and copied, the bars' shapes are kept, only the option rows' bars, figures and the footer are drawn.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from scenes.frame import VideoFrame, solid
from scenes.properties import PropertyKind, PropertySpec, parse_color
from scenes.registry import SourceFlags, SourceType, register
from scenes.sources.base import Source
from scenes.sources.product_card import format_countdown, rounded_rect_coverage
from scenes.text_raster import TextStyle, blit_over, render_text

MAX_OPTIONS = 10
_UNSET = object()


@lru_cache(maxsize=16)
def _coverage(width: int, height: int, radius: float) -> np.ndarray:
    """A rounded rectangle's coverage, kept (the panel and bar shapes repeat every re-render)."""
    cov = rounded_rect_coverage(width, height, radius)[:, :, None]
    cov.flags.writeable = False
    return cov


@dataclass(frozen=True)
class PollView:
    """What the poll overlay shows. ``winner`` is only meaningful when ``closed``; a closed poll
    without a winner is waiting for the director's pick."""

    question: str
    options: tuple[str, ...]
    counts: tuple[int, ...]
    remaining_s: float
    closed: bool = False
    winner: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.question, str):
            raise ValueError("PollView.question must be a string")
        if not 1 <= len(self.options) <= MAX_OPTIONS:
            raise ValueError(f"PollView.options: 1-{MAX_OPTIONS} options, got {len(self.options)}")
        if len(self.counts) != len(self.options):
            raise ValueError(f"PollView: {len(self.options)} options but {len(self.counts)} counts")
        if any(not isinstance(c, int) or c < 0 for c in self.counts):
            raise ValueError("PollView.counts must be integers >= 0")
        if not isinstance(self.remaining_s, int | float) or not math.isfinite(self.remaining_s):
            raise ValueError(f"PollView.remaining_s must be a finite number, got {self.remaining_s!r}")
        if self.winner is not None and not 0 <= self.winner < len(self.options):
            raise ValueError(f"PollView.winner {self.winner} is not an option index")

    @property
    def total(self) -> int:
        return sum(self.counts)

    def percentages(self) -> tuple[int, ...]:
        """Whole percentages that add up to 100 (largest remainder), all 0 without votes."""
        total = self.total
        if total == 0:
            return tuple(0 for _ in self.counts)
        exact = [100 * c / total for c in self.counts]
        floors = [math.floor(e) for e in exact]
        order = sorted(range(len(exact)), key=lambda i: floors[i] - exact[i])
        for i in order[: 100 - sum(floors)]:
            floors[i] += 1
        return tuple(floors)

    def shown_key(self) -> tuple[object, ...]:
        """Everything that changes the picture (the countdown in whole seconds)."""
        second = 0 if self.closed else math.ceil(max(0.0, self.remaining_s))
        return (self.question, self.options, self.counts, second, self.closed, self.winner)


class PollOverlaySource(Source):
    type_id = "poll_overlay"

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__(settings)
        self._lock = threading.Lock()
        self._pending: object = _UNSET  # PollView | None waiting for the next tick
        self._view: PollView | None = None
        self._key: tuple[object, ...] | None = None
        self._frame: VideoFrame | None = None
        self.renders = 0  # how many times the picture was drawn (re-render only on change)
        self._base_key: tuple[object, ...] | None = None
        self._base: tuple[np.ndarray, int] | None = None  # the panel with its question, where rows start
        self.base_renders = 0  # how many times the panel and question were drawn

    def update(self, settings: dict[str, Any]) -> None:
        super().update(settings)
        self._key = None  # force a re-render at the next tick
        self._base_key = None
        with self._lock:
            if self._pending is _UNSET:
                self._pending = self._view

    def set_state(self, view: PollView | None) -> None:
        """Show ``view`` from the next tick on (None hides the overlay). Any thread."""
        if view is not None and not isinstance(view, PollView):
            raise ValueError(f"poll overlay needs a PollView or None, got {type(view).__name__}")
        with self._lock:
            self._pending = view

    @property
    def view(self) -> PollView | None:
        return self._view

    def tick(self, clock_ns: int) -> None:
        with self._lock:
            pending, self._pending = self._pending, _UNSET
        if pending is _UNSET:
            return
        view = pending if isinstance(pending, PollView) else None
        self._view = view
        if view is None:
            self._frame, self._key = None, None
            return
        key = view.shown_key()
        if key != self._key:
            self._frame = VideoFrame(self._render(view))
            self._key = key
            self.renders += 1

    def frame(self) -> VideoFrame | None:
        return self._frame

    @property
    def size(self) -> tuple[int, int]:
        return self.settings["width"], self.settings["height"]

    # ---- drawing ----

    def _layout(self, n: int) -> tuple[int, float]:
        """The margin and the text unit for ``n`` options."""
        w, h = int(self.settings["width"]), int(self.settings["height"])
        m = max(6, round(min(w, h) * 0.05))
        # vertical budget: question (2 lines) + n option rows (label + bar) + countdown line
        return m, max(8.0, (h - 2 * m) / (2.6 + n * 2.0 + 1.2))

    def _panel(self, view: PollView) -> tuple[np.ndarray, int]:
        """The panel with the question (unchanged by votes: drawn once per question and settings)."""
        s = self.settings
        w, h = int(s["width"]), int(s["height"])
        key = (w, h, s["panel_color"], s["text_color"], view.question, len(view.options))
        if self._base is not None and key == self._base_key:
            return self._base
        m, unit = self._layout(len(view.options))
        canvas = solid(w, h, parse_color(s["panel_color"]))
        canvas = (canvas.astype(np.float32) * _coverage(w, h, min(w, h) * 0.06) + 0.5).astype(np.uint8)
        q_style = TextStyle(size_px=max(8, round(unit * 0.9)), bold=True, color=s["text_color"], max_lines=2)
        question = render_text(q_style, view.question, max(8, w - 2 * m))
        blit_over(canvas, question.pixels, m, m)
        canvas.flags.writeable = False
        self._base, self._base_key = (canvas, m + max(question.height, round(unit * 2.4))), key
        self.base_renders += 1
        return self._base

    def _render(self, view: PollView) -> np.ndarray:
        s = self.settings
        w = int(s["width"])
        h = int(s["height"])
        base, y = self._panel(view)
        canvas = base.copy()
        m, unit = self._layout(len(view.options))
        text, accent, win = s["text_color"], s["accent_color"], s["winner_color"]
        o_style = TextStyle(size_px=max(8, round(unit * 0.75)), color=text, max_lines=1)
        w_style = TextStyle(size_px=max(8, round(unit * 0.75)), bold=True, color=win, max_lines=1)
        f_style = TextStyle(size_px=max(8, round(unit * 0.7)), bold=True, color=accent)
        inner = max(8, w - 2 * m)
        percents = view.percentages()
        row_h = round(unit * 2.0)
        bar_h = max(4, round(unit * 0.55))
        for i, (option, count, pct) in enumerate(zip(view.options, view.counts, percents, strict=True)):
            is_winner = view.closed and view.winner == i
            style = w_style if is_winner else o_style
            figure = render_text(style, f"{pct}%  ({count})")
            label = render_text(style, ("✓ " if is_winner else "") + option, max(8, inner - figure.width - m))
            blit_over(canvas, label.pixels, m, y)
            blit_over(canvas, figure.pixels, w - m - figure.width, y)
            bar_y = y + max(label.height, figure.height)
            self._bar(canvas, m, bar_y, inner, bar_h, pct / 100.0, win if is_winner else accent, is_winner)
            y += row_h
        footer = self._footer(view)
        if footer:
            label = render_text(f_style, footer, inner)
            blit_over(canvas, label.pixels, (w - label.width) // 2, min(h - m - label.height, y))
        return canvas

    def _footer(self, view: PollView) -> str:
        s = self.settings
        if not view.closed:
            return f"{s['countdown_label']} {format_countdown(math.ceil(max(0.0, view.remaining_s)))}"
        if view.winner is None:
            return str(s["tie_text"])
        return f"{s['closed_text']} · {view.options[view.winner]}"

    def _bar(self, canvas: np.ndarray, x: int, y: int, w: int, h: int, frac: float, colour: str,
             strong: bool) -> None:
        track = solid(w, h, parse_color(self.settings["track_color"]))
        fill_w = round(w * max(0.0, min(1.0, frac)))
        if fill_w > 0:
            track[:, :fill_w] = solid(fill_w, h, parse_color(colour))
        if strong:  # the winner's bar gets a bright rim
            track[:1], track[-1:], track[:, :1], track[:, -1:] = 255, 255, 255, 255
        blit_over(canvas, (track.astype(np.float32) * _coverage(w, h, h / 2) + 0.5).astype(np.uint8), x, y)


POLL_OVERLAY = register(
    SourceType(
        id="poll_overlay",
        version=1,
        name="Poll results",
        flags=SourceFlags.VIDEO | SourceFlags.INTERACTIVE,
        properties=(
            PropertySpec("width", PropertyKind.INT, 640, "Width", 160, 3840),
            PropertySpec("height", PropertyKind.INT, 420, "Height", 120, 2160),
            PropertySpec("countdown_label", PropertyKind.STRING, "剩余", "Countdown label", max_length=20),
            PropertySpec("closed_text", PropertyKind.STRING, "投票结束", "Closed text", max_length=40),
            PropertySpec("tie_text", PropertyKind.STRING, "平票 · 等待导演选择", "Tie text", max_length=40),
            PropertySpec("accent_color", PropertyKind.COLOR, "#FF4DA3FF", "Bar colour"),
            PropertySpec("winner_color", PropertyKind.COLOR, "#FFFFC83D", "Winner colour"),
            PropertySpec("track_color", PropertyKind.COLOR, "#50FFFFFF", "Bar track colour"),
            PropertySpec("panel_color", PropertyKind.COLOR, "#C0101018", "Panel colour"),
            PropertySpec("text_color", PropertyKind.COLOR, "#FFFFFFFF", "Text colour"),
        ),
        factory=PollOverlaySource,
    )
)
