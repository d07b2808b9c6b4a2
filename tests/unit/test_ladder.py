"""The stream's resolution/frame-rate ladder: rungs from the canvas, quick steps down, slow steps up."""

from __future__ import annotations

from studio.outputs.ladder import Ladder, build_ladder


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rungs_follow_the_canvas() -> None:
    assert [r.label for r in build_ladder(1920, 1080, 30)] == ["1080p30", "720p30", "540p30", "360p30", "360p15"]
    assert [(r.width, r.height) for r in build_ladder(1920, 1080, 30)][1:4] == [(1280, 720), (960, 540), (640, 360)]
    assert [r.label for r in build_ladder(1280, 720, 30)] == ["720p30", "540p30", "360p30", "360p15"]


def test_steps_down_at_once_and_as_far_as_needed() -> None:
    clock = Clock()
    ladder = Ladder(build_ladder(1920, 1080, 30), hold_s=5.0, clock=clock, down_hold_s=0.0)
    assert ladder.update(5000).label == "1080p30"
    assert ladder.update(2000).label == "720p30"
    assert ladder.update(700).label == "540p30"
    assert ladder.update(250).label == "360p15"  # skips 360p30
    assert ladder.update(5000).label == "360p15"  # no jump back up


def test_steps_up_one_rung_after_the_target_held_for_the_hold_time() -> None:
    clock = Clock()
    ladder = Ladder(build_ladder(1920, 1080, 30), hold_s=5.0, clock=clock)
    ladder.start(250)
    assert ladder.rung.label == "360p15"
    for _ in range(5):  # the first report above the 360p30 step-up threshold starts the hold
        clock.now += 1.0
        assert ladder.update(8000).label == "360p15"
    clock.now += 1.0
    ladder.update(8000)  # held for 5 s
    assert ladder.rung.label == "360p30"
    for _ in range(6):
        clock.now += 1.0
        ladder.update(8000)
    assert ladder.rung.label == "540p30"  # one rung per hold, never a jump


def test_a_dip_below_the_step_up_threshold_restarts_the_hold() -> None:
    clock = Clock()
    ladder = Ladder(build_ladder(1920, 1080, 30), hold_s=5.0, clock=clock)
    ladder.start(2000)
    assert ladder.rung.label == "720p30"
    for kbps in (4000, 4000, 4000, 3000, 4000, 4000, 4000, 4000):  # 3000: fits 1080p but is below 3732
        clock.now += 1.0
        ladder.update(kbps)
    assert ladder.rung.label == "720p30"
    clock.now += 1.0
    assert ladder.update(4000).label == "720p30"  # held since the dip: 4 s
    clock.now += 1.0
    assert ladder.update(4000).label == "1080p30"


def test_between_the_thresholds_nothing_moves() -> None:
    clock = Clock()
    ladder = Ladder(build_ladder(1920, 1080, 30), hold_s=1.0, clock=clock, down_hold_s=0.0)
    ladder.update(3000)  # above 1080p's step-down threshold (2488)
    assert ladder.at_top
    ladder.update(2400)
    assert ladder.rung.label == "720p30"
    for _ in range(10):
        clock.now += 1.0
        ladder.update(3000)  # fits 1080p but below its step-up threshold: stay on 720p
    assert ladder.rung.label == "720p30"


def test_a_dip_shorter_than_the_down_hold_changes_nothing() -> None:
    clock = Clock()
    ladder = Ladder(build_ladder(1920, 1080, 30), clock=clock, down_hold_s=1.0)
    assert ladder.start(5000).label == "1080p30"
    assert ladder.update(2000).label == "1080p30"  # one low report: scheduling jitter, maybe
    clock.now += 0.5
    assert ladder.update(5000).label == "1080p30"  # it was
    clock.now += 0.5
    assert ladder.update(1900).label == "1080p30"
    clock.now += 1.0
    assert ladder.update(1900).label == "720p30"  # a second low: congestion; as far as it needs


def test_a_target_far_below_the_rung_steps_down_with_the_cut() -> None:
    clock = Clock()
    ladder = Ladder(build_ladder(1920, 1080, 30), clock=clock, down_hold_s=1.0)
    assert ladder.start(5000).label == "1080p30"
    # 700 < 0.75 x 1080p's threshold (2488): the rate controller measured a capped link, no hold
    assert ladder.update(700).label == "540p30"
    assert ladder.update(1500).label == "540p30"  # up only after the hold, one rung at a time
