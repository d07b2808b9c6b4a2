"""Noise suppression: steady hiss under and between a voice-like tone is pulled down by the spectral
gate, the tone passes at its level and in its shape, the delay is one hop and constant, and block
sizes that are not a multiple of the hop work."""

from __future__ import annotations

import numpy as np
import pytest

from scenes.audio import SAMPLE_RATE
from studio.audio.denoise import HOP, NoiseSuppressor
from studio.audio.filters import ChannelFilters, ChannelProcessor


def hiss_and_tone(seconds: float = 6.0, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """White noise at -40 dBFS throughout; a 440 Hz tone at -12 dBFS in the second half of every
    two seconds. Returns (signal, tone-only, time)."""
    n = int(SAMPLE_RATE * seconds)
    t = np.arange(n) / SAMPLE_RATE
    noise = np.random.default_rng(seed).normal(0.0, 10 ** (-40 / 20), (n, 2))
    tone = np.where((t % 2.0) > 1.0, np.sin(2 * np.pi * 440 * t) * 10 ** (-12 / 20), 0.0)
    return (noise + tone[:, None]).astype(np.float32), tone, t


def rms_db(x: np.ndarray) -> float:
    return 20 * float(np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12))


def suppress(x: np.ndarray, block: int, floor_db: float = -30.0) -> np.ndarray:
    out = x.copy()
    ns = NoiseSuppressor()
    for i in range(0, len(out), block):
        ns.process(out[i:i + block], floor_db)
    return out


def test_hiss_goes_down_and_the_tone_keeps_its_level_and_shape() -> None:
    x, tone, t = hiss_and_tone()
    y = np.roll(suppress(x, 1024), -HOP, axis=0)  # the filter's delay is one hop
    quiet = (t > 4.05) & (t < 4.95)  # hiss only, after the noise floor has been learned
    loud = (t > 5.1) & (t < 5.9)
    assert rms_db(y[quiet]) < rms_db(x[quiet]) - 12.0, "the hiss is suppressed by more than 12 dB"
    assert rms_db(y[loud]) == pytest.approx(rms_db(x[loud]), abs=0.5), "the voice keeps its level"
    # what is left of the difference is about the hiss that was taken out: the tone is not bent
    assert rms_db(y[loud] - tone[loud, None]) < -35.0


def _lag(y: np.ndarray, x: np.ndarray, around: float) -> int:
    """The delay of ``y`` behind ``x`` near second ``around`` (broadband bursts: one clear peak)."""
    start = int(around * SAMPLE_RATE)
    ref = x[start:start + SAMPLE_RATE // 5, 0]
    return int(np.argmax([np.dot(y[start + d:start + d + len(ref), 0], ref) for d in range(2 * HOP)]))


@pytest.mark.parametrize("block", [256, 441, 1024, 1500])
def test_any_block_size_keeps_a_constant_delay(block: int) -> None:
    n = 4 * SAMPLE_RATE
    t = np.arange(n) / SAMPLE_RATE
    rng = np.random.default_rng(3)
    bursts = np.where((t % 0.8) < 0.3, rng.normal(0.0, 0.25, n), 0.0)  # speech-like: on and off
    x = (bursts[:, None] + rng.normal(0.0, 0.01, (n, 2))).astype(np.float32)
    y = suppress(x, block)
    early, late = _lag(y, x, 1.6), _lag(y, x, 3.2)
    assert early == late, "the delay does not drift"
    assert HOP <= late < 2 * HOP, "one hop, plus what a block size that is not a multiple of it leaves"
    if block % HOP == 0:
        assert late == HOP


def test_silence_and_digital_zero_stay_clean() -> None:
    x = np.zeros((SAMPLE_RATE, 2), np.float32)
    y = suppress(x, 1024)
    assert np.all(np.isfinite(y)) and float(np.abs(y).max()) == 0.0


def test_channel_processor_runs_noise_suppression_first_and_drops_it_when_off() -> None:
    x, _tone, t = hiss_and_tone(seconds=3.0)
    proc = ChannelProcessor(1024)
    on = ChannelFilters(noise_suppression=True, noise_suppression_db=-40.0)
    out = x.copy()
    for i in range(0, len(out), 1024):
        proc.process(out[i:i + 1024], on)
    quiet = (t > 2.05) & (t < 2.95)
    assert rms_db(out[quiet]) < rms_db(x[quiet]) - 12.0
    after = x[:1024].copy()
    proc.process(after, ChannelFilters())
    assert np.array_equal(after, x[:1024]), "off means untouched, with no delay left behind"
    with pytest.raises(ValueError, match="noise suppression level"):
        ChannelFilters(noise_suppression_db=0.0)
