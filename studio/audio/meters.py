"""Level meters: peak and RMS in dBFS per channel, with peak hold and decay, published at ~30 Hz.

Meters count time in samples, not wall-clock time, so an offline render meters exactly like a live
show. The mixer feeds every block; ``LevelPublisher`` emits one ``AudioLevels`` (master plus every
source) whenever a publishing interval's worth of samples has been measured: block rate (~47 Hz at
1024 samples) throttled to ~30 Hz. Peak and RMS cover everything measured since the last event.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from scenes.audio import CHANNELS, SAMPLE_RATE
from scenes.events import Signal

SILENCE_DB = -120.0  # what digital silence reads as (finite, so events stay JSON-friendly)


def amplitude_to_dbfs(amplitude: float) -> float:
    """Full scale (1.0) is 0 dBFS; anything at or below 1e-6 reads as ``SILENCE_DB``."""
    if amplitude <= 1e-6:
        return SILENCE_DB
    return max(SILENCE_DB, 20.0 * math.log10(amplitude))


@dataclass(frozen=True)
class ChannelLevels:
    """One meter: per audio channel (left, right), in dBFS."""

    name: str
    peak_db: tuple[float, ...]
    rms_db: tuple[float, ...]
    hold_db: tuple[float, ...]


@dataclass(frozen=True)
class AudioLevels:
    """What a meter bridge shows: master and each source. ``pts``: end of the window, in samples."""

    pts: int
    master: ChannelLevels
    sources: tuple[ChannelLevels, ...]

    def source(self, name: str) -> ChannelLevels | None:
        return next((s for s in self.sources if s.name == name), None)


class LevelMeter:
    """Peak/RMS over a window of blocks, plus a peak hold that decays after ``hold_s``."""

    def __init__(
        self, name: str, channels: int = CHANNELS, hold_s: float = 1.5, decay_db_per_s: float = 20.0
    ) -> None:
        if hold_s < 0 or decay_db_per_s <= 0:
            raise ValueError(f"meter {name!r}: hold_s must be >= 0 and decay_db_per_s > 0")
        self.name = name
        self._channels = channels
        self._hold_samples = hold_s * SAMPLE_RATE
        self._decay_per_sample = decay_db_per_s / SAMPLE_RATE
        self._peak = np.zeros(channels, np.float64)
        self._sumsq = np.zeros(channels, np.float64)
        self._count = 0
        self._hold = [SILENCE_DB] * channels
        self._hold_age = [0.0] * channels

    def add(self, block: np.ndarray) -> None:
        if len(block) == 0:
            return
        np.maximum(self._peak, np.abs(block).max(axis=0), out=self._peak)
        self._sumsq += np.einsum("ij,ij->j", block, block, dtype=np.float64)
        self._count += len(block)

    def snapshot(self) -> ChannelLevels:
        """Levels since the last snapshot; starts a new window."""
        elapsed = self._count
        count = max(1, self._count)
        peak = tuple(amplitude_to_dbfs(float(p)) for p in self._peak)
        rms = tuple(amplitude_to_dbfs(math.sqrt(float(s) / count)) for s in self._sumsq)
        for ch, level in enumerate(peak):
            if level >= self._hold[ch]:
                self._hold[ch], self._hold_age[ch] = level, 0.0
                continue
            self._hold_age[ch] += elapsed
            over = self._hold_age[ch] - self._hold_samples
            if over > 0:  # decay only for the part of this window past the hold time
                decayed = self._hold[ch] - self._decay_per_sample * min(over, elapsed)
                self._hold[ch] = max(level, decayed, SILENCE_DB)
        self._peak[:] = 0.0
        self._sumsq[:] = 0.0
        self._count = 0
        return ChannelLevels(self.name, peak, rms, tuple(self._hold))


class LevelPublisher:
    """Meters for the master and each named source; emits ``levels`` about ``rate_hz`` times a second."""

    def __init__(self, rate_hz: float = 30.0) -> None:
        if not 0 < rate_hz <= 1000:
            raise ValueError(f"meter rate must be between 0 and 1000 Hz, got {rate_hz!r}")
        self.levels: Signal[AudioLevels] = Signal()
        self.interval_samples = int(SAMPLE_RATE / rate_hz)
        self.master = LevelMeter("master")
        self._sources: dict[str, LevelMeter] = {}
        self._since_publish = 0
        self.last: AudioLevels | None = None

    def measure(self, name: str, block: np.ndarray) -> None:
        meter = self._sources.get(name)
        if meter is None:
            meter = self._sources[name] = LevelMeter(name)
        meter.add(block)

    def forget(self, name: str) -> None:
        self._sources.pop(name, None)

    def end_block(self, master_block: np.ndarray, pts_end: int) -> AudioLevels | None:
        """Measure the master; publish when an interval is complete. Returns what was published."""
        self.master.add(master_block)
        self._since_publish += len(master_block)
        if self._since_publish < self.interval_samples:
            return None
        self._since_publish %= self.interval_samples  # keep the remainder: ~rate_hz on average
        event = AudioLevels(
            pts=pts_end,
            master=self.master.snapshot(),
            sources=tuple(m.snapshot() for m in self._sources.values()),
        )
        self.last = event
        self.levels.emit(event)
        return event
