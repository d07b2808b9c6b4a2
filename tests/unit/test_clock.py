"""The video clock's preparation step runs once, on the clock thread, before frame 0's time."""

from __future__ import annotations

import threading

import pytest

from studio.clock import VideoClock


def test_prepare_runs_on_the_clock_thread_before_the_first_frame() -> None:
    seen: list[tuple[str, str, int]] = []
    ticked = threading.Event()

    def prepare() -> None:
        seen.append(("prepare", threading.current_thread().name, clock.started_ns))

    def tick(index: int, pts_ns: int) -> None:
        seen.append(("tick", threading.current_thread().name, index))
        ticked.set()

    clock = VideoClock(30, tick, name="clock-under-test", prepare=prepare)
    clock.start()
    try:
        assert ticked.wait(10)
    finally:
        clock.stop()
    assert seen[0] == ("prepare", "clock-under-test", 0)  # frame 0's time not taken yet
    assert seen[1] == ("tick", "clock-under-test", 0)
    assert [kind for kind, _, _ in seen].count("prepare") == 1


@pytest.mark.expect_logged_errors
def test_a_failing_preparation_does_not_stop_the_clock(caplog: pytest.LogCaptureFixture) -> None:
    ticked = threading.Event()

    def prepare() -> None:
        raise RuntimeError("font database unavailable")

    clock = VideoClock(30, lambda i, pts: ticked.set(), prepare=prepare)
    clock.start()
    try:
        assert ticked.wait(10)
    finally:
        clock.stop()
    assert "preparation failed" in caplog.text
