"""Golden-pixel checks of the compositor against the reference formula out = src + dst * (1 - a)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from scenes.compositor import Compositor, ItemSnapshot
from scenes.frame import VideoFrame, premultiply
from scenes.sources.base import Source
from scenes.transitions import TransitionKind, draw_transition


class Still(Source):
    """A fixed picture: the compositor's input under test."""

    def __init__(self, pixels: np.ndarray, opaque: bool = False) -> None:
        super().__init__({})
        self._frame = VideoFrame(pixels, opaque=opaque)

    def frame(self) -> VideoFrame:
        return self._frame

    @property
    def size(self) -> tuple[int, int]:
        return self._frame.width, self._frame.height


def item(source: str, **kw: Any) -> ItemSnapshot:
    base: dict[str, Any] = dict(id=source, source=source, x=0.0, y=0.0, scale_x=1.0, scale_y=1.0,
                                rotation=0.0, crop=(0, 0, 0, 0), opacity=1.0)
    base.update(kw)
    return ItemSnapshot(**base)


def solid(w: int, h: int, bgra: tuple[int, int, int, int]) -> np.ndarray:
    px = np.empty((h, w, 4), np.uint8)
    px[:] = bgra
    return px


def reference_over(dst: np.ndarray, src: np.ndarray) -> np.ndarray:
    a = src[..., 3:4].astype(np.float64) / 255.0
    return np.clip(np.round(src + dst * (1 - a)), 0, 255).astype(np.uint8)


@pytest.fixture
def comp() -> Compositor:
    return Compositor(1280, 720)


def canvas() -> np.ndarray:
    return np.zeros((720, 1280, 4), np.uint8)


def test_opaque_background_and_alpha_blend(comp: Compositor) -> None:
    bg = solid(1280, 720, (10, 200, 30, 255))
    straight = solid(100, 50, (200, 100, 0, 128))
    fg = premultiply(straight)
    sources = {"bg": Still(bg, opaque=True), "fg": Still(fg)}
    out = canvas()
    comp.render((item("bg"), item("fg", x=300, y=200)), sources, out)
    expected = reference_over(bg[200:250, 300:400], fg)
    assert np.abs(out[200:250, 300:400].astype(int) - expected).max() <= 1
    assert (out[199, 300] == bg[0, 0]).all() and (out[250, 300] == bg[0, 0]).all()
    assert (out[200, 400] == bg[0, 0]).all()


def test_opacity_scales_premultiplied_pixels(comp: Compositor) -> None:
    bg = solid(1280, 720, (0, 0, 0, 255))
    fg = solid(20, 20, (200, 100, 50, 255))
    out = canvas()
    comp.render((item("bg"), item("fg", opacity=0.5)), {"bg": Still(bg, True), "fg": Still(fg, True)}, out)
    assert np.abs(out[10, 10].astype(int) - [100, 50, 25, 255]).max() <= 1


def test_crop_and_scale(comp: Compositor) -> None:
    src = np.zeros((40, 40, 4), np.uint8)
    src[:, :20] = (255, 0, 0, 255)  # left half blue
    src[:, 20:] = (0, 0, 255, 255)  # right half red
    out = canvas()
    # crop away the left half, then scale the 20x40 remainder by 2 -> a 40x80 red block
    comp.render((item("s", x=100, y=100, crop=(20, 0, 0, 0), scale_x=2.0, scale_y=2.0),),
                {"s": Still(src, True)}, out)
    block = out[100:180, 100:140]
    assert (block == (0, 0, 255, 255)).all()
    assert (out[100:180, 140] == 0).all() and (out[99, 100] == 0).all()


def test_downscale_averages(comp: Compositor) -> None:
    src = np.zeros((2, 2, 4), np.uint8)
    src[0, 0] = src[1, 1] = (255, 255, 255, 255)
    src[0, 1] = src[1, 0] = (0, 0, 0, 255)
    out = canvas()
    comp.render((item("s", scale_x=0.5, scale_y=0.5),), {"s": Still(src, True)}, out)
    assert np.abs(out[0, 0].astype(int) - [128, 128, 128, 255]).max() <= 1


