"""Rundown model: validated setters with clear messages, events, cross-references, routes."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.rundown import BranchPoint, DramaSegment, LiveSegment, ProductMoment, Rundown, VotePoint
from studio.rundown.model import MarkersChanged, SegmentChanged, SegmentsChanged
from studio.rundown.route import parse_path, plan_route


def demo_like() -> Rundown:
    r = Rundown("show", drama_source="drama", drama_scene="Drama")
    ep = DramaSegment("episode", "/clips/ep.mp4", 0.0, 10.0, segment_id="ep")
    ep.add_marker(VotePoint(1.0, "她应该买吗?", ("买", "不买"), 10.0, id="v1"))
    ep.add_marker(BranchPoint(10.0, "v1", ("a", "b"), id="br"))
    r.add_segment(ep)
    r.add_segment(DramaSegment("A", "/clips/a.mp4", 0.0, 6.0, segment_id="a", then="live"))
    r.add_segment(DramaSegment("B", "/clips/b.mp4", 0.0, 5.0, segment_id="b", then="live"))
    r.add_segment(LiveSegment("sell", "Live", 20.0, segment_id="live"))
    return r


def test_setters_validate_with_messages_naming_the_field() -> None:
    seg = DramaSegment("ep", "/x.mp4", 1.0, 5.0, segment_id="ep")
    with pytest.raises(ValueError, match="out point .* must be after the in point"):
        seg.out_s = 0.5
    with pytest.raises(ValueError, match="in point: -1 s is negative"):
        seg.in_s = -1
    with pytest.raises(ValueError, match="in point: expected a number"):
        seg.in_s = "x"  # type: ignore[assignment]
    with pytest.raises(ValueError, match="title: must be non-empty"):
        seg.title = " "
    with pytest.raises(ValueError, match="cannot follow itself"):
        seg.then = "ep"
    with pytest.raises(ValueError, match="before the start"):
        seg.add_marker(ProductMoment(0.5, "Drama", "card"))
    seg.add_marker(ProductMoment(2.0, "Drama", "card", id="p1"))
    with pytest.raises(ValueError, match="marker p1 at 2 s would fall outside 3-5 s"):
        seg.in_s = 3.0
    seg.add_marker(BranchPoint(5.0, "v", ("a", "b")))
    with pytest.raises(ValueError, match="one per segment"):
        seg.add_marker(BranchPoint(4.0, "v", ("a", "b")))
    with pytest.raises(ValueError, match="vote duration: 5 s is outside 10-600 s"):
        VotePoint(0, "q?", ("a", "b"), 5)
    with pytest.raises(ValueError, match="2-5 options"):
        VotePoint(0, "q?", ("a",), 30)
    with pytest.raises(ValueError, match="different"):
        VotePoint(0, "q?", ("a", "a"), 30)
    with pytest.raises(ValueError, match="default option: 2"):
        VotePoint(0, "q?", ("a", "b"), 30, default_option=2)
    with pytest.raises(ValueError, match="tie rule"):
        VotePoint(0, "q?", ("a", "b"), 30, tie_rule="coin")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="product moment duration"):
        ProductMoment(1, "Drama", "card", 0)
    with pytest.raises(ValueError, match="must not contain spaces"):
        BranchPoint(1, "v 1", ("a", "b"))
    live = LiveSegment("sell", "Live", 10.0)
    live.add_marker(ProductMoment(8.0, "Live", "card", id="late"))
    with pytest.raises(ValueError, match="late at 8 s is after 5 s"):
        live.duration_s = 5.0


def test_events_for_changes() -> None:
    r = Rundown("show")
    events: list[object] = []
    r.changed.connect(events.append)
    seg = r.add_segment(DramaSegment("ep", "/x.mp4", segment_id="ep"))
    assert isinstance(seg, DramaSegment)
    seg.set_points(1.0, 4.0)
    seg.set_points(1.0, 4.0)  # no change, no event
    seg.add_marker(ProductMoment(2.0, "Drama", "card", id="p"))
    seg.move_marker("p", 3.0)
    seg.title = "第1集"
    r.move_segment("ep", 0)
    assert events == [
        SegmentsChanged(), SegmentChanged("ep", ("in_s", "out_s")), MarkersChanged("ep"), MarkersChanged("ep"),
        SegmentChanged("ep", ("title",)), SegmentsChanged(),
    ]
    assert seg.marker("p").at_s == 3.0
    with pytest.raises(ValueError, match="already has a segment 'ep'"):
        r.add_segment(DramaSegment("again", "/x.mp4", segment_id="ep"))


def test_cross_reference_problems() -> None:
    r = demo_like()
    assert r.problems({"Drama", "Live"}, {"drama", "card"}) == []
    r.segment("a").then = "nowhere"
    r.segment("ep").add_marker(ProductMoment(2.0, "Studio", "lipstick", id="p"))
    problems = r.problems({"Drama", "Live"}, {"drama", "card"})
    assert "segment a: 'then' names unknown segment 'nowhere'" in problems
    assert "product moment p: no scene named 'Studio'" in problems
    assert "product moment p: no source named 'lipstick'" in problems
    r2 = Rundown("x")
    seg = r2.add_segment(DramaSegment("ep", "/x.mp4", segment_id="ep"))
    seg.add_marker(BranchPoint(1.0, "v9", ("ep", "zz")))
    assert any("no vote point 'v9'" in p for p in r2.problems())
    seg.add_marker(VotePoint(0.0, "q?", ("a", "b", "c"), 10, id="v9"))
    problems = r2.problems()
    assert any("2 targets for 3 vote options" in p for p in problems)
    assert any("unknown target segment 'zz'" in p for p in problems)
    assert any("cannot branch to itself" in p for p in problems)
    with pytest.raises(ValueError, match="unknown target"):
        r2.check()


def test_paths_and_routes() -> None:
    r = demo_like()
    assert parse_path("A", r) == [0]
    assert parse_path("b", r) == [1]
    assert parse_path("2", r) == [1]
    assert parse_path("不买", r) == [1]
    with pytest.raises(ValueError, match="path choice 1: '也许' is not an option"):
        parse_path("也许", r)
    route = plan_route(r, [1], 30, lambda _p: None)
    assert [(s.segment.id, s.frames, s.choice) for s in route] == [("ep", 300, 1), ("b", 150, None), ("live", 600, None)]
    with pytest.raises(ValueError, match="reaches another branch point"):
        plan_route(r, [], 30, lambda _p: None)
    with pytest.raises(ValueError, match="passes only 1 branch point"):
        plan_route(r, [0, 1], 30, lambda _p: None)
    with pytest.raises(ValueError, match="option 3 does not exist"):
        plan_route(r, [2], 30, lambda _p: None)
    live = r.segment("live")
    assert isinstance(live, LiveSegment)
    live.duration_s = 0.0  # open-ended: renders use a default length
    assert plan_route(r, [0], 30, lambda _p: None, live_default_s=2.0)[-1].frames == 60
    ending = r.segment("a")
    assert isinstance(ending, DramaSegment)
    ending.out_s = 0.0  # the clip's own length
    assert plan_route(r, [0], 30, lambda _p: 7.5)[1].frames == 225


def test_demo_rundown_fits_the_demo_collection(tmp_path: Path) -> None:
    from studio.demo import CLIPS, DemoAssets, demo_collection
    from studio.demo_rundown import demo_rundown

    assets = DemoAssets(tmp_path, tmp_path / "demo-collection.json", {c.file: tmp_path / c.file for c in CLIPS},
                        {"lipstick": tmp_path / "l.png", "bag": tmp_path / "b.png"})
    col = demo_collection(assets, (1280, 720))
    r = demo_rundown(assets)
    assert r.problems({s.name for s in col.scenes}, set(col.sources)) == []
    vote = r.vote_point("vote-buy")
    assert (vote.question, vote.options) == ("她应该买吗?", ("买", "不买"))
    route = plan_route(r, parse_path("B", r), 30, lambda _p: None)
    assert [s.segment.id for s in route] == ["episode", "ending-b", "live"]
    assert [s.frames for s in route] == [300, 180, 600]
    live = r.segment("live")
    assert isinstance(live, LiveSegment) and live.scene == "Live"
