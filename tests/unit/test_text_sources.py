"""Text, product card and test pattern source types, driven through the registry with a synthetic clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from scenes.frame import VideoFrame
from scenes.registry import get_type
from scenes.sources.base import Source
from scenes.sources.product_card import ProductCardSource, auto_discount, format_countdown, format_price
from scenes.sources.test_pattern import TestPatternSource
from scenes.stamp import STAMP_HEIGHT, STAMP_WIDTH, read_stamp, wall_clock_ms
from scenes.text_raster import ensure_gui_app

S = 1_000_000_000


@pytest.fixture(scope="module", autouse=True)
def gui() -> None:
    ensure_gui_app()


def create(type_id: str, **settings: Any) -> Source:
    return get_type(type_id).create(settings)


def frame_of(src: Source) -> VideoFrame:
    frame = src.frame()
    assert frame is not None
    return frame


def premultiplied(px: np.ndarray) -> bool:
    return bool((px[:, :, :3] <= px[:, :, 3:4]).all())


# ---- text ----


def test_text_source_renders_and_rerenders_on_update() -> None:
    src = create("text", text="你好", font_size=40)
    first = frame_of(src)
    assert src.error is None and src.size == (first.width, first.height)
    assert (first.pixels[:, :, 3] > 0).sum() > 100 and premultiplied(first.pixels)
    src.tick(S)
    assert src.frame() is first  # ticking never re-rasterises
    settings = dict(src.settings, text="你好，世界", outline_width=3, shadow_offset=2, background="#80000000")
    src.update(get_type("text").validate(settings))
    second = frame_of(src)
    assert second.width > first.width and premultiplied(second.pixels)


def test_text_source_wraps_and_aligns() -> None:
    long = "直播间的朋友们大家好，今天给大家带来一款特别好用的口红"
    one = create("text", text=long, font_size=30)
    wrapped = create("text", text=long, font_size=30, wrap_width=260, align="center")
    assert wrapped.size[0] <= 270 < one.size[0]
    assert wrapped.size[1] > 2 * one.size[1]


def test_text_source_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="Font size"):
        create("text", font_size=0)
    with pytest.raises(ValueError, match="Alignment"):
        create("text", align="middle")
    with pytest.raises(ValueError, match="Colour"):
        create("text", color="white")


# ---- product card ----


def card(**settings: Any) -> ProductCardSource:
    src = create("product_card", **settings)
    assert isinstance(src, ProductCardSource)
    return src


def test_price_helpers() -> None:
    assert format_price(99.0) == "99" and format_price(99.9) == "99.9" and format_price(0.05) == "0.05"
    assert auto_discount(80, 100) == "8折" and auto_discount(129, 199) == "6.5折"
    assert auto_discount(100, 100) == "" and auto_discount(50, 0) == ""
    assert format_countdown(59) == "00:59" and format_countdown(3725) == "1:02:05"


def test_product_card_draws_its_title() -> None:
    with_title = card(title="丝绒哑光口红 限量礼盒", price=129.0).frame().pixels
    no_title = card(title="", price=129.0).frame().pixels
    other = card(title="保温杯", price=129.0).frame().pixels
    assert with_title.shape == (220, 560, 4) and premultiplied(with_title)
    # the title area (right of the image, top rows) is where they differ
    title_area = (slice(10, 80), slice(230, 550))
    assert not np.array_equal(with_title[title_area], no_title[title_area])
    assert not np.array_equal(with_title[title_area], other[title_area])
    dark = (with_title[title_area][:, :, :3].max(axis=2) < 90).sum()
    assert dark > 200  # dark title text on the light panel
    # corners are rounded: transparent corner pixel, opaque middle
    assert with_title[0, 0, 3] == 0 and with_title[110, 280, 3] > 200


def test_product_card_countdown_ticks_once_per_second() -> None:
    src = card(title="口红", price=99.0, original_price=199.0, countdown_seconds=3, ended_text="已结束")
    t0 = 123 * S
    src.tick(t0)
    start = src.frame()
    assert src.countdown_text == "00:03"
    src.tick(t0 + S // 2)
    assert src.frame() is start  # same displayed second: nothing re-rendered
    src.tick(t0 + S)
    after = src.frame()
    assert src.countdown_text == "00:02" and after is not start
    changed = np.nonzero((start.pixels != after.pixels).any(axis=2))
    assert changed[0].size > 0
    assert changed[1].min() > 560 // 2  # only the countdown (right side) changed
    src.tick(t0 + 3 * S)
    assert src.countdown_text == "已结束"
    ended = src.frame()
    src.tick(t0 + 10 * S)
    assert src.frame() is ended
    src.restart_countdown()
    assert src.countdown_text == "00:03"
    src.tick(t0 + 20 * S)  # the countdown starts again from this tick
    src.tick(t0 + 21 * S)
    assert src.countdown_text == "00:02"


def test_product_card_without_countdown_is_static() -> None:
    src = card(title="口红", countdown_seconds=0)
    first = frame_of(src)
    src.tick(5 * S)
    assert src.frame() is first and src.countdown_text == ""


def test_product_image_with_chinese_path(tmp_path: Path) -> None:
    folder = tmp_path / "商品图片"
    folder.mkdir()
    path = folder / "口红.png"
    img = np.zeros((100, 60, 3), np.uint8)
    img[:] = (0, 200, 0)  # green, taller than wide: letterboxed
    ok, data = cv2.imencode(".png", img)
    assert ok
    data.tofile(str(path))
    src = card(image=str(path), title="口红")
    assert src.error is None
    px = src.frame().pixels
    assert px[110, 110].tolist() == [0, 200, 0, 255]  # image in the middle of its box
    assert px[110, 25, 1] != 200  # left of the letterboxed image: the box colour


def test_missing_or_corrupt_image_draws_a_placeholder(tmp_path: Path) -> None:
    src = card(image=str(tmp_path / "没有.png"))
    assert src.error is not None and "没有.png" in src.error and "not found" in src.error
    assert src.frame().pixels.shape == (220, 560, 4)
    bad = tmp_path / "坏.jpg"
    bad.write_bytes(b"not really a jpeg")
    src = card(image=str(bad))
    assert src.error is not None and "not a decodable image" in src.error
    src.update(get_type("product_card").validate(dict(src.settings, image="")))
    assert src.error is None


def test_product_card_sizes_follow_settings() -> None:
    src = card(width=800, height=300, title="大号卡片", discount_tag="限时8折", countdown_seconds=60)
    assert src.size == (800, 300) and src.frame().pixels.shape == (300, 800, 4)


# ---- test pattern ----


def test_test_pattern_stamps_the_tick_time() -> None:
    src = create("test_pattern", width=640, height=360)
    assert isinstance(src, TestPatternSource)
    before = wall_clock_ms()
    src.tick(S)
    after = wall_clock_ms()
    frame = frame_of(src)
    assert frame.opaque and frame.pixels.shape == (360, 640, 4) and frame.pts_ns == S
    stamp = read_stamp(frame.pixels)
    assert stamp is not None
    assert before <= stamp.value <= after and stamp.frame_number == 1
    src.tick(S + S // 30)
    stamp2 = read_stamp(frame_of(src).pixels)
    assert stamp2 is not None and stamp2.frame_number == 2 and stamp2.value >= stamp.value


def test_test_pattern_moves_and_counts() -> None:
    src = create("test_pattern", width=640, height=360, show_clock=False)
    assert isinstance(src, TestPatternSource)
    src.tick(0)
    a = frame_of(src).pixels.copy()
    src.tick(S // 2)
    b = frame_of(src).pixels
    assert read_stamp(a) is None
    bars = (slice(STAMP_HEIGHT, 360 * 3 // 4), slice(0, 640))
    assert not np.array_equal(a[bars], b[bars])  # the moving bar moved
    counter = (slice(300, 360), slice(0, 200))
    assert not np.array_equal(a[counter], b[counter])  # the frame counter changed
    assert src.frame_count == 2


def test_test_pattern_frames_are_new_arrays() -> None:
    src = create("test_pattern", width=STAMP_WIDTH, height=180)
    src.tick(0)
    first = frame_of(src)
    src.tick(S)
    assert frame_of(src).pixels is not first.pixels and first.serial != frame_of(src).serial
