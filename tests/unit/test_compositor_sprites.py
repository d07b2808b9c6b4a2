"""Sources that offer sprites (patches of a sparse picture) are drawn patch by patch onto the
program; the picture must equal what the frame path (the source's full-size frame, blended by the
compositor) gives, and every item transform other than a move must take the frame path."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import scenes.filters  # noqa: F401 - registers the filter types
from scenes.compositor import Compositor, ItemSnapshot
from scenes.filters.registry import make_config
from scenes.frame import VideoFrame, premultiply
from scenes.registry import get_type
from scenes.sources.base import Source, Sprite, StatusNotice, View, inverse_alpha
from scenes.sources.danmaku_overlay import DanmakuOverlaySource
from scenes.text_raster import blit_over, ensure_gui_app

S = 1_000_000_000
FRAME = S // 30
W, H = 640, 360


@pytest.fixture(scope="module", autouse=True)
def _gui() -> None:
    ensure_gui_app()


class FramePath(Source):
    """The same source without its sprites: the compositor blends its full-size frame."""

    def __init__(self, inner: Source) -> None:
        super().__init__({})
        self.inner = inner

    def frame(self) -> VideoFrame | None:
        return self.inner.frame()

    def status(self) -> StatusNotice | None:
        return self.inner.status()

    def content_bounds(self) -> tuple[int, int, int, int] | None:
        bounds = getattr(self.inner, "content_bounds", None)
        return bounds() if callable(bounds) else None

    @property
    def size(self) -> tuple[int, int]:
        return self.inner.size


class Patches(Source):
    """A generic sparse source: fixed sprites on a transparent canvas of ``size``."""

    status_title = "BROKEN"

    def __init__(self, size: tuple[int, int], sprites: list[Sprite]) -> None:
        super().__init__({})
        self._size = size
        self._sprites = sprites
        self.asked = 0
        canvas = np.zeros((size[1], size[0], 4), np.uint8)
        for s in sprites:
            blit_over(canvas, s.pixels, s.x, s.y)
        self._frame = VideoFrame(canvas)

    def sprites(self) -> list[Sprite]:
        self.asked += 1
        return self._sprites

    def frame(self) -> VideoFrame:
        return self._frame

    @property
    def size(self) -> tuple[int, int]:
        return self._size


class Background(Source):
    def __init__(self, seed: int) -> None:
        super().__init__({})
        rng = np.random.default_rng(seed)
        px = rng.integers(0, 256, (H, W, 4), dtype=np.uint8)
        px[:, :, 3] = 255
        self._frame = VideoFrame(px, opaque=True)

    def frame(self) -> VideoFrame:
        return self._frame

    @property
    def size(self) -> tuple[int, int]:
        return W, H


def item(source: str, **kw: Any) -> ItemSnapshot:
    base: dict[str, Any] = dict(id=source, source=source, x=0.0, y=0.0, scale_x=1.0, scale_y=1.0,
                                rotation=0.0, crop=(0, 0, 0, 0), opacity=1.0)
    base.update(kw)
    return ItemSnapshot(**base)


def patch(w: int, h: int, seed: int, opaque: bool = False) -> Sprite:
    rng = np.random.default_rng(seed)
    straight = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    if opaque:
        straight[:, :, 3] = 255
    px = premultiply(straight)
    return Sprite(px, None if opaque else inverse_alpha(px), 0, 0)


def at(s: Sprite, x: int, y: int) -> Sprite:
    return Sprite(s.pixels, s.inv_alpha, x, y)


def both(items: tuple[ItemSnapshot, ...], sources: dict[str, Source], name: str,
         view: View = View.PROGRAM) -> tuple[np.ndarray, np.ndarray]:
    """The program drawn from ``name``'s sprites and from its frame, by two compositors."""
    sprite_out = np.zeros((H, W, 4), np.uint8)
    frame_out = np.zeros((H, W, 4), np.uint8)
    Compositor(W, H, view).render(items, sources, sprite_out)
    Compositor(W, H, view).render(items, {**sources, name: FramePath(sources[name])}, frame_out)
    return sprite_out, frame_out


def coverage(sprites: list[Sprite], dx: int, dy: int) -> np.ndarray:
    """How many sprites cover each program pixel."""
    count = np.zeros((H, W), np.int32)
    for s in sprites:
        h, w = s.pixels.shape[:2]
        x0, y0 = max(0, s.x + dx), max(0, s.y + dy)
        x1, y1 = min(W, s.x + dx + w), min(H, s.y + dy + h)
        if x0 < x1 and y0 < y1:
            count[y0:y1, x0:x1] += 1
    return count


def test_sprites_clip_to_the_item_box_and_the_canvas_like_the_frame() -> None:
    sprites = [at(patch(30, 20, 1), -10, 5), at(patch(40, 25, 2), 90, 30), at(patch(16, 16, 3, opaque=True), 20, 40),
               at(patch(20, 10, 4), 50, -4), at(patch(25, 25, 5), 200, 200)]  # the last is outside its box
    sources: dict[str, Source] = {"bg": Background(1), "fx": Patches((100, 50), sprites)}
    for x, y in [(0.0, 0.0), (300.4, 200.6), (-20.0, -12.0), (W - 60.0, H - 30.0)]:
        items = (item("bg"), item("fx", x=x, y=y))
        with_sprites, with_frame = both(items, sources, "fx")
        assert np.array_equal(with_sprites, with_frame), (x, y)
    assert isinstance(sources["fx"], Patches) and sources["fx"].asked == 4


