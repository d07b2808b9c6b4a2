"""Overlay sources (bullet comments, poll results, likes and gifts) and their binding to the
interaction service. Time is the program clock passed to ``tick``, so everything is repeatable."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from scenes.registry import get_type
from scenes.sources.danmaku_overlay import DanmakuOverlaySource
from scenes.sources.poll_overlay import PollOverlaySource, PollView
from scenes.sources.reactions_overlay import ReactionsOverlaySource, format_likes
from scenes.text_raster import blit_over, ensure_gui_app
from studio.interaction.messages import Danmaku, Gift
from studio.interaction.moderation import BANNED_WORD, Moderator
from studio.interaction.overlays import OverlayBinding
from studio.interaction.service import GiftReceived, InteractionService, LikesUpdated

S = 1_000_000_000
FRAME = S // 30


@pytest.fixture(scope="module", autouse=True)
def _gui() -> None:
    ensure_gui_app()


def danmaku(**settings: Any) -> DanmakuOverlaySource:
    base = {"width": 480, "height": 270, "font_size": 20, "duration": 4.0, "fixed_duration": 2.0}
    source = get_type("danmaku_overlay").create({**base, **settings})
    assert isinstance(source, DanmakuOverlaySource)
    return source


def pixels(source: Any) -> np.ndarray:
    frame = source.frame()
    return np.zeros((source.size[1], source.size[0], 4), np.uint8) if frame is None else frame.pixels


def ink(px: np.ndarray) -> int:
    return int((px[:, :, 3] > 64).sum())


def chroma(px: np.ndarray) -> int:
    c = px[:, :, :3].astype(np.int16)
    return int(((c.max(axis=2) - c.min(axis=2)) > 60).sum())


def redraw(source: DanmakuOverlaySource, now: int) -> np.ndarray:
    """The overlay drawn from scratch: what the incremental (dirty-rectangle) canvas must equal."""
    out = np.zeros((source.size[1], source.size[0], 4), np.uint8)
    for item in source._live:  # scrolling comments first, fixed ones over them
        if item.traj is not None:
            blit_over(out, item.pixels, item.traj.x_int(now), item.y)
    for item in source._live:
        if item.traj is None:
            blit_over(out, item.pixels, item.x, item.y)
    for extra in (source._pin, source._label):  # the pin, then the "+N" label
        if extra is not None:
            blit_over(out, extra.pixels, extra.x, extra.y)
    return out


# ---- bullet comments ----


def test_scrolling_comment_moves_right_to_left_and_leaves() -> None:
    ov = danmaku()
    assert ov.frame() is None  # nothing to show: the compositor skips it
    ov.push("a", "主播好", "#FF0000")
    ov.tick(0)
    xs = []
    for t in (S // 2, S, 2 * S):
        ov.tick(t)
        cols = np.nonzero(pixels(ov)[:, :, 3].max(axis=0) > 64)[0]
        xs.append(int(cols.min()))
    assert xs[0] > xs[1] > xs[2]
    red = pixels(ov)[:, :, 2].astype(int) - pixels(ov)[:, :, 0].astype(int)
    assert (red > 100).sum() > 50  # drawn in the message's colour
    ov.tick(4 * S)  # a whole duration later it has left
    assert ov.stats().on_screen == 0 and ov.frame() is None
    assert ink(ov._canvas) == 0  # the canvas was cleared where the comment was


def test_incremental_canvas_equals_a_full_redraw() -> None:
    ov = danmaku(max_on_screen=40)
    t = 0
    for i in range(30):
        ov.push(f"m{i}", ["666", "哈哈哈哈哈哈", "好看😍", "这个口红多少钱呀主播", "gg"][i % 5],
                ["#FFFFFF", "#FFE14D", "#7FD7FF"][i % 3], ["scroll", "scroll", "scroll", "top", "bottom"][i % 5])
        ov.tick(t)
        if i == 12:
            ov.remove("m3")
            ov.pin("m1")
        if i == 20:
            ov.unpin()
        t += FRAME * 3
        assert np.array_equal(pixels(ov), redraw(ov, t - FRAME * 3)), f"after message {i}"
    for _ in range(40):
        t += FRAME
        ov.tick(t)
    assert np.array_equal(pixels(ov), redraw(ov, t))
    bounds = ov.content_bounds()
    assert bounds is not None
    x0, y0, x1, y1 = bounds
    outside = pixels(ov).copy()
    outside[y0:y1, x0:x1] = 0
    assert not outside.any() and ink(pixels(ov)[y0:y1, x0:x1]) > 0


def test_new_settings_clear_the_screen_keep_the_queue_and_the_pin() -> None:
    ov = danmaku(max_on_screen=1)
    for i in range(3):
        ov.push(f"m{i}", f"第{i}条")
    ov.pin("m2")
    ov.tick(0)
    assert ov.stats().on_screen == 1 and ov.stats().queued == 2 and ov.stats().pinned
    pitch = ov.lane_pitch
    ov.update(get_type("danmaku_overlay").validate({**ov.settings, "font_size": 40}))
    assert ov.lane_pitch > pitch and ov.frame() is None
    ov.tick(FRAME)
    st = ov.stats()
    assert st.on_screen == 1 and st.queued == 1 and st.pinned
    assert np.array_equal(pixels(ov), redraw(ov, FRAME))


def test_comments_in_a_lane_never_overlap_on_screen() -> None:
    ov = danmaku(area=0.3)
    t = 0
    texts = ["短", "一条比较长的弹幕内容在这里", "中等长度弹幕", "😀😀", "wow"]
    for i in range(40):
        ov.push(f"m{i}", texts[i % len(texts)])
        ov.tick(t)
        lanes: dict[int, list[tuple[int, int]]] = {}
        for item in ov._live:
            assert item.traj is not None
            lanes.setdefault(item.row, []).append((item.traj.x_int(t), item.pixels.shape[1]))
        for spans in lanes.values():
            spans.sort()
            for (x0, w0), (x1, _) in zip(spans, spans[1:], strict=False):
                assert x0 + w0 <= x1
        t += FRAME * 4


def test_cap_queue_and_drop_counters() -> None:
    ov = danmaku(max_on_screen=2, queue_limit=3)
    for i in range(10):
        ov.push(f"m{i}", f"弹幕{i}")
    st = ov.stats()
    assert (st.on_screen, st.queued, st.dropped) == (0, 3, 7)  # the oldest were dropped
    ov.tick(0)
    st = ov.stats()
    assert st.on_screen == 2 and st.queued == 1 and st.shown == 2
    ov.tick(3 * S)  # still under the cap: the queued one waits ...
    assert ov.stats().queued == 1
    ov.tick(5 * S)  # ... the first two left, but it waited longer than a duration: dropped
    st = ov.stats()
    assert st.on_screen == 0 and st.queued == 0 and st.dropped == 8


def test_queue_limit_zero_drops_at_the_cap() -> None:
    ov = danmaku(max_on_screen=1, queue_limit=0)
    ov.push("a", "一")
    ov.tick(0)
    ov.push("b", "二")
    assert ov.stats().dropped == 1 and ov.stats().on_screen == 1


def test_top_and_bottom_fixed_comments_are_centred_then_expire() -> None:
    ov = danmaku()
    ov.push("t", "置顶评论", mode="top")
    ov.push("b", "底部评论", mode="bottom")
    ov.tick(0)
    alpha = pixels(ov)[:, :, 3] > 64
    rows = np.nonzero(alpha.any(axis=1))[0]
    cols = np.nonzero(alpha.any(axis=0))[0]
    assert rows.min() < 270 * 0.25 and rows.max() > 270 * 0.6  # one near the top, one near the bottom
    assert abs((cols.min() + cols.max()) / 2 - 240) <= 3  # centred
    ov.tick(S)  # fixed: they do not move
    assert np.array_equal(alpha, pixels(ov)[:, :, 3] > 64)
    ov.tick(2 * S)
    assert ov.frame() is None and ov.stats().on_screen == 0


def test_removal_takes_a_comment_off_screen_and_out_of_the_queue() -> None:
    ov = danmaku(max_on_screen=1)
    ov.push("a", "第一条")
    ov.push("b", "第二条")
    ov.tick(0)
    assert ov.stats().on_screen == 1 and ov.stats().queued == 1
    ov.remove("b")  # queued
    ov.remove("a")  # on screen
    ov.tick(FRAME)
    assert ov.stats() == ov.stats().__class__(0, 0, 0, 1, False)
    assert ov.frame() is None and ink(ov._canvas) == 0


def test_pin_shows_a_band_until_unpinned() -> None:
    ov = danmaku()
    ov.push("p", "欢迎来到直播间")
    ov.tick(0)
    ov.remove("p")
    ov.pin("p")  # by id: the text is remembered
    ov.tick(FRAME)
    band = pixels(ov)[ov._pin_y :, :, 3]
    assert ink(pixels(ov)[ov._pin_y :]) > 100 and ov.stats().pinned
    assert (band == 255).sum() > 0 or (band > 100).sum() > 0
    ov.tick(10 * S)  # stays while scrolling comments come and go
    assert ov.stats().pinned and ov.frame() is not None
    ov.unpin()
    ov.tick(10 * S + FRAME)
    assert ov.frame() is None and not ov.stats().pinned
    with pytest.raises(ValueError, match="no recent danmaku"):
        ov.pin("unknown")


def test_cjk_and_colour_emoji_reach_the_canvas() -> None:
    ov = danmaku(font_size=32)
    ov.push("e", "你好😀")
    ov.tick(0)
    ov.tick(S)
    px = pixels(ov)
    assert ink(px) > 200
    assert chroma(px) > 50  # the emoji is in colour, not a box or a monochrome glyph
    item = ov._live[0]
    alone = danmaku(font_size=32)
    alone.push("x", "\U0010fffd\U0010fffd")  # no font draws this: the missing-glyph boxes
    alone.tick(0)
    assert not np.array_equal(item.pixels[:, :40], alone._live[0].pixels[:, :40])


def test_opacity_scales_the_comment() -> None:
    ov = danmaku(opacity=0.5)
    ov.push("a", "半透明")
    ov.tick(0)
    ov.tick(S)
    assert 100 < int(pixels(ov)[:, :, 3].max()) <= 128


def test_same_pushes_and_ticks_give_the_same_pictures() -> None:
    a, b = danmaku(), danmaku()
    for ov in (a, b):
        for i in range(8):
            ov.push(f"m{i}", f"第{i}条弹幕")
    for t in range(0, 2 * S, FRAME * 5):
        a.tick(t)
        b.tick(t)
        assert np.array_equal(pixels(a), pixels(b))


def test_unchanged_picture_keeps_its_serial() -> None:
    ov = danmaku()
    ov.push("t", "固定", mode="top")
    ov.tick(0)
    first = ov.frame()
    ov.tick(FRAME)
    assert ov.frame() is first  # nothing moved: the compositor's cache stays valid


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("", "x"), "id"),
        (("a", "   "), "empty"),
        (("a", "x" * 201), "longer"),
        (("a", "x", "red"), "colour"),
        (("a", "x", "#FFFFFF", "sideways"), "mode"),
    ],
)
def test_bad_pushes_raise_value_error(args: tuple[Any, ...], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        danmaku().push(*args)


def test_push_from_many_threads_while_ticking() -> None:
    ov = danmaku(max_on_screen=50, queue_limit=40)

    def pusher(k: int) -> None:
        for i in range(50):
            ov.push(f"{k}-{i}", f"线程{k}第{i}条")

    threads = [threading.Thread(target=pusher, args=(k,), name=f"pusher-{k}") for k in range(4)]
    for th in threads:
        th.start()
    t = 0
    while any(th.is_alive() for th in threads):
        ov.tick(t)
        t += FRAME
    for th in threads:
        th.join()
    st = ov.stats()
    assert st.shown + st.queued + st.dropped == 200


def test_a_busy_chat_fills_the_lanes_and_every_comment_is_accounted_for() -> None:
    ov = danmaku(max_on_screen=60)
    texts = ["666", "哈哈哈哈哈哈", "好看😍", "这个口红多少钱呀主播", "gg", "冲冲冲"]
    pushed = 0
    for frame in range(6 * 30):  # 6 s of a chat sending 20 comments a second
        now = frame * FRAME
        while pushed < 20 * now // S:
            ov.push(f"m{pushed}", texts[pushed % len(texts)], mode="top" if pushed % 9 == 8 else "scroll")
            pushed += 1
        ov.tick(now)
        if frame % 15 == 0:
            assert np.array_equal(pixels(ov), redraw(ov, now)), f"frame {frame}"
    st = ov.stats()
    assert st.on_screen > ov.lane_count  # lanes hold several comments each
    assert st.shown > st.on_screen  # early comments have left again
    assert st.shown + st.queued + st.dropped == pushed
    assert np.array_equal(pixels(ov), redraw(ov, now))


def test_a_narrow_comment_passes_a_wide_one_the_lane_refuses() -> None:
    # one lane: a wide comment would catch up with the one ahead, a narrow one will not
    ov = danmaku(width=640, height=120, area=0.05, duration=8.0)
    assert ov.lane_count == 1
    ov.push("lead", "a")
    ov.tick(0)
    ov.push("wide", "这是一条非常非常长的弹幕评论内容")
    ov.push("narrow", "a")
    ov.tick(S)
    st = ov.stats()
    assert (st.on_screen, st.queued) == (2, 1)
    assert [item.id for item in ov._live] == ["lead", "narrow"]
    ov.tick(S + FRAME)  # still refused, still waiting in the queue
    assert (ov.stats().queued, len(ov._live)) == (1, 2)


def flood(ov: DanmakuOverlaySource, seconds: float, per_frame: int, start: int = 0) -> int:
    """A chat far faster than the lanes: ``per_frame`` comments per frame (a network read each),
    ticking at 30 fps from ``start``; returns the clock of the last tick."""
    texts = ["666", "哈哈哈哈哈哈", "好看😍", "这个口红多少钱呀主播", "gg", "冲冲冲"]
    now = start
    for frame in range(int(seconds * 30)):
        now = start + frame * FRAME
        ov.push_many([(f"f{now}-{i}", texts[i % len(texts)], "#FFFFFF", "scroll") for i in range(per_frame)])
        ov.tick(now)
    return now


def test_at_lane_capacity_the_overlay_says_how_many_were_not_shown() -> None:
    ov = danmaku(max_on_screen=500)
    now = flood(ov, 3.0, 40)  # 1,200 comments a second into a handful of lanes
    st = ov.stats()
    assert st.on_screen <= 500 and st.missed > 0  # "+N" is up
    assert st.shown + st.queued + st.dropped == 90 * 40  # every comment is accounted for
    label = ov._label
    assert label is not None and label.x + label.pixels.shape[1] <= ov.size[0]  # bottom-right, inside
    assert label.y >= ov._pin_y - 1
    # the label is drawn: on the canvas and among the compositor's sprites
    assert ink(pixels(ov)[label.y : label.y + label.pixels.shape[0], label.x :]) > 20
    assert any(sp.pixels is label.pixels for sp in ov.sprites())
    assert np.array_equal(pixels(ov), redraw(ov, now))
    # the chat stops: the queue empties (shown, or too old), then after the window the label goes
    for frame in range(1, 30 * 12):
        ov.tick(now + frame * FRAME)
    assert ov.stats().queued == 0 and ov.stats().missed == 0 and ov._label is None
    assert np.array_equal(pixels(ov), redraw(ov, now + (30 * 12 - 1) * FRAME))


def test_the_label_counts_only_the_last_few_seconds() -> None:
    ov = danmaku(max_on_screen=1, queue_limit=1)  # duration 4 s
    ov.push_many([(f"m{i}", "弹幕", "#FFFFFF", "scroll") for i in range(11)])  # 10 overflow the queue
    ov.tick(0)
    assert ov.stats().missed == 10 and ov.stats().on_screen == 1
    ov.tick(2 * S)
    ov.push_many([(f"n{i}", "弹幕", "#FFFFFF", "scroll") for i in range(4)])  # 3 overflow, n3 waits
    ov.tick(2 * S + FRAME)
    assert ov.stats().missed == 13
    # 6 s: the first ten are out of the 5-second window; n3 waited a whole duration: not shown either
    ov.tick(6 * S + FRAME)
    assert ov.stats().missed == 3 + 1


def test_comments_that_are_never_shown_are_never_rasterised(monkeypatch: pytest.MonkeyPatch) -> None:
    from scenes.sources import danmaku_overlay

    rendered: list[str] = []
    real = danmaku_overlay.render_text

    def counting(style: Any, text: str, **kw: Any) -> Any:
        rendered.append(text)
        return real(style, text, **kw)

    monkeypatch.setattr(danmaku_overlay, "render_text", counting)
    ov = danmaku(max_on_screen=500)
    flood(ov, 3.0, 40)
    st = ov.stats()
    bullets = [t for t in rendered if not t.startswith("+")]
    # one rasterisation per comment shown; a few more where a lane refused a faster comment
    assert st.shown <= len(bullets) <= st.shown + ov.lane_count + 30
    assert len(bullets) < st.dropped / 10
    assert len(rendered) - len(bullets) <= 2 * 3 + 1  # the "+N" label: at most twice a second


def test_push_many_equals_pushes_and_reports_bad_comments() -> None:
    one, many = danmaku(queue_limit=5), danmaku(queue_limit=5)
    batch = [(f"m{i}", f"第{i}条", "#FF0000", "scroll") for i in range(12)]
    for item in batch:
        one.push(*item)
    assert many.push_many(batch) == []
    assert one.stats() == many.stats() and [w.id for w in one._waiting] == [w.id for w in many._waiting]
    bad = many.push_many([("x", "", "#FFFFFF", "scroll"), ("y", "好", "red", "scroll"), ("z", "好", "#FFFFFF", "top")])
    assert [message_id for message_id, _ in bad] == ["x", "y"] and "empty" in str(bad[0][1])
    assert [w.id for w in many._waiting][-1] == "z"


# ---- poll results ----


def poll(**settings: Any) -> PollOverlaySource:
    source = get_type("poll_overlay").create({"width": 320, "height": 220, **settings})
    assert isinstance(source, PollOverlaySource)
    return source


def gold(px: np.ndarray) -> int:
    """Pixels of the default winner colour (#FFC83D: high red and green, low blue)."""
    b, g, r = (px[:, :, i].astype(int) for i in range(3))
    return int(((r > 200) & (g > 150) & (b < 110)).sum())


def test_poll_pixels_follow_the_counts_and_rerender_only_on_change() -> None:
    ov = poll()
    ov.tick(0)
    assert ov.frame() is None  # no poll yet
    view = PollView("她该原谅他吗？", ("原谅", "不原谅"), (3, 1), 42.0)
    ov.set_state(view)
    ov.tick(FRAME)
    before = pixels(ov).copy()
    assert ink(before) > 1000 and ov.renders == 1
    ov.set_state(PollView("她该原谅他吗？", ("原谅", "不原谅"), (3, 1), 41.2))  # same second shown
    ov.tick(2 * FRAME)
    assert ov.renders == 1
    ov.set_state(PollView("她该原谅他吗？", ("原谅", "不原谅"), (3, 9), 41.2))
    ov.tick(3 * FRAME)
    assert ov.renders == 2 and not np.array_equal(before, pixels(ov))
    ov.set_state(None)
    ov.tick(4 * FRAME)
    assert ov.frame() is None


def test_poll_winner_is_highlighted_when_closed() -> None:
    ov = poll()
    ov.set_state(PollView("选哪个结局？", ("A 结局", "B 结局"), (2, 5), 3.0))
    ov.tick(0)
    open_px = pixels(ov).copy()
    ov.set_state(PollView("选哪个结局？", ("A 结局", "B 结局"), (2, 5), 0.0, closed=True, winner=1))
    ov.tick(FRAME)
    closed_px = pixels(ov)
    assert gold(open_px) == 0 and gold(closed_px) > 200
    rows = np.nonzero((closed_px[:, :, 2] > 200) & (closed_px[:, :, 1] > 150) & (closed_px[:, :, 0] < 110))[0]
    assert rows.min() > 220 // 2 - 20  # the highlight is on the second option, in the lower half


def test_poll_votes_redraw_once_a_frame_and_keep_the_panel() -> None:
    ov = poll()
    for votes in range(1, 51):  # a vote update every 20 ms arriving within one frame: drawn once
        ov.set_state(PollView("她该原谅他吗？", ("原谅", "不原谅"), (votes, 2), 42.0))
    ov.tick(0)
    assert ov.renders == 1 and ov.base_renders == 1
    for frame in range(1, 4):  # new counts each frame: the rows are redrawn, the panel and question kept
        ov.set_state(PollView("她该原谅他吗？", ("原谅", "不原谅"), (50 + frame, 2 * frame), 42.0))
        ov.tick(frame * FRAME)
    assert ov.renders == 4 and ov.base_renders == 1
    fresh = poll()  # the kept panel draws the same picture as drawing everything anew
    fresh.set_state(ov.view)
    fresh.tick(0)
    assert np.array_equal(pixels(ov), pixels(fresh))
    ov.set_state(PollView("选哪个结局？", ("A 结局", "B 结局"), (2, 5), 0.0, closed=True, winner=1))
    ov.tick(4 * FRAME)
    assert ov.base_renders == 2  # a new question: a new panel
    ov.update({**ov.settings, "panel_color": "#C0301018"})
    ov.tick(5 * FRAME)
    assert ov.base_renders == 3  # new settings: a new panel too
    fresh = poll()
    fresh.update({**fresh.settings, "panel_color": "#C0301018"})
    fresh.set_state(ov.view)
    fresh.tick(0)
    assert np.array_equal(pixels(ov), pixels(fresh))


def test_poll_view_percentages_and_validation() -> None:
    assert PollView("q", ("a", "b", "c"), (1, 1, 1), 5).percentages() == (34, 33, 33)
    assert sum(PollView("q", ("a", "b", "c", "d"), (7, 3, 9, 2), 5).percentages()) == 100
    assert PollView("q", ("a", "b"), (0, 0), 5).percentages() == (0, 0)
    with pytest.raises(ValueError, match="counts"):
        PollView("q", ("a", "b"), (1,), 5)
    with pytest.raises(ValueError, match="winner"):
        PollView("q", ("a", "b"), (1, 2), 0, True, 2)
    with pytest.raises(ValueError, match="PollView"):
        poll().set_state("nope")  # type: ignore[arg-type]


# ---- likes and gifts ----


def reactions(**settings: Any) -> ReactionsOverlaySource:
    source = get_type("reactions_overlay").create({"font_size": 24, "width": 360, "height": 120, **settings})
    assert isinstance(source, ReactionsOverlaySource)
    return source


def test_likes_counter_runs_up_to_the_total() -> None:
    ov = reactions()
    ov.tick(0)
    ov.set_likes(1000)
    ov.tick(FRAME)
    ov.tick(FRAME + 200_000_000)
    middle = ov.stats().likes_shown
    assert 0 < middle < 1000
    ov.tick(FRAME + 700_000_000)
    assert ov.stats().likes_shown == 1000
    renders = ov.renders
    ov.tick(FRAME + S)
    assert ov.renders == renders  # settled: no re-render
    ov.add_likes(5)
    ov.tick(2 * S)
    assert ov.stats().likes_total == 1005 and format_likes(123456) == "12.3万"


def test_gift_toasts_queue_and_show_one_after_another() -> None:
    ov = reactions(toast_seconds=1.0, queue_limit=2)
    ov.tick(0)
    plain = pixels(ov).copy()
    for name in ("小明", "小红", "小刚", "小李"):
        ov.push_gift(name, "火箭", 2)
    st = ov.stats()
    assert st.queued == 2 and st.dropped == 2  # the two oldest were dropped
    ov.tick(FRAME)
    assert ov.stats().toast == "小刚 送出 火箭 x2"
    assert ink(pixels(ov)) > ink(plain) + 200
    ov.tick(FRAME + S // 2)
    assert ov.stats().toast == "小刚 送出 火箭 x2"
    ov.tick(FRAME + S)
    assert ov.stats().toast == "小李 送出 火箭 x2" and ov.stats().queued == 0
    ov.tick(FRAME + 2 * S)
    assert ov.stats().toast is None and np.array_equal(pixels(ov), plain)
    with pytest.raises(ValueError, match="count"):
        ov.push_gift("a", "b", 0)


# ---- binding to the interaction service (signals fed directly) ----


def test_binding_forwards_visible_danmaku_removals_pins_likes_gifts_and_polls() -> None:
    service = InteractionService(moderator=Moderator(["傻瓜"]), poll_clock=lambda: 100.0)
    dm, pl, rx = danmaku(), poll(), reactions()
    studio = SimpleNamespace(sources={"dm": dm, "poll": pl, "rx": rx, "other": get_type("color").create({})})
    with OverlayBinding(service, studio) as binding:
        ok = Danmaku(user="u1", nick="小明", text="主播好", colour="#FF0000")
        bad = Danmaku(user="u2", text="你是傻瓜")
        for message in (ok, bad):
            service.danmaku_batch.emit((service.moderator.check(message),))
        assert binding.forwarded == 1 and binding.withheld == 1
        assert dm.stats().queued == 1  # only the accepted one
        dm.tick(0)
        assert dm.stats().on_screen == 1
        service.moderator.remove(ok.id)
        dm.tick(FRAME)
        assert dm.stats().on_screen == 0
        service.danmaku_batch.emit((service.moderator.check(ok),))  # seen again (the moderator forgot it)
        service.moderator.pin(ok.id)
        dm.tick(2 * FRAME)
        assert dm.stats().pinned
        service.moderator.unpin()
        dm.tick(3 * FRAME)
        assert not dm.stats().pinned
        flagged = service.moderator.check(Danmaku(user="u3", text="傻瓜"))
        assert BANNED_WORD in flagged.flags

        service.likes.emit(LikesUpdated("u1", 3, 42))
        service.gifts.emit(GiftReceived(Gift(user="u1", nick="小明", name="火箭", count=2), 20.0, 2))
        rx.tick(0)
        assert rx.stats().likes_total == 42 and rx.stats().toast == "小明 送出 火箭 x2"

        service.open_poll("选哪个结局？", ["A", "B"], 30)
        pl.tick(0)
        assert pl.view is not None and not pl.view.closed and pl.view.remaining_s == 30
        assert service.poll is not None
        service.poll.vote("v1", 1)
        service.close_poll()
        pl.tick(FRAME)
        assert pl.view is not None and pl.view.closed and pl.view.winner == 1 and pl.view.counts == (0, 1)
    service.likes.emit(LikesUpdated("u1", 1, 43))  # closed: nothing forwarded any more
    assert rx.stats().likes_total == 42
