"""The low layer's room on the uplink: gone at one dip of the main stream's target, back only after
the target has stayed well above the threshold for a while (hysteresis; an injected clock)."""

from __future__ import annotations

from studio.outputs.low_layer import (
    LOW_LAYER_MIN_MAIN_KBPS,
    LOW_LAYER_RESUME_MAIN_KBPS,
    LOW_LAYER_RESUME_S,
    LowLayerGate,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_dip_stops_the_layer_and_a_steady_recovery_brings_it_back() -> None:
    clock = Clock()
    gate = LowLayerGate(clock)
    assert gate.update(3000)
    assert not gate.update(LOW_LAYER_MIN_MAIN_KBPS - 1)  # at once
    for _ in range(int(LOW_LAYER_RESUME_S)):
        assert not gate.update(LOW_LAYER_RESUME_MAIN_KBPS)  # above, but not for long enough yet
        clock.now += 1.0
    assert gate.update(LOW_LAYER_RESUME_MAIN_KBPS)  # 10 s at or above 2 Mbit/s


def test_between_the_thresholds_nothing_changes_and_the_wait_starts_over() -> None:
    clock = Clock()
    gate = LowLayerGate(clock)
    assert gate.update(LOW_LAYER_MIN_MAIN_KBPS)  # on the threshold: still room
    assert gate.update((LOW_LAYER_MIN_MAIN_KBPS + LOW_LAYER_RESUME_MAIN_KBPS) // 2)
    gate.update(LOW_LAYER_MIN_MAIN_KBPS - 100)
    gate.update(LOW_LAYER_RESUME_MAIN_KBPS + 500)
    clock.now += LOW_LAYER_RESUME_S - 1
    assert not gate.update(LOW_LAYER_RESUME_MAIN_KBPS - 1)  # fell back under 2 Mbit/s: the wait restarts
    gate.update(LOW_LAYER_RESUME_MAIN_KBPS)
    clock.now += LOW_LAYER_RESUME_S - 1
    assert not gate.update(LOW_LAYER_RESUME_MAIN_KBPS)
    gate.update(LOW_LAYER_MIN_MAIN_KBPS - 1)  # another dip: from the start again
    gate.update(LOW_LAYER_RESUME_MAIN_KBPS)
    clock.now += LOW_LAYER_RESUME_S - 0.5
    assert not gate.update(LOW_LAYER_RESUME_MAIN_KBPS)
    clock.now += 0.5
    assert gate.update(LOW_LAYER_RESUME_MAIN_KBPS)


def test_a_link_measured_full_stops_the_layer_until_it_has_stayed_clear_for_the_wait() -> None:
    # up2m in the network bench: the main target (2.4 Mbit/s) cleared the thresholds while the
    # link was measured full, and the low layer's 500 kbit/s on top of it froze the stream
    clock = Clock()
    gate = LowLayerGate(clock)
    assert gate.update(2400)
    assert not gate.update(2400, link_capped=True)
    clock.now += LOW_LAYER_RESUME_S
    assert not gate.update(2400, link_capped=True)  # still full: the wait has not started
    assert not gate.update(2400)  # clear from now
    clock.now += LOW_LAYER_RESUME_S - 1
    assert not gate.update(2400)
    clock.now += 1
    assert gate.update(2400)
