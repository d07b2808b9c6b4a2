"""Text rasterising: CJK glyphs, emoji, wrapping, outline, premultiplied output, caching, threads."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from scenes import fonts
from scenes.text_raster import (
    CACHE,
    TextStyle,
    blit_over,
    ensure_gui_app,
    line_count,
    measure_text,
    render_text,
)

LONG_ZH = "这是一个很长的中文句子，用来测试自动换行功能是否正常工作，中文没有空格也必须能够换行。"
MISSING = "\U0010fffd"  # a private-use code point no font draws: the missing-glyph box


@pytest.fixture(scope="module", autouse=True)
def gui() -> fonts.FontInfo:
    ensure_gui_app()
    info = fonts.ensure_fonts()
    assert info.has_cjk, f"no CJK font: {info.problems} (make setup installs fonts-noto-cjk)"
    return info


def ink(px: np.ndarray) -> int:
    return int((px[:, :, 3] > 64).sum())


def chroma(px: np.ndarray) -> int:
    c = px[:, :, :3].astype(np.int16)
    return int(((c.max(axis=2) - c.min(axis=2)) > 60).sum())


def test_fonts_registered_once(gui: fonts.FontInfo) -> None:
    assert fonts.ensure_fonts() is gui
    assert gui.cjk_family in gui.registered_families or gui.files == ()
    assert all(p.is_file() for p in gui.files)
    report = fonts.cjk_font_report()
    assert report["ok"] and report["cjk_family"] == gui.cjk_family


def test_font_search_order(tmp_path: Path) -> None:
    missing = tmp_path / "nope.ttc"
    real = tmp_path / "real.ttc"
    real.write_bytes(b"x")
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    (bundled / "Brand.otf").write_bytes(b"x")
    (bundled / "readme.txt").write_text("not a font")
    found = fonts.find_font_files(bundled, [missing, real], [missing])
    assert found.bundled == (bundled / "Brand.otf",)
    assert found.system_cjk == (real,)
    assert found.system_emoji == ()
    assert fonts.bundled_font_dir().parts[-2:] == ("resources", "fonts")


def test_two_cjk_characters_are_different_glyphs() -> None:
    style = TextStyle(size_px=40)
    ni, hao, box = (render_text(style, t).pixels for t in ("你", "好", MISSING))
    assert ink(ni) > 100 and ink(hao) > 100
    assert ni.shape == hao.shape  # same advance, so the pixels compare cell to cell
    assert np.abs(ni.astype(int) - hao.astype(int)).sum() > 0
    assert (ni[:, :, 3] > 64).tolist() != (hao[:, :, 3] > 64).tolist()
    for glyph in (ni, hao):
        if glyph.shape == box.shape:
            assert not np.array_equal(glyph, box), "CJK character drew the missing-glyph box"


def test_emoji_renders_in_colour(gui: fonts.FontInfo) -> None:
    assert gui.has_emoji, gui.problems
    px = render_text(TextStyle(size_px=40), "😀").pixels
    assert ink(px) > 100
    assert chroma(px) > 100  # a colour emoji, not a monochrome fallback


def test_emoji_survives_an_outlined_render() -> None:
    # Asking a colour font for glyph outlines used to blank that emoji for later renders.
    render_text(TextStyle(size_px=37, outline_width=3), "好 😀")
    px = render_text(TextStyle(size_px=37), "😀 ")
    assert chroma(px.pixels) > 100


def test_long_chinese_sentence_wraps() -> None:
    style = TextStyle(size_px=32)
    one_w, one_h = measure_text(style, LONG_ZH)
    assert line_count(style, LONG_ZH) == 1
    frame = render_text(style, LONG_ZH, max_width=300)
    assert line_count(style, LONG_ZH, 300) >= 3
    assert frame.height >= 3 * one_h * 0.8
    assert frame.width < 300 + 10 < one_w
    assert (frame.width, frame.height) == measure_text(style, LONG_ZH, 300)
    # style.wrap_width does the same when no max_width is given
    assert line_count(TextStyle(size_px=32, wrap_width=300), LONG_ZH) == line_count(style, LONG_ZH, 300)


def test_max_lines_cuts_with_ellipsis() -> None:
    style = TextStyle(size_px=32, max_lines=2)
    assert line_count(style, LONG_ZH, 300) == 2
    assert line_count(style, "一\n二\n三") == 2


def test_newlines_make_lines() -> None:
    assert line_count(TextStyle(size_px=20), "第一行\n第二行\r\n第三行") == 3


def test_outline_enlarges_bounding_box() -> None:
    plain = measure_text(TextStyle(size_px=40), "你好")
    outlined = measure_text(TextStyle(size_px=40, outline_width=4), "你好")
    assert outlined[0] >= plain[0] + 8 and outlined[1] >= plain[1] + 8
    px = render_text(TextStyle(size_px=40, outline_width=4, outline_color="#FFFF0000"), "你好").pixels
    assert (px[:, :, 2] > 200).sum() > 100  # red outline pixels exist


@pytest.mark.parametrize(
    "style",
    [
        TextStyle(size_px=30),
        TextStyle(size_px=30, color="#80FF8000", outline_width=3, outline_color="#C00000FF"),
        TextStyle(
            size_px=30, shadow_offset=(4, 4), shadow_color="#80000000", background="#4000FF00", padding=6
        ),
        TextStyle(size_px=30, background="#FF202020", corner_radius=10, padding=8, bold=True),
    ],
)
def test_premultiplied_invariant(style: TextStyle) -> None:
    px = render_text(style, "直播 Live 😀\n第二行").pixels
    assert px.dtype == np.uint8 and px.ndim == 3 and px.shape[2] == 4
    assert (px[:, :, :3] <= px[:, :, 3:4]).all()
    assert ink(px) > 0


def test_background_padding_and_shadow_grow_the_picture() -> None:
    base = measure_text(TextStyle(size_px=30), "好")
    assert measure_text(TextStyle(size_px=30, padding=10), "好") == (base[0] + 20, base[1] + 20)
    assert measure_text(TextStyle(size_px=30, shadow_offset=(5, -3)), "好") == (base[0] + 5, base[1] + 3)
    opaque = render_text(TextStyle(size_px=30, background="#FF102030"), "好")
    assert opaque.opaque and (opaque.pixels[:, :, 3] == 255).all()


def test_alignment_moves_short_lines() -> None:
    text = "一二三四五六\n一"
    left = render_text(TextStyle(size_px=30, align="left"), text).pixels
    right = render_text(TextStyle(size_px=30, align="right"), text).pixels
    assert left.shape == right.shape
    lower = slice(left.shape[0] // 2 + 5, None)
    cols_l = np.nonzero(left[lower, :, 3].max(axis=0))[0]
    cols_r = np.nonzero(right[lower, :, 3].max(axis=0))[0]
    assert cols_l.max() < left.shape[1] // 3 and cols_r.min() > left.shape[1] * 2 // 3


def test_cache_returns_the_same_read_only_frame() -> None:
    style = TextStyle(size_px=26, color="#FF00FF00")
    a = render_text(style, "缓存")
    hits = CACHE.hits
    b = render_text(style, "缓存")
    assert a is b and CACHE.hits == hits + 1
    assert not a.pixels.flags.writeable
    assert render_text(style, "缓存", max_width=20) is not a


def test_empty_text_gives_a_transparent_picture() -> None:
    px = render_text(TextStyle(size_px=20), "").pixels
    assert px.shape[0] >= 1 and px.shape[1] >= 1 and ink(px) == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"color": "red"},
        {"outline_color": "#12345"},
        {"align": "justify"},
        {"size_px": 0},
        {"line_spacing": 9.0},
        {"wrap_width": -1},
    ],
)
def test_bad_style_raises_value_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="TextStyle"):
        TextStyle(**kwargs)  # type: ignore[arg-type]


def test_renders_on_a_worker_thread() -> None:
    out: list[np.ndarray] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            out.append(render_text(TextStyle(size_px=33, bold=True), "线程里的字").pixels)
        except BaseException as exc:  # reported below
            errors.append(exc)

    t = threading.Thread(target=work, name="test-text-worker")
    t.start()
    t.join(30)
    assert not t.is_alive() and not errors, errors
    assert ink(out[0]) > 100


def test_blit_over_blends_premultiplied_and_clips() -> None:
    dst = np.zeros((4, 4, 4), np.uint8)
    dst[:] = (0, 0, 200, 255)
    src = np.zeros((2, 2, 4), np.uint8)
    src[:] = (128, 0, 0, 128)  # half-transparent blue, premultiplied
    blit_over(dst, src, 3, 3)  # only one pixel lands inside
    assert dst[3, 3].tolist() == [128, 0, 100, 255]
    assert dst[2, 2].tolist() == [0, 0, 200, 255]
    blit_over(dst, src, -5, -5)  # fully outside: nothing happens
    assert dst[0, 0].tolist() == [0, 0, 200, 255]