@pytest.mark.parametrize("transform", [
    {"scale_x": 0.5, "scale_y": 0.5},
    {"scale_x": -1.0},
    {"crop": (10, 0, 0, 5)},
    {"rotation": 30.0},
    {"opacity": 0.5},
])
def test_any_transform_but_a_move_takes_the_frame_path(transform: dict[str, Any]) -> None:
    patches = Patches((100, 50), [at(patch(30, 20, 1), 5, 5), at(patch(40, 25, 2), 50, 20)])
    sources: dict[str, Source] = {"bg": Background(2), "fx": patches}
    items = (item("bg"), item("fx", x=100.0, y=80.0, **transform))
    with_sprites, with_frame = both(items, sources, "fx")
    assert patches.asked == 0
    assert np.array_equal(with_sprites, with_frame)
    untouched = Compositor(W, H)
    plain = np.zeros((H, W, 4), np.uint8)
    untouched.render((item("bg"),), sources, plain)
    assert not np.array_equal(with_sprites, plain)  # the transformed overlay is there


def test_a_filtered_source_is_drawn_from_its_filtered_frame() -> None:
    """Filters need the whole picture: a filtered item takes the frame path."""
    patches = Patches((100, 50), [at(patch(30, 20, 1), 5, 5), at(patch(40, 25, 2), 50, 20)])
    sources: dict[str, Source] = {"bg": Background(5), "fx": patches}
    darker = (make_config("color_correction", {"brightness": -0.5}),)
    items = (item("bg"), item("fx", x=100.0, y=80.0, filters=darker))
    with_sprites, with_frame = both(items, sources, "fx")
    assert patches.asked == 0
    assert np.array_equal(with_sprites, with_frame)
    unfiltered, _ = both((item("bg"), item("fx", x=100.0, y=80.0)), sources, "fx")
    assert patches.asked == 1 and not np.array_equal(with_sprites, unfiltered)


def test_a_source_with_a_problem_is_not_drawn_from_its_sprites() -> None:
    patches = Patches((100, 50), [at(patch(30, 20, 1), 5, 5)])
    patches.error = "gone"
    sources: dict[str, Source] = {"bg": Background(3), "fx": patches}
    items = (item("bg"), item("fx", x=10.0, y=10.0))
    program, _ = both(items, sources, "fx")
    bare = np.zeros((H, W, 4), np.uint8)
    Compositor(W, H).render((item("bg"),), sources, bare)
    assert np.array_equal(program, bare)  # no fallback image: nothing on air
    preview, preview_frame = both(items, sources, "fx", View.PREVIEW)
    assert np.array_equal(preview, preview_frame) and not np.array_equal(preview, bare)  # the status card
    assert patches.asked == 0


def danmaku(**settings: Any) -> DanmakuOverlaySource:
    base = {"width": W, "height": H, "font_size": 20, "duration": 4.0, "fixed_duration": 1.5, "area": 1.0}
    source = get_type("danmaku_overlay").create({**base, **settings})
    assert isinstance(source, DanmakuOverlaySource)
    return source


TEXTS = ("666", "哈哈哈哈哈哈", "好看😍", "这个口红多少钱呀主播", "gg", "前方高能", "🔥🔥")


@pytest.mark.parametrize("where", [(0.0, 0.0), (37.0, -21.0), (-50.0, 40.0)])
def test_bullets_drawn_as_sprites_equal_the_overlay_frame_over_many_frames(where: tuple[float, float]) -> None:
    """Moving bullets, top and bottom comments, a pin and removals: exact wherever at most one
    comment covers a pixel; where a fixed comment or the pin crosses a scrolling one, the two
    ways round differ (frame: fixed over scrolling, then over the program; sprites: one after the
    other onto the program) by rounding only."""
    ov = danmaku()
    sources: dict[str, Source] = {"bg": Background(4), "danmaku": ov}
    items = (item("bg"), item("danmaku", x=where[0], y=where[1]))
    compared, overlapped, moving = 0, 0, 0
    last: np.ndarray | None = None
    for i in range(150):
        for k in range(3):
            n = i * 3 + k
            mode = ("top", "bottom")[n % 2] if n % 9 == 8 else "scroll"
            ov.push(f"m{n}", TEXTS[n % len(TEXTS)] + f" {n}", ("#FFFFFF", "#FFE14D", "#7FD7FF")[n % 3], mode)
        if i == 30:
            ov.pin("m5")
        if i == 60:
            ov.remove("m40")
        if i == 100:
            ov.unpin()
        ov.tick(i * FRAME)
        with_sprites, with_frame = both(items, sources, "danmaku")
        covered = coverage(ov.sprites(), int(where[0]), int(where[1]))
        single = covered <= 1
        assert np.array_equal(with_sprites[single], with_frame[single]), f"frame {i}"
        diff = np.abs(with_sprites.astype(np.int16) - with_frame)
        assert int(diff.max()) <= 2, f"frame {i}"
        compared += 1
        overlapped += int((~single).sum())
        if last is not None and not np.array_equal(last, with_sprites):
            moving += 1
        last = with_sprites
    assert compared == 150 and moving > 100 and overlapped > 0
    assert ov.stats().on_screen > 20


def test_the_overlay_frame_is_painted_from_the_same_comments_as_its_sprites() -> None:
    ov = danmaku()
    for n in range(40):
        ov.push(f"m{n}", TEXTS[n % len(TEXTS)], "#FFFFFF", "scroll")
    for i in range(60):
        ov.tick(i * FRAME)
    canvas = np.zeros((H, W, 4), np.uint8)
    sprites = ov.sprites()
    for s in sprites:
        blit_over(canvas, s.pixels, s.x, s.y)
    frame = ov.frame()
    assert frame is not None and len(sprites) > 5
    assert np.array_equal(frame.pixels, canvas)