def test_items_off_canvas_are_clipped(comp: Compositor) -> None:
    fg = solid(100, 100, (1, 2, 3, 255))
    out = canvas()
    comp.render((item("fg", x=-50, y=680),), {"fg": Still(fg, True)}, out)
    assert (out[680:720, 0:50] == (1, 2, 3, 255)).all()
    assert (out[680:720, 50] == 0).all()
    comp.render((item("fg", x=5000, y=5000),), {"fg": Still(fg, True)}, out)
    assert not out.any()


def test_rotation_90_keeps_centre_and_turns_the_box(comp: Compositor) -> None:
    src = solid(100, 20, (9, 9, 9, 255))
    out = canvas()
    comp.render((item("s", x=600, y=350, rotation=90),), {"s": Still(src, True)}, out)
    ys, xs = np.nonzero(out[..., 3] > 128)
    assert 95 <= ys.max() - ys.min() + 1 <= 102 and 18 <= xs.max() - xs.min() + 1 <= 23
    assert abs((xs.min() + xs.max()) / 2 - 650) <= 1.5 and abs((ys.min() + ys.max()) / 2 - 360) <= 1.5


def test_cache_follows_new_frames(comp: Compositor) -> None:
    source = Still(solid(10, 10, (1, 1, 1, 255)), True)
    out = canvas()
    comp.render((item("s", scale_x=2, scale_y=2),), {"s": source}, out)
    source._frame = VideoFrame(solid(10, 10, (7, 7, 7, 255)), opaque=True)
    comp.render((item("s", scale_x=2, scale_y=2),), {"s": source}, out)
    assert (out[5, 5] == (7, 7, 7, 255)).all()


def test_missing_source_draws_nothing(comp: Compositor) -> None:
    out = canvas()
    out[:] = 50
    comp.render((item("ghost"),), {}, out)
    assert not out.any()


@pytest.mark.parametrize("kind", list(TransitionKind))
def test_transitions_at_midpoint(kind: TransitionKind) -> None:
    a = solid(64, 36, (200, 0, 0, 255))
    b = solid(64, 36, (0, 0, 100, 255))
    out = np.zeros_like(a)
    draw_transition(kind, 0.5, a, b, out)
    if kind is TransitionKind.FADE:
        assert np.abs(out.astype(int) - [100, 0, 50, 255]).max() <= 1
    elif kind is TransitionKind.SLIDE:
        assert (out[:, :32] == a[:, :32]).all() and (out[:, 32:] == b[:, :32]).all()
    else:  # cut and stinger (no clip) switch at the cut point
        assert (out == b).all()
    draw_transition(kind, 0.0, a, b, out)
    assert (out == a).all()
    draw_transition(kind, 1.0, a, b, out)
    assert (out == b).all()


def test_stinger_overlay_is_drawn_over_the_switch() -> None:
    a = solid(8, 8, (200, 0, 0, 255))
    b = solid(8, 8, (0, 0, 100, 255))
    sting = VideoFrame(premultiply(solid(8, 8, (0, 255, 0, 128))))
    out = np.zeros_like(a)
    draw_transition(TransitionKind.STINGER, 0.2, a, b, out, stinger=sting, cut_point=0.5)
    expected = reference_over(a, sting.pixels)
    assert np.abs(out.astype(int) - expected).max() <= 1


class Sparse(Still):
    """A full-canvas overlay that reports where its pixels are."""

    def __init__(self, pixels: np.ndarray, box: tuple[int, int, int, int]) -> None:
        super().__init__(pixels)
        self.box = box

    def content_bounds(self) -> tuple[int, int, int, int]:
        return self.box


def test_content_bounds_blend_only_the_box_with_the_same_result(comp: Compositor) -> None:
    bg = solid(1280, 720, (10, 200, 30, 255))
    overlay = np.zeros((720, 1280, 4), np.uint8)
    overlay[100:140, 300:500] = premultiply(solid(200, 40, (0, 0, 255, 160)))
    full, boxed = canvas(), canvas()
    comp.render((item("bg"), item("ov")), {"bg": Still(bg, True), "ov": Still(overlay)}, full)
    Compositor(1280, 720).render((item("bg"), item("ov")),
                                 {"bg": Still(bg, True), "ov": Sparse(overlay, (300, 100, 500, 140))}, boxed)
    assert (full == boxed).all()
