"""Audio processing per mixer channel (noise suppression, gain, noise gate, compressor) and on the
master (limiter). Noise suppression (studio.audio.denoise) runs first, as OBS orders it, so the gate
and the compressor see the cleaned voice.

Blocks are (n, 2) float32, processed in place on the mixer's thread. Levels are followed at a
control rate (one point per 64 samples, 1.3 ms at 48 kHz): the per-sample work (peaks, gain
curves, multiplies) is numpy with preallocated ``out=`` buffers, and only the envelope's
attack/release recursion steps through the 16 control points of a block in Python. Nothing is
allocated per block once a processor has seen its block size.

The master limiter never lets a sample past its ceiling (default -1 dBFS, at most 0 dBFS): each
control segment's gain is at most what its own peak allows (and the next segment's, so the gain
is already down when a transient starts), gains only fall instantly and recover over the
release time, and a final clamp catches float rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from scenes.audio import SAMPLE_RATE
from studio.audio.denoise import NoiseSuppressor

CONTROL = 64  # samples per control point
FLOOR_DB = -120.0


@dataclass(frozen=True)
class ChannelFilters:
    """A mixer channel's processing, applied before its fader (as OBS orders filters)."""

    gain_db: float = 0.0
    gate: bool = False
    gate_threshold_db: float = -45.0
    gate_release_ms: float = 150.0
    compressor: bool = False
    compressor_threshold_db: float = -18.0
    compressor_ratio: float = 4.0
    compressor_attack_ms: float = 6.0
    compressor_release_ms: float = 60.0
    compressor_makeup_db: float = 0.0
    noise_suppression: bool = False
    noise_suppression_db: float = -30.0  # how far noise-only bands are pulled down

    def __post_init__(self) -> None:
        _range("gain", self.gain_db, -30.0, 30.0)
        _range("noise suppression level", self.noise_suppression_db, -60.0, -3.0)
        _range("gate threshold", self.gate_threshold_db, -90.0, 0.0)
        _range("gate release", self.gate_release_ms, 1.0, 5000.0)
        _range("compressor threshold", self.compressor_threshold_db, -60.0, 0.0)
        _range("compressor ratio", self.compressor_ratio, 1.0, 32.0)
        _range("compressor attack", self.compressor_attack_ms, 0.1, 500.0)
        _range("compressor release", self.compressor_release_ms, 1.0, 5000.0)
        _range("makeup gain", self.compressor_makeup_db, -30.0, 30.0)
        for flag in ("gate", "compressor", "noise_suppression"):
            if not isinstance(getattr(self, flag), bool):
                raise ValueError(f"{flag} must be True or False")


@dataclass(frozen=True)
class MasterFilters:
    limiter: bool = True
    limiter_ceiling_db: float = -1.0
    limiter_release_ms: float = 80.0

    def __post_init__(self) -> None:
        _range("limiter ceiling", self.limiter_ceiling_db, -30.0, 0.0)
        _range("limiter release", self.limiter_release_ms, 1.0, 5000.0)
        if not isinstance(self.limiter, bool):
            raise ValueError("limiter must be True or False")


