"""`studio bench compositor`: per-frame cost of compositing a demo-like 1080p30 scene.

Layers: a full-frame clip, a 640x360 camera picture-in-picture (both new pictures every frame, as
live video is), two RGBA image overlays, a product card and a text layer, plus N moving bullet
comments when the danmaku overlay exists. Side by side: the same layers blended the naive way
(float32 numpy over the whole canvas) to show what the rectangle-only uint8 path saves.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import cv2
import numpy as np

from scenes.compositor import Compositor, ItemSnapshot
from scenes.frame import VideoFrame, premultiply
from scenes.registry import get_type
from scenes.sources.base import Source
from scenes.text_raster import ensure_gui_app

HELP = "compositor cost per frame for a demo-like 1080p30 scene"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frames", type=int, default=300, help="frames to time (default 300)")
    parser.add_argument("--resolution", default="1920x1080", help="canvas WxH (default 1920x1080)")
    parser.add_argument("--bullets", type=int, default=200, help="bullet comments on screen when available")


class _Moving(Source):
    """Live video stand-in: a new picture (new serial) every tick, cycling prepared frames."""

    def __init__(self, frames: list[np.ndarray]) -> None:
        super().__init__({})
        self._frames = frames
        self._i = 0
        self._current = VideoFrame(frames[0], opaque=True)

    def tick(self, clock_ns: int) -> None:
        self._i = (self._i + 1) % len(self._frames)
        self._current = VideoFrame(self._frames[self._i], opaque=True)

    def frame(self) -> VideoFrame:
        return self._current

    @property
    def size(self) -> tuple[int, int]:
        return self._current.width, self._current.height


class _Still(Source):
    def __init__(self, pixels: np.ndarray) -> None:
        super().__init__({})
        self._frame = VideoFrame(pixels)

    def frame(self) -> VideoFrame:
        return self._frame

    @property
    def size(self) -> tuple[int, int]:
        return self._frame.width, self._frame.height


def _video_frames(w: int, h: int, count: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = cv2.resize(rng.integers(0, 255, (h // 16, w // 16, 3), dtype=np.uint8), (w, h))
    frames = []
    for i in range(count):
        img = np.roll(base, i * 8, axis=1)
        frames.append(cv2.cvtColor(img, cv2.COLOR_BGR2BGRA))
    return frames


def _overlay(w: int, h: int, seed: int) -> np.ndarray:
    img = np.zeros((h, w, 4), np.uint8)
    cv2.circle(img, (w // 2, h // 2), min(w, h) // 2 - 2, (40 * seed % 255, 180, 90, 200), -1, cv2.LINE_AA)
    return premultiply(img)


def _item(name: str, x: float = 0, y: float = 0, scale: float = 1.0) -> ItemSnapshot:
    return ItemSnapshot(name, name, x, y, scale, scale, 0.0, (0, 0, 0, 0), 1.0)


def _build(w: int, h: int, bullets: int) -> tuple[dict[str, Source], list[ItemSnapshot], int]:
    k = h / 1080
    sources: dict[str, Source] = {
        "clip": _Moving(_video_frames(w, h, 8, 1)),
        "camera": _Moving(_video_frames(1280, 720, 8, 2)),
        "logo": _Still(_overlay(int(240 * k), int(240 * k), 1)),
        "sticker": _Still(_overlay(int(320 * k), int(200 * k), 2)),
        "card": get_type("product_card").create({"title": "丝绒哑光口红 #666 限量礼盒", "price": 129.0,
                                                "original_price": 199.0, "countdown_seconds": 300}),
        "text": get_type("text").create({"text": "主播小林 · 走出剧情来带货", "font_size": int(44 * k)}),
    }
    items = [
        _item("clip"),
        _item("camera", w - 680 * k, 40 * k, 640 * k / 1280),
        _item("logo", 40 * k, 40 * k),
        _item("sticker", 300 * k, 500 * k),
        _item("card", w - 600 * k, h - 300 * k, k),
        _item("text", 60 * k, h - 160 * k),
    ]
    bullet_count = 0
    try:
        overlay_type = get_type("danmaku_overlay")
    except ValueError:
        overlay_type = None
    if overlay_type is not None and bullets > 0:
        overlay = overlay_type.create({"width": w, "height": h})
        fill = getattr(overlay, "fill_for_benchmark", None)
        if fill is not None:
            fill(bullets)
            bullet_count = bullets
            sources["danmaku"] = overlay
            items.append(_item("danmaku"))
    return sources, items, bullet_count


def _naive(items: list[ItemSnapshot], sources: dict[str, Source], out: np.ndarray) -> None:
    """Reference: float32 over the whole canvas for every layer (what a straightforward port does)."""
    acc = np.zeros(out.shape, np.float32)
    for it in items:
        frame = sources[it.source].frame()
        if frame is None:
            continue
        w, h = int(frame.width * it.scale_x), int(frame.height * it.scale_y)
        px = cv2.resize(frame.pixels, (w, h)) if (w, h) != (frame.width, frame.height) else frame.pixels
        layer = np.zeros(out.shape, np.float32)
        x, y = int(it.x), int(it.y)
        x1, y1 = min(x + w, out.shape[1]), min(y + h, out.shape[0])
        layer[y:y1, x:x1] = px[: y1 - y, : x1 - x]
        acc = layer + acc * (1.0 - layer[..., 3:4] / 255.0)
    out[:] = acc.astype(np.uint8)


def _time(fn: Any, frames: int, tick: Any) -> list[float]:
    samples = []
    for i in range(frames):
        tick(i)
        t0 = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - t0) / 1e6)
    return sorted(samples)


def _pct(sorted_ms: list[float], q: float) -> float:
    return round(sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * q))], 3)


def run(args: argparse.Namespace) -> dict[str, Any]:
    ensure_gui_app()
    w, h = (int(v) for v in args.resolution.lower().split("x"))
    sources, items, bullets = _build(w, h, args.bullets)
    comp = Compositor(w, h)
    out = np.zeros((h, w, 4), np.uint8)
    tup = tuple(items)

    def tick(i: int) -> None:
        for s in sources.values():
            s.tick(i * 33_333_333)

    ours = _time(lambda: comp.render(tup, sources, out), args.frames, tick)
    naive_frames = max(10, args.frames // 10)  # the naive path is slow; fewer samples suffice
    naive = _time(lambda: _naive(items, sources, out), naive_frames, tick)
    for s in sources.values():
        s.close()
    p50 = _pct(ours, 0.5)
    return {
        "benchmark": "compositor",
        "resolution": f"{w}x{h}",
        "fps": 30,
        "layers": len(items),
        "bullets": bullets,
        "frames": args.frames,
        "p50_ms": p50,
        "p95_ms": _pct(ours, 0.95),
        "max_ms": round(ours[-1], 3),
        "naive_float_p50_ms": _pct(naive, 0.5),
        "speedup_vs_naive": round(_pct(naive, 0.5) / max(p50, 1e-6), 1),
        "frame_budget_ms": round(1000 / 30, 2),
        "budget_used_p50": round(p50 / (1000 / 30), 3),
        "target": {"p50_ms": 4.0},
        "meets_target": p50 <= 4.0,
    }
