"""Audio filters: the master limiter holds a hot signal under 0 dBFS; gain, noise gate and
compressor per channel; nothing allocated per block."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from scenes.audio import SAMPLE_RATE, AudioRing
from studio.audio import AudioMixer, ClipAudioInput, MixerChange
from studio.audio.filters import ChannelFilters, ChannelProcessor, Limiter, MasterFilters

BLOCK = 1024


def sine(freq: float, amplitude: float, n: int) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    wave = (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.stack([wave, wave], axis=1)


def clip_input(name: str, samples: np.ndarray) -> ClipAudioInput:
    ring = AudioRing(max(len(samples), 1))
    ring.write(samples)
    return ClipAudioInput(name, ring)


def dbfs(x: np.ndarray) -> float:
    return 20 * float(np.log10(max(float(np.abs(x).max()), 1e-12)))


def blocks(x: np.ndarray) -> list[np.ndarray]:
    return [x[i: i + BLOCK].copy() for i in range(0, len(x), BLOCK)]


def run(proc: ChannelProcessor, x: np.ndarray, f: ChannelFilters) -> list[np.ndarray]:
    """Process ``x`` block by block (in place on copies); the processed blocks."""
    out = blocks(x)
    for b in out:
        proc.process(b, f)
    return out


def test_limiter_holds_a_hot_signal_under_0_dbfs_in_the_mixer() -> None:
    # two inputs at +12 dB fader, +6 dBFS peaks each, plus sudden transients: about +24 dBFS summed
    hot = sine(440, 2.0, BLOCK * 20)
    hot[BLOCK * 7 + 500] = 8.0  # a spike in the middle of a block
    hot[BLOCK * 12] = -8.0  # and right at a block start
    mixer = AudioMixer(BLOCK)
    mixer.add_input(clip_input("a", hot), volume_db=12.0)
    mixer.add_input(clip_input("b", sine(97, 1.5, BLOCK * 20)), volume_db=12.0)
    out = np.concatenate([mixer.mix_block().samples for _ in range(20)])
    assert float(np.abs(out).max()) <= 10 ** (-1 / 20) + 1e-6  # the -1 dBFS ceiling
    assert dbfs(out) < 0.0
    assert dbfs(out[BLOCK * 3:]) > -3.0  # limited, not silenced


def test_limiter_ceiling_and_a_quiet_signal_passes_untouched() -> None:
    lim = Limiter(BLOCK)
    quiet = sine(1000, 0.25, BLOCK * 4)
    for b in blocks(quiet):
        x = b.copy()
        lim.process(x, MasterFilters())
        assert np.array_equal(x, b)
    loud = Limiter(BLOCK)
    for b in blocks(sine(200, 4.0, BLOCK * 6)):
        loud.process(b, MasterFilters(limiter_ceiling_db=-6.0))
        assert float(np.abs(b).max()) <= 10 ** (-6 / 20) + 1e-6


def test_limiter_turns_nan_into_silence() -> None:
    x = sine(200, 0.5, BLOCK)
    x[10] = np.nan
    Limiter(BLOCK).process(x, MasterFilters())
    assert np.isfinite(x).all() and x[10, 0] == 0.0


def test_gain() -> None:
    proc = ChannelProcessor(BLOCK)
    out = [b for b in blocks(sine(1000, 0.1, BLOCK * 3))]
    for b in out:
        proc.process(b, ChannelFilters(gain_db=6.0))
    assert float(np.abs(out[2]).max()) == pytest.approx(0.1 * 10 ** (6 / 20), rel=0.01)


def test_noise_gate_silences_hiss_and_opens_for_speech() -> None:
    rng = np.random.default_rng(1)
    hiss = (rng.normal(0, 10 ** (-65 / 20), (BLOCK * 20, 2))).astype(np.float32)
    speech = sine(300, 0.3, BLOCK * 10)
    proc = ChannelProcessor(BLOCK)
    f = ChannelFilters(gate=True, gate_threshold_db=-45.0, gate_release_ms=50.0)
    hiss_out = run(proc, hiss, f)
    assert dbfs(np.concatenate(hiss_out[-4:])) < -100.0  # closed after the release: the hiss is gone
    speech_out = run(proc, speech, f)
    assert dbfs(np.concatenate(speech_out[2:])) == pytest.approx(dbfs(speech), abs=0.2)  # open


def test_compressor_reduces_above_threshold_by_the_ratio() -> None:
    proc = ChannelProcessor(BLOCK)
    f = ChannelFilters(compressor=True, compressor_threshold_db=-18.0, compressor_ratio=4.0,
                       compressor_attack_ms=1.0, compressor_release_ms=50.0)
    out = run(proc, sine(500, 0.5, BLOCK * 20), f)  # -6 dBFS peaks
    # 12 dB over the threshold at 4:1 leaves 3 dB over: about -15 dBFS
    assert dbfs(np.concatenate(out[10:])) == pytest.approx(-15.0, abs=1.0)
    below = ChannelProcessor(BLOCK)
    quiet = run(below, sine(500, 0.05, BLOCK * 6), f)  # -26 dBFS
    assert dbfs(np.concatenate(quiet[2:])) == pytest.approx(-26.0, abs=0.2)


def test_mixer_applies_channel_filters_and_reports_them() -> None:
    mixer = AudioMixer(BLOCK)
    mixer.add_input(clip_input("mic", sine(1000, 0.1, BLOCK * 4)))
    changes: list[MixerChange] = []
    mixer.changed.connect(changes.append)
    mixer.set_filters("mic", ChannelFilters(gain_db=-6.0))
    assert mixer.state("mic").filters.gain_db == -6.0 and changes[-1].kind == "changed"
    out = [mixer.mix_block().samples for _ in range(4)]
    assert float(np.abs(out[3]).max()) == pytest.approx(0.05, rel=0.02)
    with pytest.raises(ValueError, match="compressor ratio"):
        ChannelFilters(compressor_ratio=0.5)
    with pytest.raises(ValueError, match="limiter ceiling"):
        MasterFilters(limiter_ceiling_db=3.0)  # a ceiling above 0 dBFS would clip


def test_no_allocation_per_block() -> None:
    x = sine(300, 3.0, BLOCK)
    proc, lim = ChannelProcessor(BLOCK), Limiter(BLOCK)
    f = ChannelFilters(gain_db=3.0, gate=True, compressor=True)
    for _ in range(3):  # warm up
        proc.process(x, f)
        lim.process(x, MasterFilters())
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for _ in range(50):
            proc.process(x, f)
            lim.process(x, MasterFilters())
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < 3000, f"{peak} bytes allocated while processing (a block of samples is {x.nbytes})"
