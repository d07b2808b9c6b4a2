"""Bullet comments (danmaku) over the program: scrolling lanes, top/bottom fixed comments, a pin.

Messages arrive from any thread through ``push``/``remove``/``pin``/``unpin``/``clear`` (a lock
guards the waiting queue and the pending operations); the ``video-clock`` thread applies them in
``tick(clock_ns)``, so positions follow the program clock and offline renders are repeatable.

Cost: each message is rasterised once (``render_text`` cache) when it is admitted, a bounded
number per tick and only while a lane (or row) has room for it, so a chat faster than the lanes
costs no rasterising for comments that will never be shown; its inverse alpha is prepared then too.
``push_many`` takes a burst (one network read) and looks only at the comments the queue can keep.

At capacity the overlay says so: a "+N" label in the bottom-right corner (the pin band's row) tells
how many comments were not shown in the last ``MISSED_WINDOW_S`` seconds (dropped from a full
queue, at the cap, or after waiting a whole duration). It is plain text through the same text path
(digits only, so it reads the same in every language), re-rendered at most twice a second. The compositor draws the comments
straight onto the program as ``sprites`` (each comment's own pixels, blended where it is), so on
air the overlay never paints a full-size canvas. ``frame`` paints one on demand, for views that
need the whole picture (a scaled or cropped item, a filter, a thumbnail), only where comments were or are:
scrolling comments never overlap (see ``scenes.lanes``) and their rows are disjoint, so on the
transparent canvas "over" is a plain copy of each comment's rectangle; the strip a comment left
behind is cleared. Fixed comments and the pin (which may cross scrolling lanes) are cleared and
blended (premultiplied over, with OpenCV as the compositor does) every frame.

The canvas is reused between frames: a frame's pixels are valid until the next ``tick``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from scenes.frame import VideoFrame
from scenes.lanes import FixedRows, ScrollLanes, Trajectory
from scenes.properties import PropertyKind, PropertySpec, parse_color
from scenes.registry import SourceFlags, SourceType, register
from scenes.sources.base import Source, Sprite, inverse_alpha
from scenes.text_raster import TextStyle, measure_text, render_text

MODES = ("scroll", "top", "bottom")
MAX_TEXT = 200
MAX_ID = 128
RECENT = 1000  # messages remembered for pin-by-id
_NS = 1_000_000_000
_LANE_PROBE = "国Ag"
MISSED_WINDOW_S = 5  # "+N": comments not shown in this many seconds
_LABEL_EVERY_NS = _NS // 2  # the "+N" label is re-rendered at most this often
Comment = tuple[str, str, str, str]  # (id, text, colour, mode), as ``push`` takes them


@dataclass(frozen=True, slots=True)
class DanmakuStats:
    on_screen: int  # scrolling + fixed comments drawn now (the pin not counted)
    queued: int  # waiting for a lane or for room under the cap
    dropped: int  # pushed but never shown: queue full, or waited longer than a duration
    shown: int  # admitted to the screen since creation
    pinned: bool
    missed: int = 0  # the "+N" on screen: not shown in the last MISSED_WINDOW_S seconds (0: no label)


@dataclass(slots=True)
class _Waiting:
    id: str
    text: str
    colour: str
    mode: str
    queued_ns: int
    pixels: np.ndarray | None = None  # rasterised (cropped, opacity applied) once, kept while waiting
    dy: int = 0  # where those rows sit in the lane (transparent rows above and below are cut off)


@dataclass(slots=True)
class _Live:
    id: str
    mode: str
    pixels: np.ndarray  # premultiplied BGRA, height <= lane pitch
    y: int
    row: int
    traj: Trajectory | None  # scrolling comments
    x: int  # fixed comments and the pin
    until_ns: int
    inv: np.ndarray | None = None  # 255 - alpha (4 channels), prepared once
    drawn: tuple[int, int, int, int] | None = None  # last drawn rectangle (x0, y0, x1, y1)


def _check_comment(message_id: str, text: str, colour: str, mode: str) -> tuple[str, str]:
    """The comment's one-line text and upper-case colour; ValueError says what is wrong."""
    if not isinstance(message_id, str) or not message_id or len(message_id) > MAX_ID:
        raise ValueError(f"danmaku id must be a non-empty string of at most {MAX_ID} characters")
    if not isinstance(text, str):
        raise ValueError(f"danmaku text must be a string, got {type(text).__name__}")
    text = " ".join(text.split())  # one line: newlines and tabs become spaces
    if not text:
        raise ValueError("danmaku text must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"danmaku text is longer than {MAX_TEXT} characters")
    colour = _check_colour(colour)
    if mode not in MODES:
        raise ValueError(f"danmaku mode {mode!r} is not one of {', '.join(MODES)}")
    return text, colour


def _check_colour(colour: str) -> str:
    try:
        parse_color(colour)
    except (ValueError, TypeError):
        raise ValueError(f"danmaku colour: expected #RRGGBB or #AARRGGBB, got {colour!r}") from None
    return colour.upper()


def _clip(x: int, y: int, w: int, h: int, cw: int, ch: int) -> tuple[int, int, int, int] | None:
    x0, y0, x1, y1 = max(0, x), max(0, y), min(cw, x + w), min(ch, y + h)
    return (x0, y0, x1, y1) if x0 < x1 and y0 < y1 else None


def _trim_rows(px: np.ndarray) -> tuple[np.ndarray, int]:
    """Cut fully transparent rows off the top and bottom (a third of a text line's pixels: nothing
    to draw there, every frame); returns the rows kept and how many were cut above."""
    rows = np.flatnonzero(px[:, :, 3].any(axis=1))
    if rows.size == 0:
        return px, 0
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    return (px if (top, bottom) == (0, px.shape[0]) else np.ascontiguousarray(px[top:bottom])), top


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class DanmakuOverlaySource(Source):
    type_id = "danmaku_overlay"

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__(settings)
        self._lock = threading.Lock()
        self._waiting: deque[_Waiting] = deque()
        self._ops: list[tuple[str, Any]] = []  # remove / pin / unpin / clear, applied in tick
        self._recent: OrderedDict[str, tuple[str, str]] = OrderedDict()  # id -> (text, colour)
        self._dropped = 0
        self._shown = 0
        self._now_ns = 0  # last program clock seen (stamps queued messages)
        self._live: list[_Live] = []
        self._stale: list[tuple[int, int, int, int]] = []  # rectangles of items gone since last draw
        self._pin: _Live | None = None
        self._frame: VideoFrame | None = None
        self._blended_sig: tuple[tuple[int, int, int], ...] = ()
        self._bounds: tuple[int, int, int, int] | None = None
        self._drawn_ns: int | None = None  # the clock time the canvas shows (painted on demand)
        self._sprites: list[Sprite] | None = None  # this tick's, made on demand
        self._missed: deque[list[int]] = deque()  # [second, comments not shown], for the "+N"
        self._label: _Live | None = None  # the "+N" label
        self._label_n = 0
        self._label_at_ns: int | None = None  # when it was last rendered
        self._label_serial = 0  # a new label is a new picture
        self._layout()

    # ---- settings and layout ----

    def update(self, settings: dict[str, Any]) -> None:
        super().update(settings)
        with self._lock:
            self._live.clear()
            self._stale.clear()
            self._label, self._label_at_ns, self._label_n = None, None, 0  # the style may have changed
            pinned = self._pin
            self._pin = None
            for item in self._waiting:
                item.pixels = None  # the style may have changed
            self._layout()
            if pinned is not None:
                text, colour = self._recent.get(pinned.id, ("", "#FFFFFF"))
                if text:
                    self._ops.append(("pin", (pinned.id, text, colour)))
        self._frame = None
        self._drawn_ns = None
        self._sprites = None

    def _style(self, colour: str) -> TextStyle:
        s = self.settings
        shadow = max(1, round(s["font_size"] / 18)) if s["shadow"] else 0
        return TextStyle(
            family=s["font_family"],
            size_px=int(s["font_size"]),
            bold=bool(s["bold"]),
            color=colour,
            outline_width=float(s["outline_width"]),
            shadow_offset=(shadow, shadow),
            shadow_color="#B4000000",
        )

    def _pin_style(self, colour: str) -> TextStyle:
        style = self._style(colour)
        return TextStyle(
            family=style.family, size_px=style.size_px, bold=style.bold, color=colour,
            background="#99000000", padding=max(2, style.size_px // 6),
            corner_radius=max(2.0, style.size_px / 3), max_lines=1,
        )  # fmt: skip

    def _layout(self) -> None:
        s = self.settings
        self._w, self._h = int(s["width"]), int(s["height"])
        self._canvas = np.zeros((self._h, self._w, 4), np.uint8)
        self._pitch = max(1, measure_text(self._style("#FFFFFF"), _LANE_PROBE)[1])
        self._margin = max(2, self._pitch // 6)
        usable = max(self._pitch, int(self._h * float(s["area"])) - self._margin)
        lanes = max(1, min(usable // self._pitch, (self._h - 2 * self._margin) // self._pitch))
        self._duration_ns = int(float(s["duration"]) * _NS)
        self._fixed_ns = int(float(s["fixed_duration"]) * _NS)
        self._lanes = ScrollLanes(lanes, self._w, self._duration_ns, gap=int(s["spacing"]))
        self._top = FixedRows(lanes)
        # bottom rows stack upwards above the pin band (the last row of the canvas)
        self._pin_h = min(self._h, measure_text(self._pin_style("#FFFFFF"), _LANE_PROBE)[1])
        self._pin_y = max(0, self._h - self._margin - self._pin_h)
        self._bottom = FixedRows(max(1, min(lanes, self._pin_y // self._pitch)))
        # fewer new rasterisations per tick when the outline (a costly stroke) is on
        self._raster_per_tick = 12 if float(s["outline_width"]) == 0 else 3

    @property
    def lane_count(self) -> int:
        return self._lanes.count

    @property
    def lane_pitch(self) -> int:
        return self._pitch

    def lane_y(self, lane: int) -> int:
        return self._margin + lane * self._pitch

    def _row_y(self, mode: str, row: int) -> int:
        if mode == "top":
            return self.lane_y(row)
        return self._pin_y - (row + 1) * self._pitch

    # ---- thread-safe API ----

    def push(self, message_id: str, text: str, colour: str = "#FFFFFF", mode: str = "scroll") -> None:
        """Queue a comment; shown when a lane (or row) is free and the on-screen cap allows."""
        text, colour = _check_comment(message_id, text, colour, mode)
        with self._lock:
            self._queue([(message_id, text, colour, mode)])

    def push_many(self, comments: Sequence[Comment]) -> list[tuple[str, ValueError]]:
        """Queue a burst, as ``push`` one by one would, but look only at the comments the queue can
        keep (the newest ``queue_limit``; the rest count as not shown without being read). Returns
        the comments refused as malformed, with why, instead of raising."""
        limit = int(self.settings["queue_limit"])
        skipped = max(0, len(comments) - max(1, limit)) if limit else 0
        kept: list[Comment] = []
        refused: list[tuple[str, ValueError]] = []
        for message_id, text, colour, mode in comments[skipped:]:
            try:
                text, colour = _check_comment(message_id, text, colour, mode)
            except ValueError as exc:
                refused.append((str(message_id)[:MAX_ID], exc))
                continue
            kept.append((message_id, text, colour, mode))
        with self._lock:
            self._not_shown(skipped)
            self._queue(kept)
        return refused

    def _queue(self, comments: Sequence[Comment]) -> None:
        """Under the lock: checked comments join the queue (the oldest leave a full queue)."""
        limit = int(self.settings["queue_limit"])
        if limit == 0 and len(self._live) >= int(self.settings["max_on_screen"]):
            self._not_shown(len(comments))
            return
        for message_id, text, colour, mode in comments:
            self._remember(message_id, text, colour)
            self._waiting.append(_Waiting(message_id, text, colour, mode, self._now_ns))
        over = len(self._waiting) - max(1, limit)
        for _ in range(over):
            self._waiting.popleft()  # live chat: the newest comments matter most
        self._not_shown(max(0, over))

    def _not_shown(self, count: int) -> None:
        """Under the lock: ``count`` comments will never be shown (for ``dropped`` and the "+N")."""
        if count <= 0:
            return
        self._dropped += count
        second = self._now_ns // _NS
        if self._missed and self._missed[-1][0] == second:
            self._missed[-1][1] += count
        else:
            self._missed.append([second, count])

    def _missed_recently(self, now_ns: int) -> int:
        first = now_ns // _NS - MISSED_WINDOW_S + 1
        while self._missed and self._missed[0][0] < first:
            self._missed.popleft()
        return sum(count for _, count in self._missed)

    def remove(self, message_id: str) -> None:
        """Take a comment off the overlay (queued or on screen; also unpins it)."""
        with self._lock:
            self._waiting = deque(w for w in self._waiting if w.id != message_id)
            self._ops.append(("remove", message_id))

    def pin(self, message_id: str, text: str | None = None, colour: str | None = None) -> None:
        """Show a comment in the pin band until ``unpin``; ``text`` defaults to a recent message's."""
        with self._lock:
            known = self._recent.get(message_id)
            if text is None:
                if known is None:
                    raise ValueError(f"no recent danmaku with id {message_id!r} to pin")
                text = known[0]
            if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
                raise ValueError(f"pinned text must be non-empty, at most {MAX_TEXT} characters")
            colour = _check_colour(colour or (known[1] if known else "#FFFFFF"))
            self._remember(message_id, text, colour)
            self._ops.append(("pin", (message_id, " ".join(text.split()), colour)))

    def unpin(self) -> None:
        with self._lock:
            self._ops.append(("unpin", None))

    def clear(self) -> None:
        """Empty the screen and the queue (the pin stays)."""
        with self._lock:
            self._waiting.clear()
            self._ops.append(("clear", None))

    def stats(self) -> DanmakuStats:
        with self._lock:
            return DanmakuStats(len(self._live), len(self._waiting), self._dropped, self._shown, self._pin is not None,
                                self._label_n if self._label is not None else 0)

    def _remember(self, message_id: str, text: str, colour: str) -> None:
        self._recent[message_id] = (text, colour)
        self._recent.move_to_end(message_id)
        while len(self._recent) > RECENT:
            self._recent.popitem(last=False)

    # ---- clock thread ----

    def tick(self, clock_ns: int) -> None:
        with self._lock:
            self._now_ns = clock_ns
            ops, self._ops = self._ops, []
            for op, arg in ops:
                self._apply(op, arg)
            self._expire(clock_ns)
            self._admit(clock_ns)
            self._update_label(clock_ns)
        # nothing is drawn here: the compositor asks for sprites, other views for a frame
        self._drawn_ns = None
        self._sprites = None

    def _apply(self, op: str, arg: Any) -> None:
        if op == "remove":
            for item in [i for i in self._live if i.id == arg]:
                self._drop_live(item)
            if self._pin is not None and self._pin.id == arg:
                self._unpin()
        elif op == "clear":
            for item in list(self._live):
                self._drop_live(item)
            self._lanes.reset()
        elif op == "unpin":
            self._unpin()
        elif op == "pin":
            message_id, text, colour = arg
            self._unpin()
            band = self._pin_style(colour)
            raster = render_text(band, "📌 " + text, max_width=self._w - 2 * self._margin)
            px = self._fit(raster.pixels, self._pin_h)
            y = self._pin_y + (self._pin_h - px.shape[0]) // 2
            self._pin = _Live(message_id, "pin", px, y, 0, None, (self._w - px.shape[1]) // 2, 0, inverse_alpha(px))

    def _unpin(self) -> None:
        if self._pin is not None and self._pin.drawn is not None:
            self._stale.append(self._pin.drawn)
        self._pin = None

    def _drop_live(self, item: _Live) -> None:
        self._live.remove(item)
        if item.drawn is not None:
            self._stale.append(item.drawn)
        if item.mode == "top":
            self._top.release(item.row)
        elif item.mode == "bottom":
            self._bottom.release(item.row)

    def _expire(self, now: int) -> None:
        keep: list[_Live] = []
        for item in self._live:
            if item.until_ns > now:
                keep.append(item)
            elif item.drawn is not None:
                self._stale.append(item.drawn)
        self._live = keep
        # comments that waited a whole duration are old news: drop them
        limit = self._duration_ns
        expired = 0
        while self._waiting and now - self._waiting[0].queued_ns > limit:
            self._waiting.popleft()
            expired += 1
        self._not_shown(expired)

    def _fit(self, px: np.ndarray, max_h: int) -> np.ndarray:
        """Crop to ``max_h`` rows (keeps lanes disjoint) and apply the overlay opacity."""
        if px.shape[0] > max_h:
            top = (px.shape[0] - max_h) // 2
            px = px[top : top + max_h]
        if px.shape[1] > self._w:
            px = px[:, : self._w]
        opacity = float(self.settings["opacity"])
        if opacity < 1.0:
            return cv2.convertScaleAbs(px, alpha=opacity)  # premultiplied: scale all four channels
        return np.ascontiguousarray(px)

    def _admit(self, now: int) -> None:
        cap = int(self.settings["max_on_screen"])
        budget = self._raster_per_tick
        kept: list[_Waiting] = []
        tries = 0
        # What cannot be placed now stays so for the rest of this tick: a lane that refuses a
        # comment refuses every wider one (``scenes.lanes.can_follow``), full rows stay full.
        # Skipping those saves asking every lane again for each waiting comment (a busy chat keeps
        # dozens waiting).
        refused_width: int | None = None
        # Nothing is rasterised for a mode with no room now (a chat faster than the lanes would
        # otherwise rasterise comments that wait and are dropped unseen): no lane has let its last
        # comment fully in, or every row is taken.
        lanes_open = self._lanes.open_lanes(now)
        full_modes = {mode for mode, full in (("scroll", lanes_open == 0), ("top", self._top.free_rows(now) == 0),
                                              ("bottom", self._bottom.free_rows(now) == 0)) if full}
        while self._waiting and tries < 64 and len(self._live) < cap and len(full_modes) < len(MODES):
            entry = self._waiting.popleft()
            tries += 1
            if entry.mode in full_modes:
                kept.append(entry)
                continue
            if entry.pixels is None:
                if budget == 0:
                    kept.append(entry)
                    continue
                budget -= 1
                fitted = self._fit(render_text(self._style(entry.colour), entry.text).pixels, self._pitch)
                entry.pixels, top = _trim_rows(fitted)
                entry.dy = (self._pitch - fitted.shape[0]) // 2 + top
            if entry.mode == "scroll" and refused_width is not None and entry.pixels.shape[1] >= refused_width:
                kept.append(entry)
                continue
            item = self._place(entry, now)
            if item is None:
                kept.append(entry)  # no free lane or row yet: keep its place in the queue
                if entry.mode == "scroll":
                    width = entry.pixels.shape[1]
                    refused_width = width if refused_width is None else min(refused_width, width)
                else:
                    full_modes.add(entry.mode)
            else:
                self._live.append(item)
                self._shown += 1
                if entry.mode == "scroll":
                    lanes_open -= 1
                    if lanes_open <= 0:
                        full_modes.add("scroll")
                elif (self._top if entry.mode == "top" else self._bottom).free_rows(now) == 0:
                    full_modes.add(entry.mode)
        self._waiting.extendleft(reversed(kept))

    def _update_label(self, now: int) -> None:
        """The "+N" label: shown while comments were not shown in the last few seconds."""
        n = self._missed_recently(now)
        if n == 0:
            if self._label is not None:
                self._drop_label()
            return
        if n == self._label_n and self._label is not None:
            return
        if self._label_at_ns is not None and now - self._label_at_ns < _LABEL_EVERY_NS and self._label is not None:
            return  # a busy chat changes N every frame: re-render twice a second at most
        px = self._fit(render_text(self._pin_style("#FFFFFF"), f"+{n}").pixels, self._pin_h)
        x = max(0, self._w - self._margin - px.shape[1])
        y = self._pin_y + (self._pin_h - px.shape[0]) // 2
        self._drop_label()
        self._label = _Live("+N", "label", px, y, 0, None, x, 0, inverse_alpha(px))
        self._label_n, self._label_at_ns = n, now
        self._label_serial += 1

    def _drop_label(self) -> None:
        if self._label is not None and self._label.drawn is not None:
            self._stale.append(self._label.drawn)
        self._label = None
        self._label_n = 0

    def _place(self, entry: _Waiting, now: int) -> _Live | None:
        px = entry.pixels
        assert px is not None
        w = px.shape[1]
        if entry.mode == "scroll":
            placed = self._lanes.place(w, now)
            if placed is None:
                return None
            lane, traj = placed
            y = self.lane_y(lane) + entry.dy
            return _Live(entry.id, "scroll", px, y, lane, traj, 0, traj.end_ns, inverse_alpha(px))
        rows = self._top if entry.mode == "top" else self._bottom
        row = rows.place(now, self._fixed_ns)
        if row is None:
            return None
        y = self._row_y(entry.mode, row) + entry.dy
        return _Live(entry.id, entry.mode, px, y, row, None, (self._w - w) // 2, now + self._fixed_ns, inverse_alpha(px))

    def _draw(self, now: int) -> None:
        canvas, cw, ch = self._canvas, self._w, self._h
        blended = [item for item in self._live if item.traj is None]
        if self._pin is not None:
            blended.append(self._pin)
        if self._label is not None:
            blended.append(self._label)
        moves: list[tuple[_Live, int, tuple[int, int, int, int] | None]] = []
        still: list[_Live] = []
        # bounds of this frame's scrolling comments, gathered on the way (hundreds per frame: the
        # clipping is inlined, the per-item Python work is most of the overlay's cost)
        bx0, by0, bx1, by1 = cw, ch, 0, 0
        for item in self._live:
            traj = item.traj
            if traj is None:
                continue
            x = traj.canvas_width + (-(traj.canvas_width + traj.width) * (now - traj.start_ns)) // traj.duration_ns
            h, w = item.pixels.shape[:2]
            x0 = x if x > 0 else 0
            x1 = x + w if x + w < cw else cw
            y0 = item.y if item.y > 0 else 0
            y1 = item.y + h if item.y + h < ch else ch
            new = (x0, y0, x1, y1) if x0 < x1 and y0 < y1 else None
            if new is not None:
                bx0, by0 = (x0 if x0 < bx0 else bx0), (y0 if y0 < by0 else by0)
                bx1, by1 = (x1 if x1 > bx1 else bx1), (y1 if y1 > by1 else by1)
            if new == item.drawn:
                still.append(item)
            else:
                moves.append((item, x, new))
        signature = tuple((id(item), item.x, item.y) for item in blended) + ((self._label_serial, 0, 0),)
        empty = not self._live and self._pin is None and self._label is None
        if not moves and not self._stale and signature == self._blended_sig and (self._frame is None) == empty:
            return  # nothing moved: same picture, same serial (the compositor keeps its cache)
        self._blended_sig = signature
        # pass 1: every clear before any draw (comments of a lane move closer between frames)
        cleared = self._stale + [item.drawn for item in blended if item.drawn is not None]
        self._stale = []
        for x0, y0, x1, y1 in cleared:
            canvas[y0:y1, x0:x1] = 0
        for item, _, new in moves:
            old = item.drawn
            if old is None:
                continue
            ox0, oy0, ox1, oy1 = old
            if new is None:
                canvas[oy0:oy1, ox0:ox1] = 0
                continue
            # same rows: clear only the strips the new rectangle will not cover
            if ox0 < new[0]:
                canvas[oy0:oy1, ox0 : min(ox1, new[0])] = 0
            if ox1 > new[2]:
                canvas[oy0:oy1, max(ox0, new[2]) : ox1] = 0
        # a comment that did not move is drawn again only where a clear touched it
        for item in still:
            if item.drawn is not None and any(_overlaps(item.drawn, r) for r in cleared):
                moves.append((item, item.traj.x_int(now) if item.traj else 0, item.drawn))
        # pass 2: scrolling comments are copied (nothing is under them), the rest blended over
        for item, x, new in moves:
            item.drawn = new
            if new is None:
                continue
            x0, y0, x1, y1 = new
            np.copyto(canvas[y0:y1, x0:x1], item.pixels[y0 - item.y : y1 - item.y, x0 - x : x1 - x])
        for item in blended:
            h, w = item.pixels.shape[:2]
            rect = item.drawn = _clip(item.x, item.y, w, h, cw, ch)
            if rect is None or item.inv is None:
                continue
            x0, y0, x1, y1 = rect
            sx, sy = x0 - item.x, y0 - item.y
            src = item.pixels[sy : sy + y1 - y0, sx : sx + x1 - x0]
            inv = item.inv[sy : sy + y1 - y0, sx : sx + x1 - x0]
            dst = canvas[y0:y1, x0:x1]
            cv2.add(src, cv2.multiply(dst, inv, scale=1.0 / 255.0), dst=dst)
        self._frame = None if empty else VideoFrame(canvas)
        for item in blended:
            if item.drawn is not None:
                x0, y0, x1, y1 = item.drawn
                bx0, by0, bx1, by1 = min(bx0, x0), min(by0, y0), max(bx1, x1), max(by1, y1)
        self._bounds = (bx0, by0, bx1, by1) if bx0 < bx1 and by0 < by1 else None

    def content_bounds(self) -> tuple[int, int, int, int] | None:
        """(x0, y0, x1, y1) holding every drawn pixel of the current frame, None when empty: outside
        it the frame is transparent, so a compositor may blend only this box."""
        return self._bounds if self.frame() is not None else None

    def frame(self) -> VideoFrame | None:
        if self._drawn_ns != self._now_ns:
            self._draw(self._now_ns)
            self._drawn_ns = self._now_ns
        return self._frame

    def sprites(self) -> list[Sprite]:
        """Every comment where it is now, in drawing order (scrolling, fixed, the pin, "+N"): the same
        picture as ``frame`` (scrolling comments never overlap, so copying them there equals
        blending them here)."""
        if self._sprites is None:
            now = self._now_ns
            scrolling: list[Sprite] = []
            fixed: list[Sprite] = []
            for item in self._live:
                traj = item.traj
                if traj is None:
                    fixed.append(Sprite(item.pixels, item.inv, item.x, item.y))
                else:
                    x = traj.canvas_width + (-(traj.canvas_width + traj.width) * (now - traj.start_ns)) \
                        // traj.duration_ns
                    scrolling.append(Sprite(item.pixels, item.inv, x, item.y))
            for extra in (self._pin, self._label):
                if extra is not None:
                    fixed.append(Sprite(extra.pixels, extra.inv, extra.x, extra.y))
            self._sprites = scrolling + fixed
        return self._sprites

    @property
    def size(self) -> tuple[int, int]:
        return self._w, self._h


DANMAKU_OVERLAY = register(
    SourceType(
        id="danmaku_overlay",
        version=1,
        name="Bullet comments",
        flags=SourceFlags.VIDEO | SourceFlags.INTERACTIVE,
        properties=(
            PropertySpec("width", PropertyKind.INT, 1920, "Width", 64, 7680),
            PropertySpec("height", PropertyKind.INT, 1080, "Height", 64, 4320),
            PropertySpec("area", PropertyKind.FLOAT, 0.6, "Scrolling area (fraction of height, from the top)",
                         0.05, 1.0),
            PropertySpec("font_size", PropertyKind.INT, 36, "Font size (px)", 10, 200),
            PropertySpec("font_family", PropertyKind.STRING, "", "Font family (empty = default CJK)",
                         max_length=100),
            PropertySpec("bold", PropertyKind.BOOL, True, "Bold"),
            PropertySpec("shadow", PropertyKind.BOOL, True, "Drop shadow"),
            PropertySpec("outline_width", PropertyKind.FLOAT, 0.0, "Outline width (px; costs more)", 0, 8),
            PropertySpec("opacity", PropertyKind.FLOAT, 1.0, "Opacity", 0.05, 1.0),
            PropertySpec("duration", PropertyKind.FLOAT, 8.0, "Scroll duration (s)", 2.0, 30.0),
            PropertySpec("fixed_duration", PropertyKind.FLOAT, 4.0, "Top/bottom comment duration (s)", 1.0, 30.0),
            PropertySpec("spacing", PropertyKind.INT, 24, "Minimum gap in a lane (px)", 1, 400),
            PropertySpec("max_on_screen", PropertyKind.INT, 300, "Most comments on screen", 1, 2000),
            PropertySpec("queue_limit", PropertyKind.INT, 500, "Most comments waiting (0 = drop at cap)",
                         0, 10000),
        ),
        factory=DanmakuOverlaySource,
    )
)
