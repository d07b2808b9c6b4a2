"""Noise suppression for one mixer channel: a spectral gate with a noise floor that follows itself.

A microphone in a live room carries steady noise (fans, air conditioning, a PC): a noise gate only
helps between phrases, so under the voice the hiss stays. This filter works per frequency band:

- short-time spectra (512-sample sqrt-Hann frames, hop 256: 5.3 ms at 48 kHz, 94 Hz bands), one
  gain per band shared by both channels so the stereo image does not wander;
- the noise floor per band is tracked by *minimum statistics* (Martin 2001): the smoothed power's
  minimum over the last ~1.5 s, in eight sub-windows so it can rise again when the room gets
  louder; speech is never stationary for that long, so the minimum is the noise;
- the gain is a Wiener-like ``1 - over * noise / power`` limited below by the suppression level
  (−30 dB by default, as OBS's Speex filter) and smoothed over time — fast to open, slower to close
  — which keeps the "musical noise" of a hard spectral gate away.

Latency is one hop (256 samples, 5.3 ms) and constant (mixer blocks are multiples of a hop). A block's hops are transformed together
(one batched FFT each way); only the per-band smoothing and minimum tracking step hop by hop.
"""

from __future__ import annotations

import math

import numpy as np

FRAME = 512
HOP = FRAME // 2
BANDS = FRAME // 2 + 1
MIN_WINDOW_HOPS = 280  # ~1.5 s of hops at 48 kHz
SUB_WINDOWS = 8
OVER_SUBTRACT = 2.0  # noise estimates are biased low (a minimum): subtract with margin
MIN_BIAS = 1.5  # minimum of a smoothed noise power sits below its mean
POWER_SMOOTHING = 0.7
GAIN_OPEN = 0.3  # new gain weight when it rises (opens fast for speech onsets)
GAIN_CLOSE = 0.75  # previous gain weight when it falls (closes slowly: no warbling)


class NoiseSuppressor:
    """Suppresses stationary noise in (n, 2) float32 blocks, in place, with HOP samples of delay."""

    def __init__(self) -> None:
        window = np.sqrt(np.hanning(FRAME + 1)[:FRAME]).astype(np.float32)  # periodic: sums to 1 at 50 %
        self._window_row = window[None, None, :]
        self._inbuf = np.zeros((FRAME, 2), np.float32)  # the last FRAME input samples
        self._outbuf = np.zeros((FRAME, 2), np.float32)  # overlap-add accumulator
        self._pending_in = np.zeros((0, 2), np.float32)
        self._ready_out = np.zeros((0, 2), np.float32)  # output made but not yet handed out
        self._power = np.zeros(BANDS, np.float64)
        self._gain = np.ones(BANDS, np.float64)
        self._sub_len = MIN_WINDOW_HOPS // SUB_WINDOWS
        self._sub_min = np.full((SUB_WINDOWS, BANDS), np.inf)
        self._closed_min = np.full(BANDS, np.inf)  # minimum over the closed sub-windows
        self._current_min = np.full(BANDS, np.inf)
        self._hops_in_sub = 0
        self._sub_index = 0
        self.hops = 0

    def noise_floor(self) -> np.ndarray:
        """The current noise power estimate per band (for tests and meters)."""
        return np.minimum(self._closed_min, self._current_min) * MIN_BIAS

    def process(self, x: np.ndarray, floor_db: float) -> None:
        """Filter ``x`` ((n, 2) float32) in place. The output lags the input by HOP samples, plus
        less than HOP more for block sizes that are not a multiple of HOP (padded up front)."""
        floor = 10.0 ** (floor_db / 20.0)
        if self.hops == 0 and not len(self._ready_out) and not len(self._pending_in):
            # the most a block size leaves short of whole hops, padded once up front, so the
            # delay is constant from the first block instead of growing by steps
            short = (HOP - math.gcd(len(x), HOP)) if len(x) % HOP else 0
            self._ready_out = np.zeros((short, 2), np.float32)
        data = np.concatenate((self._pending_in, x)) if len(self._pending_in) else x
        k = len(data) // HOP
        produced = self._ready_out
        if k:
            produced = np.concatenate((produced, self._hops(data[:k * HOP], k, floor)))
        self._pending_in = data[k * HOP:].copy()
        if len(produced) < len(x):  # a block size that changed: pad, the delay grows once
            produced = np.concatenate((np.zeros((len(x) - len(produced), 2), np.float32), produced))
        x[:] = produced[:len(x)]
        self._ready_out = produced[len(x):].copy()

    def _hops(self, samples: np.ndarray, k: int, floor: float) -> np.ndarray:
        """``k`` hops at once: the transforms are batched, only the per-band recursions loop."""
        history = np.concatenate((self._inbuf[HOP:], samples))  # FRAME - HOP samples of context
        self._inbuf = history[-FRAME:].copy()
        frames = np.lib.stride_tricks.sliding_window_view(history, FRAME, axis=0)[::HOP]  # (k, 2, FRAME)
        spectra = np.fft.rfft(frames * self._window_row, axis=2)  # (k, 2, BANDS)
        powers = (spectra.real ** 2 + spectra.imag ** 2).mean(axis=1)  # (k, BANDS)
        gains = np.empty((k, BANDS))
        for j in range(k):
            self._power *= POWER_SMOOTHING
            self._power += (1.0 - POWER_SMOOTHING) * powers[j]
            self._track_minimum()
            with np.errstate(divide="ignore", invalid="ignore"):
                target = 1.0 - OVER_SUBTRACT * self.noise_floor() / np.maximum(self._power, 1e-20)
            np.clip(target, floor, 1.0, out=target)
            self._gain = np.where(target > self._gain, GAIN_OPEN * target + (1 - GAIN_OPEN) * self._gain,
                                  (1 - GAIN_CLOSE) * target + GAIN_CLOSE * self._gain)
            gains[j] = self._gain
        shaped = np.fft.irfft(spectra * gains[:, None, :], n=FRAME, axis=2) * self._window_row  # (k, 2, FRAME)
        out = np.empty((k * HOP, 2), np.float32)
        for j in range(k):  # overlap-add
            self._outbuf += shaped[j].T
            out[j * HOP:(j + 1) * HOP] = self._outbuf[:HOP]
            self._outbuf[:-HOP] = self._outbuf[HOP:]
            self._outbuf[-HOP:] = 0.0
        self.hops += k
        return out

    def _track_minimum(self) -> None:
        np.minimum(self._current_min, self._power, out=self._current_min)
        self._hops_in_sub += 1
        if self._hops_in_sub >= self._sub_len:  # close this sub-window; the oldest one falls out
            self._sub_min[self._sub_index] = self._current_min
            self._sub_index = (self._sub_index + 1) % SUB_WINDOWS
            self._sub_min.min(axis=0, out=self._closed_min)
            self._current_min = np.full(BANDS, np.inf)
            self._hops_in_sub = 0
