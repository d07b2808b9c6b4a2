"""The editor's pure maths: hit tests with rotation, handles, resize, crop and snapping."""

from __future__ import annotations

import pytest

from scenes.compositor import Placement, placement
from scenes.model import SceneItem
from widgets import edit_geometry as geo


def test_box_comes_from_the_compositor_placement() -> None:
    item = SceneItem("s", x=10, y=20, scale_x=2.0, scale_y=0.5, crop=(10, 0, 30, 20))
    p = placement(item, (200, 100))
    assert (p.x, p.y, p.width, p.height) == (10, 20, 320, 40)


def test_hit_test_respects_rotation_and_takes_the_top_most() -> None:
    box = Placement(100, 100, 200, 100, 90.0)  # centre (200, 150); turned it spans x 150..250, y 50..250
    assert geo.contains(box, (160, 60))
    assert not geo.contains(box, (110, 110))  # inside the unrotated box only
    under = Placement(0, 0, 1000, 1000, 0.0)
    assert geo.hit_test([("under", under), ("box", box)], (200, 240)) == "box"
    assert geo.hit_test([("under", under), ("box", box)], (110, 110)) == "under"
    assert geo.hit_test([("box", box)], (900, 900)) is None


def test_rotation_turns_clockwise_on_screen_like_the_compositor() -> None:
    box = Placement(0, 0, 100, 100, 90.0)
    tl, tr, _br, _bl = geo.corners(box)
    assert tl == pytest.approx((100, 0))  # the top-left corner swings to the top-right
    assert tr == pytest.approx((100, 100))


def test_resize_keeps_the_opposite_corner() -> None:
    p = Placement(100, 100, 200, 100, 0.0)
    box = geo.resize(p, "br", (100, 100), keep_aspect=False)
    assert (box.x, box.y, box.width, box.height) == pytest.approx((100, 100, 300, 200))
    box = geo.resize(p, "tl", (50, 20), keep_aspect=False)
    assert (box.x, box.y, box.width, box.height) == pytest.approx((150, 120, 150, 80))


def test_resize_with_shift_keeps_the_aspect_ratio() -> None:
    p = Placement(0, 0, 200, 100, 0.0)
    box = geo.resize(p, "br", (100, 100), keep_aspect=True)
    assert box.width / box.height == pytest.approx(2.0)
    box = geo.resize(p, "r", (200, 0), keep_aspect=True)
    assert (box.width, box.height) == pytest.approx((400, 200))
    assert box.y == pytest.approx(-50)  # grows about the middle of the untouched axis


def test_resize_of_a_rotated_item_works_in_its_own_axes() -> None:
    p = Placement(0, 0, 100, 100, 90.0)
    # the item's local "right" edge points down on screen after a 90 degree turn
    box = geo.resize(p, "r", (0, 50), keep_aspect=False)
    assert (box.width, box.height) == pytest.approx((150, 100))


def test_crop_moves_the_box_so_the_rest_stays_in_place() -> None:
    p = Placement(100, 100, 200, 100, 0.0)
    result = geo.crop(p, "l", (50, 0), (0, 0, 0, 0), (200, 100), (1.0, 1.0))
    assert result.crop == (50, 0, 0, 0)
    assert (result.x, result.y) == pytest.approx((150, 100))
    scaled = Placement(100, 100, 400, 200, 0.0)  # scale 2: 50 canvas px = 25 source px
    result = geo.crop(scaled, "b", (0, -50), (0, 0, 0, 0), (200, 100), (2.0, 2.0))
    assert result.crop == (0, 0, 0, 25)
    result = geo.crop(p, "r", (-1000, 0), (0, 0, 0, 0), (200, 100), (1.0, 1.0))
    assert result.crop == (0, 0, 199, 0)  # never crops the picture away entirely


def test_snapping_to_canvas_centre_and_other_items() -> None:
    targets = geo.snap_targets((1280, 720), [Placement(700, 0, 100, 100, 0.0)])
    moving = Placement(535, 300, 200, 100, 0.0)  # centre x 635: 5 px from the canvas centre
    dx, dy, line_x, line_y = geo.snap_move(moving, targets, threshold=8)
    assert (dx, line_x) == (5, 640.0)
    assert (dy, line_y) == (0.0, None)
    near_item = Placement(795, 500, 100, 100, 0.0)  # left edge 795: 5 px from the other item's right edge
    dx, _dy, line_x, _ly = geo.snap_move(near_item, targets, threshold=8)
    assert (dx, line_x) == (5, 800.0)
    assert geo.snap_edge(1275, targets[0], 8) == (1280.0, 1280.0)


def test_safe_areas_are_centred() -> None:
    assert geo.safe_area((1000, 500), 0.9) == pytest.approx((50, 25, 900, 450))