def _range(name: str, value: float, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not lo <= value <= hi:
        raise ValueError(f"{name}: {value!r} is outside {lo:g}..{hi:g}")


def _coef(ms: float) -> float:
    """One-pole smoothing coefficient per control point for a time constant of ``ms``."""
    return math.exp(-CONTROL / (SAMPLE_RATE * ms / 1000.0))


class _Buffers:
    """Preallocated work arrays for blocks of ``n`` frames (rebuilt only if the size changes)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.c = CONTROL if n % CONTROL == 0 else n
        self.k = n // self.c
        self.abs = np.empty((n, 2), np.float32)
        self.peaks = np.empty(self.k, np.float32)
        self.level_db = np.empty(self.k, np.float32)
        self.gains = np.empty(self.k, np.float32)
        # gain curve = [steps, starts] @ [[ramp], [1]]: a matmul into a preallocated output
        # (broadcasting ufuncs allocate iterator buffers on every call; matmul and copyto do not)
        self.segments = np.empty((self.k, 2), np.float32)
        self.basis = np.ones((2, self.c), np.float32)
        self.basis[0] = np.arange(1, self.c + 1, dtype=np.float32) / self.c
        self.curve = np.empty((self.k, self.c), np.float32)
        self.per_sample = np.empty((self.k, self.c, 2), np.float32)

    def measure(self, x: np.ndarray) -> np.ndarray:
        """Peak of each control segment in dBFS (into ``level_db``)."""
        np.abs(x, out=self.abs)
        np.max(self.abs.reshape(self.k, self.c * 2), axis=1, out=self.peaks)
        np.maximum(self.peaks, 1e-6, out=self.level_db)
        np.log10(self.level_db, out=self.level_db)
        self.level_db *= 20.0
        return self.level_db

    def apply(self, x: np.ndarray, previous: float) -> None:
        """Multiply ``x`` by a gain curve running linearly from ``previous`` through ``gains``."""
        starts, steps = self.segments[:, 1], self.segments[:, 0]
        starts[0] = previous
        starts[1:] = self.gains[:-1]
        np.subtract(self.gains, starts, out=steps)
        np.matmul(self.segments, self.basis, out=self.curve)
        np.copyto(self.per_sample, self.curve[:, :, None])
        np.multiply(x, self.per_sample.reshape(self.n, 2), out=x)


class ChannelProcessor:
    """Gain, gate and compressor for one channel; keeps its envelopes between blocks."""

    def __init__(self, block_size: int) -> None:
        self._buf = _Buffers(block_size)
        self._gate_gain = 1.0
        self._gate_env = FLOOR_DB
        self._comp_env = FLOOR_DB
        self._last = 1.0  # the gain the previous block ended on (curves continue from it)
        self._denoise: NoiseSuppressor | None = None

    def process(self, x: np.ndarray, f: ChannelFilters) -> None:
        if f.noise_suppression:
            if self._denoise is None:
                self._denoise = NoiseSuppressor()
            self._denoise.process(x, f.noise_suppression_db)
        else:
            self._denoise = None  # its noise estimate is stale by the time it is turned on again
        if not f.gate and not f.compressor:
            if f.gain_db != 0.0 or self._last != 1.0:
                b = self._buf
                b.gains.fill(10 ** (f.gain_db / 20.0))
                b.apply(x, self._last)
                self._last = float(b.gains[-1])
            return
        b = self._buf
        levels = b.measure(x)  # before gain: thresholds refer to the input
        pre = f.gain_db
        gate_release = _coef(f.gate_release_ms)
        gate_attack = _coef(1.0)
        c_att, c_rel = _coef(f.compressor_attack_ms), _coef(f.compressor_release_ms)
        slope = 1.0 - 1.0 / f.compressor_ratio
        gate_gain, comp_env = self._gate_gain, self._comp_env
        for i in range(b.k):  # the control-rate envelope recursion (16 steps per 1024 samples)
            level = float(levels[i]) + pre
            g_db = pre
            if f.gate:
                target = 1.0 if level >= f.gate_threshold_db else 0.0
                c = gate_attack if target > gate_gain else gate_release
                gate_gain = target + (gate_gain - target) * c
                if gate_gain < 1e-3 and target == 0.0:
                    gate_gain = 0.0  # closed means silent (an exponential never gets there)
            if f.compressor:
                c = c_att if level > comp_env else c_rel
                comp_env = level + (comp_env - level) * c
                over = comp_env - f.compressor_threshold_db
                if over > 0.0:
                    g_db -= over * slope
                g_db += f.compressor_makeup_db
            b.gains[i] = 10.0 ** (g_db / 20.0) * (gate_gain if f.gate else 1.0)
        self._gate_gain, self._comp_env = gate_gain, comp_env
        b.apply(x, self._last)
        self._last = float(b.gains[-1])


class Limiter:
    """The master limiter: the program never clips (see the module docstring)."""

    def __init__(self, block_size: int) -> None:
        self._buf = _Buffers(block_size)
        self._gain = 1.0
        self._required = np.empty(self._buf.k, np.float32)

    def process(self, x: np.ndarray, f: MasterFilters) -> None:
        if not f.limiter:
            return
        b = self._buf
        ceiling = 10.0 ** (f.limiter_ceiling_db / 20.0)
        b.measure(x)
        if not math.isfinite(float(b.peaks.max())):  # a broken source: silence, not a full-scale burst
            np.nan_to_num(x, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
            b.measure(x)
        # the most gain each segment allows: ceiling / peak (at most 1)
        np.maximum(b.peaks, 1e-9, out=self._required)
        np.divide(ceiling, self._required, out=self._required)
        np.minimum(self._required, 1.0, out=self._required)
        release = _coef(f.limiter_release_ms)
        g = self._gain
        req = self._required
        for i in range(b.k):
            allowed = float(req[i]) if i + 1 == b.k else min(float(req[i]), float(req[i + 1]))
            g = 1.0 + (g - 1.0) * release  # recover towards unity
            if g > allowed:
                g = allowed  # fall at once
            b.gains[i] = g
        # the first segment starts from the previous block's gain, which did not know this block's
        # peak: it starts no higher than that segment allows
        b.apply(x, min(self._gain, float(req[0])))
        self._gain = g
        np.clip(x, -ceiling, ceiling, out=x)  # float rounding only: the curve is already under it
