"""Lane allocation: comments in a lane never overlap and never overtake (property-tested)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenes.lanes import FixedRows, ScrollLanes, Trajectory, can_follow

W = 1280
D = 8_000_000_000
GAP = 16


def exact_x(t: Trajectory, now: int) -> Fraction:
    return t.canvas_width - Fraction((t.canvas_width + t.width) * (now - t.start_ns), t.duration_ns)


def check_lane(placed: list[Trajectory]) -> None:
    """Simulate a lane: at every instant two comments on screen together keep ``GAP`` apart, in
    arrival order (no overtaking). Positions are linear, so the ends of each shared interval and a
    grid in between cover every instant; integer (floor) positions must not overlap either."""
    for i, a in enumerate(placed):
        for b in placed[i + 1 :]:  # b arrived after a
            lo, hi = max(a.start_ns, b.start_ns), min(a.end_ns, b.end_ns)
            if lo >= hi:
                continue
            for k in range(11):
                t = lo + (hi - lo) * k // 10
                assert exact_x(b, t) >= exact_x(a, t) + a.width + GAP, (a, b, t)
                assert b.x_int(t) >= a.x_int(t) + a.width, (a, b, t)


comments = st.lists(
    st.tuples(st.integers(1, 1500), st.integers(0, 400_000_000)),  # text width, time since last arrival
    min_size=1,
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(comments, st.integers(1, 6), st.sampled_from([2_000_000_000, D, 13_000_000_000]), st.integers(320, 3840))
def test_lanes_never_overlap_or_overtake(items: list[tuple[int, int]], lanes: int, duration: int, width: int) -> None:
    alloc = ScrollLanes(lanes, width, duration, gap=GAP)
    by_lane: dict[int, list[Trajectory]] = {}
    now = 0
    rejected = 0
    for text_width, delay in items:
        now += delay
        placed = alloc.place(text_width, now)
        if placed is None:
            rejected += 1
            continue
        lane, traj = placed
        assert 0 <= lane < lanes and traj.start_ns == now and traj.width == text_width
        by_lane.setdefault(lane, []).append(traj)
    for lane_items in by_lane.values():
        check_lane(lane_items)
    assert rejected + sum(len(v) for v in by_lane.values()) == len(items)


def test_speed_follows_text_width_over_a_fixed_duration() -> None:
    short, long = Trajectory(0, 100, W, D), Trajectory(0, 500, W, D)
    for t in (short, long):
        assert t.x_at(0) == W and t.x_at(D) == -t.width  # enters at the right, gone at the left
    assert long.x_at(D // 2) < short.x_at(D // 2)  # the long one is faster
    assert short.x_int(D // 3) == int(short.x_at(D // 3) // 1)


def test_follow_rules() -> None:
    prev = Trajectory(0, 200, W, D)
    # not fully entered yet (tail still within the gap of the right edge)
    entered_ns = (200 + GAP) * D // (W + 200)
    assert not can_follow(prev, 100, entered_ns - 1, GAP)
    assert can_follow(prev, 100, entered_ns + 1, GAP)  # slower: can never catch up
    # a much longer (faster) comment would catch prev's tail before it leaves
    assert not can_follow(prev, 1200, entered_ns + 1, GAP)
    # ... until prev's tail is near enough the left edge: (W - GAP) * D >= (W + 1200) * (D - now)
    earliest = D - (W - GAP) * D // (W + 1200)
    assert not can_follow(prev, 1200, earliest - 2, GAP)
    assert can_follow(prev, 1200, earliest + 1, GAP)
    assert can_follow(prev, 5000, D, GAP)  # prev is gone


def test_first_free_lane_from_the_top_then_none() -> None:
    lanes = ScrollLanes(2, W, D, gap=GAP)
    assert lanes.place(300, 0) is not None and lanes.place(300, 0) is not None
    first, second = ScrollLanes(2, W, D, gap=GAP), None
    assert first.place(300, 0)[0] == 0  # type: ignore[index]
    assert first.place(300, 0)[0] == 1  # type: ignore[index]
    assert first.place(300, 0) is second  # both lanes busy
    assert lanes.place(300, D)[0] == 0  # type: ignore[index]  # the screen emptied
    lanes.reset()
    assert lanes.place(300, 1)[0] == 0  # type: ignore[index]


def test_fixed_rows_take_the_first_free_row() -> None:
    rows = FixedRows(2)
    assert rows.place(0, 100) == 0 and rows.place(10, 100) == 1
    assert rows.place(50, 100) is None
    assert rows.place(100, 100) == 0  # row 0 expired at 100
    rows.release(1)
    assert rows.place(101, 100) == 1


@pytest.mark.parametrize(
    ("args", "match"),
    [((0, W, D), "count"), ((1, 0, D), "width"), ((1, W, 0), "duration"), ((1, W, D, 0), "gap")],
)
def test_bad_lane_settings(args: tuple[int, ...], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ScrollLanes(*args)


def test_bad_comment_width() -> None:
    with pytest.raises(ValueError, match="width"):
        ScrollLanes(1, W, D).place(0, 0)
    with pytest.raises(ValueError, match="count"):
        FixedRows(0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 2000), st.integers(0, D // 4)), max_size=40), st.integers(1, 6))
def test_open_lanes_is_zero_only_when_no_comment_fits(items: list[tuple[int, int]], lanes: int) -> None:
    """``open_lanes`` lets a caller skip measuring a comment: when it says 0, no width is placed."""
    sl = ScrollLanes(lanes, W, D, GAP)
    now = 0
    for width, step in items:
        now += step
        open_now = sl.open_lanes(now)
        assert 0 <= open_now <= lanes
        placed = sl.place(width, now)
        if open_now == 0:
            assert placed is None
        if placed is None:  # a lane that is open refuses only wider (faster) comments than the narrowest
            assert open_now == 0 or sl.place(1, now) is not None


def test_free_rows_count_rows_whose_time_is_up() -> None:
    rows = FixedRows(2)
    assert rows.free_rows(0) == 2
    rows.place(0, 100)
    assert rows.free_rows(50) == 1 and rows.free_rows(100) == 2
