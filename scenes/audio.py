"""Audio hand-over between a producer (a clip's decoder, a microphone) and the mixer.

Audio in the engine is 48 kHz stereo float32, shape (samples, 2). An ``AudioRing`` is a bounded,
thread-safe FIFO of such samples: producers ``write``, the mixer ``read``s exactly what it needs
and gets silence for what is missing (an underrun never blocks the mixer).
"""

from __future__ import annotations

import threading

import numpy as np

SAMPLE_RATE = 48_000
CHANNELS = 2


class AudioRing:
    def __init__(self, capacity_samples: int = SAMPLE_RATE * 2) -> None:
        self._buf = np.zeros((capacity_samples, CHANNELS), np.float32)
        self._capacity = capacity_samples
        self._read = 0  # absolute sample counters; position in buffer is counter % capacity
        self._write = 0
        self._lock = threading.Lock()
        self.overflowed_samples = 0
        self.underrun_samples = 0

    @property
    def available(self) -> int:
        with self._lock:
            return self._write - self._read

    def write(self, samples: np.ndarray) -> None:
        """Append samples; when full, the oldest are dropped (and counted): live audio stays live."""
        if samples.ndim != 2 or samples.shape[1] != CHANNELS:
            raise ValueError(f"expected (n, {CHANNELS}) samples, got {samples.shape}")
        n = len(samples)
        if n == 0:
            return
        if n > self._capacity:
            samples = samples[-self._capacity :]
            n = self._capacity
        with self._lock:
            overflow = (self._write - self._read) + n - self._capacity
            if overflow > 0:
                self._read += overflow
                self.overflowed_samples += overflow
            start = self._write % self._capacity
            first = min(n, self._capacity - start)
            self._buf[start : start + first] = samples[:first]
            if first < n:
                self._buf[: n - first] = samples[first:]
            self._write += n

    def read(self, n: int, out: np.ndarray | None = None) -> np.ndarray:
        """Take exactly ``n`` samples; silence fills what was not there."""
        if out is None:
            out = np.empty((n, CHANNELS), np.float32)
        with self._lock:
            have = min(n, self._write - self._read)
            start = self._read % self._capacity
            first = min(have, self._capacity - start)
            out[:first] = self._buf[start : start + first]
            if first < have:
                out[first:have] = self._buf[: have - first]
            self._read += have
            if have < n:
                self.underrun_samples += n - have
        out[have:] = 0.0
        return out

    def clear(self) -> None:
        with self._lock:
            self._read = self._write
