"""The audio mixer: faders, mute, summing, limiting, meters, the model and the ``audio`` thread."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from scenes.audio import SAMPLE_RATE, AudioRing
from studio.audio import (
    AudioLevels,
    AudioMixer,
    ClipAudioInput,
    MixedBlock,
    MixerChange,
    ToneInput,
    amplitude_to_dbfs,
    soft_clip,
)

BLOCK = 1024


def sine(freq: float, amplitude: float, n: int, phase: float = 0.0) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    wave = (amplitude * np.sin(2 * np.pi * freq * t + phase)).astype(np.float32)
    return np.stack([wave, wave], axis=1)


def clip_input(name: str, samples: np.ndarray) -> ClipAudioInput:
    ring = AudioRing(max(len(samples), 1))
    ring.write(samples)
    return ClipAudioInput(name, ring)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


def test_minus_6_db_fader_halves_amplitude() -> None:
    source = sine(1000, 0.5, BLOCK * 4)
    mixer = AudioMixer(BLOCK)
    mixer.add_input(clip_input("clip", source), volume_db=-6.0)
    blocks = [mixer.mix_block().samples for _ in range(4)]
    out, expected_in = np.concatenate(blocks[1:]), source[BLOCK:]  # block 0 fades the new input in
    ratio = rms(out) / rms(expected_in)
    assert ratio == pytest.approx(0.5, rel=0.01)
    assert float(np.abs(out).max()) == pytest.approx(0.25, rel=0.01)


def test_tone_input_fader_measured_offline() -> None:
    mixer = AudioMixer(BLOCK)
    mixer.add_input(ToneInput("tone", frequency=750.0, level_dbfs=-6.0206), volume_db=-6.0)
    out = np.concatenate([mixer.mix_block().samples for _ in range(5)][1:])
    assert float(np.abs(out).max()) == pytest.approx(0.25, rel=0.01)
    assert rms(out) == pytest.approx(0.25 / math.sqrt(2), rel=0.01)


def test_tone_is_phase_continuous_across_reads() -> None:
    tone = ToneInput("tone", frequency=1234.5, level_dbfs=0.0)
    pieces = [tone.ring.read(n) for n in (100, 1, 333, 1024)]
    joined = np.concatenate(pieces)
    t = np.arange(len(joined)) / SAMPLE_RATE
    np.testing.assert_allclose(joined[:, 0], np.sin(2 * np.pi * 1234.5 * t), atol=1e-5)
    np.testing.assert_array_equal(joined[:, 0], joined[:, 1])
    with pytest.raises(ValueError, match="tone frequency"):
        tone.ring.frequency = 30_000
    with pytest.raises(ValueError, match="tone level"):
        tone.ring.level_dbfs = 3.0


def test_mute_gives_silence_and_meters_still_show_the_source() -> None:
    mixer = AudioMixer(BLOCK, meter_rate_hz=1000)  # publish every block
    mixer.add_input(ToneInput("mic", level_dbfs=-6.0206))
    events: list[AudioLevels] = []
    mixer.levels.connect(events.append)
    mixer.mix_block()
    mixer.set_muted("mic", True)
    fading = mixer.mix_block().samples  # the mute ramps down across one block: no click
    assert abs(fading[0, 0]) > 0 or abs(fading[1, 0]) > 0
    assert float(np.abs(fading[-8:]).max()) < 0.01
    silent = [mixer.mix_block().samples for _ in range(3)]
    assert all(not block.any() for block in silent)
    last = events[-1]
    assert last.master.peak_db == (-120.0, -120.0)
    source = last.source("mic")
    assert source is not None and source.peak_db[0] == pytest.approx(-6.02, abs=0.05)


def test_fader_change_ramps_over_one_block() -> None:
    dc = np.full((BLOCK * 3, 2), 0.5, np.float32)
    mixer = AudioMixer(BLOCK)
    mixer.add_input(clip_input("dc", dc))
    np.testing.assert_allclose(mixer.mix_block().samples[-1], 0.5)
    mixer.set_volume("dc", -6.0206)
    ramp = mixer.mix_block().samples[:, 0]
    assert ramp[0] == pytest.approx(0.5, abs=0.001)
    assert ramp[-1] == pytest.approx(0.25, abs=0.001)
    assert np.all(np.diff(ramp) <= 0) and float(np.abs(np.diff(ramp)).max()) < 0.001
    np.testing.assert_allclose(mixer.mix_block().samples, 0.25, atol=1e-4)


def test_two_inputs_sum() -> None:
    a, b = sine(440, 0.3, BLOCK * 3), sine(1000, 0.2, BLOCK * 3, phase=1.0)
    mixer = AudioMixer(BLOCK)
    mixer.add_input(clip_input("a", a))
    mixer.add_input(clip_input("b", b))
    blocks = [mixer.mix_block() for _ in range(3)]
    mixed = np.concatenate([blk.samples for blk in blocks[1:]])
    np.testing.assert_allclose(mixed, (a + b)[BLOCK:], atol=1e-6)
    assert [blk.pts for blk in blocks] == [0, BLOCK, 2 * BLOCK]
    assert mixer.samples_mixed == 3 * BLOCK
    assert mixer.clock_ns == 3 * BLOCK * 1_000_000_000 // SAMPLE_RATE


def test_limiter_keeps_the_mix_within_full_scale() -> None:
    mixer = AudioMixer(BLOCK)
    for i in range(3):  # three in-phase tones at full scale, +12 dB on one: peaks near 6x full scale
        mixer.add_input(ToneInput(f"t{i}", frequency=500.0, level_dbfs=0.0), volume_db=12.0 if i else 0.0)
    out = np.concatenate([mixer.mix_block().samples for _ in range(4)])
    assert float(np.abs(out).max()) <= 1.0
    assert float(np.abs(out).max()) > 0.88  # limited (the master limiter's -1 dBFS ceiling), not attenuated


def test_soft_clip_is_transparent_below_threshold_and_bounded_above() -> None:
    quiet = np.linspace(-0.8, 0.8, 101, dtype=np.float32)[:, None].repeat(2, axis=1)
    before = quiet.copy()
    soft_clip(quiet)
    np.testing.assert_array_equal(quiet, before)
    loud = np.linspace(-50, 50, 10_001, dtype=np.float32)[:, None].repeat(2, axis=1)
    soft_clip(loud)
    assert float(np.abs(loud).max()) <= 1.0
    assert np.all(np.diff(loud[:, 0]) >= 0)  # monotonic: no fold-over distortion
    broken = np.array([[np.nan, np.inf], [-np.inf, 0.5]], np.float32)
    soft_clip(broken)
    assert np.all(np.isfinite(broken)) and float(np.abs(broken).max()) <= 1.0


def test_meters_report_dbfs_of_a_known_sine() -> None:
    mixer = AudioMixer(BLOCK)
    mixer.add_input(clip_input("sine", sine(1000, 0.5, SAMPLE_RATE)), volume_db=0.0)
    events: list[AudioLevels] = []
    mixer.levels.connect(events.append)
    blocks = SAMPLE_RATE // BLOCK  # 46 blocks, just under a second
    for _ in range(blocks):
        mixer.mix_block()
    # ~30 Hz, throttled from the ~47 Hz block rate, counted in samples (deterministic offline)
    assert len(events) == (blocks * BLOCK) // (SAMPLE_RATE // 30)
    last = events[-1]
    assert last.pts == blocks * BLOCK
    for levels in (last.master, last.source("sine")):
        assert levels is not None
        for ch in range(2):
            assert levels.peak_db[ch] == pytest.approx(-6.02, abs=0.05)
            assert levels.rms_db[ch] == pytest.approx(-9.03, abs=0.05)
            assert levels.hold_db[ch] == pytest.approx(-6.02, abs=0.05)


def test_peak_hold_holds_then_decays() -> None:
    mixer = AudioMixer(BLOCK)
    ring = AudioRing(SAMPLE_RATE)
    ring.write(sine(1000, 0.5, BLOCK * 4))
    mixer.add_input(ClipAudioInput("clip", ring))
    events: list[AudioLevels] = []
    mixer.levels.connect(events.append)
    for _ in range(4):
        mixer.mix_block()
    holds = []
    for _ in range(3 * SAMPLE_RATE // BLOCK):  # three seconds of silence (the ring underruns)
        mixer.mix_block()
        holds.append((mixer.samples_mixed, events[-1].master.hold_db[0], events[-1].master.peak_db[0]))
    one_second = [h for t, h, _ in holds if t <= 4 * BLOCK + SAMPLE_RATE]
    assert all(h == pytest.approx(-6.02, abs=0.05) for h in one_second)  # held
    assert holds[-1][2] == -120.0
    assert -45.0 < holds[-1][1] < -20.0  # ~1.5 s of decay at 20 dB/s after the 1.5 s hold
    assert all(b[1] <= a[1] for a, b in zip(holds, holds[1:], strict=False))
    assert amplitude_to_dbfs(0.0) == -120.0


def test_model_validates_and_emits_changes() -> None:
    mixer = AudioMixer(BLOCK)
    changes: list[MixerChange] = []
    mixer.changed.connect(changes.append)
    mixer.add_input(ToneInput("mic"))
    mixer.set_volume("mic", -12.5)
    mixer.set_volume("mic", -12.5)  # no change, no event
    mixer.set_muted("mic", True)
    mixer.set_monitored("mic", True)
    mixer.set_volume("mic", -math.inf)
    assert [c.kind for c in changes] == ["added", "changed", "changed", "changed", "changed"]
    state = mixer.state("mic")
    assert (state.name, state.volume_db, state.muted, state.monitored) == ("mic", -math.inf, True, True)
    assert mixer.inputs == (state,)
    for bad in (12.5, -61, math.nan, "loud", True, None):
        with pytest.raises(ValueError, match=r"volume must be between -60 and \+12 dB"):
            mixer.set_volume("mic", bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="muted must be True or False"):
        mixer.set_muted("mic", 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no audio input named 'nope'"):
        mixer.set_volume("nope", 0.0)
    with pytest.raises(ValueError, match="already exists"):
        mixer.add_input(ToneInput("mic"))
    with pytest.raises(ValueError, match="block_size"):
        AudioMixer(block_size=10)
    mixer.remove_input("mic")
    assert changes[-1].kind == "removed" and mixer.inputs == ()


def test_bottom_of_the_fader_is_silence() -> None:
    mixer = AudioMixer(BLOCK)
    mixer.add_input(ToneInput("tone", level_dbfs=0.0), volume_db=-60.0)
    assert not any(mixer.mix_block().samples.any() for _ in range(3))


def test_realtime_thread_produces_contiguous_blocks_and_stops_promptly() -> None:
    mixer = AudioMixer(256)  # small blocks: the test collects them quickly
    mixer.add_input(ToneInput("tone", level_dbfs=-20.0))
    got: list[MixedBlock] = []
    enough = threading.Event()
    thread_names: list[str] = []

    def listener(block: MixedBlock) -> None:
        got.append(block)
        thread_names.append(threading.current_thread().name)
        if len(got) >= 8:
            enough.set()

    mixer.blocks.connect(listener)
    pairs: list[tuple[int, int]] = []
    mixer.add_listener(lambda samples, pts: pairs.append((pts, len(samples))))
    mixer.start()
    try:
        assert mixer.running
        with pytest.raises(RuntimeError, match="offline"):
            mixer.mix_block()
        assert enough.wait(timeout=10.0), "the audio thread produced no blocks"
    finally:
        mixer.stop()
    assert not mixer.running
    assert not any(t.name == "audio" for t in threading.enumerate())
    pts = [b.pts for b in got]
    assert pts == [i * 256 for i in range(len(pts))]  # monotonic and gap-free
    assert set(thread_names) == {"audio"}
    assert pairs[: len(pts)] == [(p, 256) for p in pts]
    assert not got[-1].samples.flags.writeable
    mixer.stop()  # idempotent
    mixer.mix_block()  # offline again once stopped
