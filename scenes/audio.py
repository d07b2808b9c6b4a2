"""Audio hand-over between a producer (a clip's decoder, a microphone) and the mixer.

Audio in the engine is 48 kHz stereo float32, shape (samples, 2). An ``AudioRing`` is a bounded,
thread-safe buffer of such samples with two ways to use it:

- FIFO (microphones, tones): ``write(samples)`` appends, ``read(n)`` takes the oldest ``n``.
- Addressed (clip audio): ``write(samples, at=pos)`` places samples at a position on the program
  timeline (in samples), and ``read(n, at=pos)`` returns exactly that span of the timeline. A late
  or missing span becomes silence and a stale one is dropped, so sound can never drift away from
  the picture, however the producer's and the mixer's threads are scheduled.

An underrun never blocks the mixer; it gets silence and a counter goes up.
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
        # absolute sample positions; the buffer index of position p is p % capacity
        self._read = 0
        self._write = 0
        self._addressed = False
        self._lock = threading.Lock()
        self.overflowed_samples = 0  # dropped because the ring was full
        self.underrun_samples = 0  # asked for but not there (silence was given)
        self.late_samples = 0  # arrived after their time had been read (dropped)

    @property
    def available(self) -> int:
        with self._lock:
            return self._write - self._read

    def write(self, samples: np.ndarray, at: int | None = None) -> None:
        """Append samples, or place them at timeline position ``at``. When full, the oldest are
        dropped (and counted): live audio stays live."""
        if samples.ndim != 2 or samples.shape[1] != CHANNELS:
            raise ValueError(f"expected (n, {CHANNELS}) samples, got {samples.shape}")
        with self._lock:
            if at is not None:
                if not self._addressed or self._write == self._read and at > self._write:
                    # first placement (or an empty ring): the timeline starts here
                    self._read = self._write = max(at, self._read) if self._addressed else at
                    self._addressed = True
                if at < self._write:  # overlaps what is already there: keep the first copy
                    skip = min(len(samples), self._write - at)
                    self.late_samples += skip
                    samples = samples[skip:]
                elif at > self._write:  # a hole in the timeline: silence
                    self._put(np.zeros((min(at - self._write, self._capacity), CHANNELS), np.float32))
            self._put(samples)

    def _put(self, samples: np.ndarray) -> None:
        n = len(samples)
        if n == 0:
            return
        if n > self._capacity:
            samples = samples[-self._capacity:]
            self._read = max(self._read, self._write + n - self._capacity)
            self._write += n - self._capacity
            n = self._capacity
        overflow = (self._write - self._read) + n - self._capacity
        if overflow > 0:
            self._read += overflow
            self.overflowed_samples += overflow
        start = self._write % self._capacity
        first = min(n, self._capacity - start)
        self._buf[start:start + first] = samples[:first]
        if first < n:
            self._buf[: n - first] = samples[first:]
        self._write += n

    def read(self, n: int, out: np.ndarray | None = None, at: int | None = None) -> np.ndarray:
        """Take exactly ``n`` samples (the oldest, or the span starting at timeline position ``at``
        when the ring is addressed); silence fills what is not there."""
        if out is None:
            out = np.empty((n, CHANNELS), np.float32)
        out[:] = 0.0
        with self._lock:
            if at is None or not self._addressed:
                have = min(n, self._write - self._read)
                self._copy_out(self._read, have, out, 0)
                self._read += have
                self.underrun_samples += n - have
                return out
            if at > self._read:  # the mixer has moved past these: stale, drop them
                self._read = min(at, self._write)
            begin = max(at, self._read)
            end = min(at + n, self._write)
            if end > begin:
                self._copy_out(begin, end - begin, out, begin - at)
            self.underrun_samples += n - max(0, end - begin)
            self._read = max(self._read, at + n)
            self._write = max(self._write, self._read)
        return out

    def _copy_out(self, position: int, count: int, out: np.ndarray, offset: int) -> None:
        if count <= 0:
            return
        start = position % self._capacity
        first = min(count, self._capacity - start)
        out[offset:offset + first] = self._buf[start:start + first]
        if first < count:
            out[offset + first:offset + count] = self._buf[: count - first]

    def clear(self) -> None:
        with self._lock:
            self._read = self._write
