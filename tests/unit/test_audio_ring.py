"""The ring between audio producers and the mixer: FIFO for devices, timeline-addressed for clips."""

from __future__ import annotations

import numpy as np

from scenes.audio import AudioRing


def ramp(start: int, n: int) -> np.ndarray:
    values = np.arange(start, start + n, dtype=np.float32)
    return np.stack([values, -values], axis=1)


def test_fifo_read_write_and_underrun() -> None:
    ring = AudioRing(100)
    ring.write(ramp(0, 30))
    out = ring.read(40)
    assert (out[:30, 0] == np.arange(30)).all() and not out[30:].any()
    assert ring.underrun_samples == 10


def test_fifo_overflow_drops_oldest() -> None:
    ring = AudioRing(50)
    ring.write(ramp(0, 80))
    assert ring.available == 50
    assert ring.read(1)[0, 0] == 30


def test_addressed_read_returns_exactly_the_timeline_span() -> None:
    ring = AudioRing(1000)
    ring.write(ramp(100, 50), at=100)
    ring.write(ramp(150, 50), at=150)
    out = ring.read(40, at=120)  # the first 20 samples are stale: dropped, not played late
    assert (out[:, 0] == np.arange(120, 160)).all()
    out = ring.read(60, at=160)  # 40 there, 20 not yet written: silence at the end
    assert (out[:40, 0] == np.arange(160, 200)).all() and not out[40:].any()
    assert ring.underrun_samples == 20


def test_addressed_late_write_is_dropped_and_holes_are_silent() -> None:
    ring = AudioRing(1000)
    ring.write(ramp(0, 10), at=0)
    assert ring.read(20, at=0)[:10, 0].tolist() == list(range(10))
    ring.write(ramp(10, 20), at=10)  # 10..20 arrive after their time was read
    assert ring.late_samples == 10
    ring.write(ramp(40, 10), at=40)  # 30..40 never came: silence there
    out = ring.read(30, at=20)
    assert (out[:10, 0] == np.arange(20, 30)).all()
    assert not out[10:20].any()
    assert (out[20:, 0] == np.arange(40, 50)).all()


def test_reading_before_the_first_write_is_silence_then_in_step() -> None:
    ring = AudioRing(1000)
    ring.write(ramp(500, 100), at=500)
    out = ring.read(100, at=450)
    assert not out[:50].any() and (out[50:, 0] == np.arange(500, 550)).all()
