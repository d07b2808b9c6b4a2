"""Audio inputs: anything that fills an ``AudioRing`` (48 kHz stereo float32) for the mixer.

- ``MicrophoneInput``: a sounddevice ``InputStream``. The PortAudio callback must not allocate, so it
  only copies the device's native samples into a preallocated capture buffer. Channel mapping (mono to
  both channels, more than two channels: the first two) and resampling to 48 kHz (libswresample through
  ``av.AudioResampler``) happen later, when the mixer reads the input's ring on the ``audio`` thread.
- ``ClipAudioInput``: the ring a media-clip source writes its decoded audio to.
- ``ToneInput``: a phase-continuous sine generator for tests, line-up and ``studio render``.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import av
import numpy as np

from scenes.audio import CHANNELS, SAMPLE_RATE, AudioRing
from studio.audio.devices import AudioBackendError, AudioDevice, find_device, load_sounddevice

log = logging.getLogger(__name__)


@runtime_checkable
class AudioInput(Protocol):
    """What the mixer needs from an input. ``start``/``stop`` never raise for device trouble."""

    @property
    def name(self) -> str: ...

    @property
    def ring(self) -> AudioRing: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


class ClipAudioInput:
    """The audio of a media clip: its source decodes into ``ring``; nothing to open here."""

    def __init__(self, name: str, ring: AudioRing) -> None:
        self.name = _check_name(name)
        self.ring = ring
        self.error: str | None = None

    def start(self) -> None:
        """The media source owns decoding; the input has nothing of its own to start."""

    def stop(self) -> None:
        """See ``start``."""


class ToneRing(AudioRing):
    """A ring that is never empty: ``read`` synthesises the next samples of a sine."""

    def __init__(self, frequency: float, level_dbfs: float) -> None:
        super().__init__(capacity_samples=1)
        self._lock_tone = threading.Lock()
        self._phase = 0.0
        self.frequency = frequency
        self.level_dbfs = level_dbfs

    @property
    def frequency(self) -> float:
        return self._frequency

    @frequency.setter
    def frequency(self, value: float) -> None:
        if not (isinstance(value, int | float) and 0 < value < SAMPLE_RATE / 2):
            raise ValueError(f"tone frequency must be between 0 and {SAMPLE_RATE // 2} Hz, got {value!r}")
        self._frequency = float(value)

    @property
    def level_dbfs(self) -> float:
        return self._level_dbfs

    @level_dbfs.setter
    def level_dbfs(self, value: float) -> None:
        if not (isinstance(value, int | float) and (value == -math.inf or -120 <= value <= 0)):
            raise ValueError(f"tone level must be between -120 and 0 dBFS, got {value!r}")
        self._level_dbfs = float(value)

    @property
    def available(self) -> int:
        return 1 << 62  # a generator has as many samples as anyone asks for

    def write(self, samples: np.ndarray, at: int | None = None) -> None:
        raise TypeError("a tone generator's ring cannot be written to")

    def read(self, n: int, out: np.ndarray | None = None, at: int | None = None) -> np.ndarray:
        if out is None:
            out = np.empty((n, CHANNELS), np.float32)
        with self._lock_tone:
            step = 2.0 * math.pi * self._frequency / SAMPLE_RATE
            amplitude = 0.0 if self._level_dbfs == -math.inf else 10.0 ** (self._level_dbfs / 20.0)
            phases = self._phase + step * np.arange(n, dtype=np.float64)
            # keep the phase small so float64 keeps its precision over hours of tone
            self._phase = (self._phase + step * n) % (2.0 * math.pi)
        wave = amplitude * np.sin(phases)
        out[:, 0] = wave
        out[:, 1:] = out[:, :1]
        return out

    def clear(self) -> None:
        """Nothing is buffered."""


class ToneInput:
    """A test tone, ``frequency`` Hz at ``level_dbfs`` peak, the same on both channels."""

    def __init__(self, name: str = "tone", frequency: float = 1000.0, level_dbfs: float = -20.0) -> None:
        self.name = _check_name(name)
        self.ring = ToneRing(frequency, level_dbfs)
        self.error: str | None = None

    def start(self) -> None:
        """A generator has no device to open."""

    def stop(self) -> None:
        """See ``start``."""


class _CaptureBuffer:
    """Single-producer FIFO in the device's native rate and channel count.

    ``write`` runs in the PortAudio callback: it copies into preallocated memory under a short lock
    and allocates nothing. Overflow drops the oldest samples (live stays live) and is counted.
    """

    def __init__(self, capacity: int, channels: int) -> None:
        self._buf = np.zeros((capacity, channels), np.float32)
        self._capacity = capacity
        self._read = 0
        self._write = 0
        self._lock = threading.Lock()
        self.dropped = 0

    def write(self, samples: np.ndarray) -> None:
        n = len(samples)
        if n > self._capacity:
            samples = samples[n - self._capacity :]
            n = self._capacity
        with self._lock:
            overflow = self._write - self._read + n - self._capacity
            if overflow > 0:
                self._read += overflow
                self.dropped += overflow
            start = self._write % self._capacity
            first = min(n, self._capacity - start)
            self._buf[start : start + first] = samples[:first]
            if first < n:
                self._buf[: n - first] = samples[first:]
            self._write += n

    def take(self) -> np.ndarray:
        """Everything buffered, as a new array (reader side, allowed to allocate)."""
        with self._lock:
            n = self._write - self._read
            start = self._read % self._capacity
            idx = (start + np.arange(n)) % self._capacity
            out = self._buf[idx]
            self._read += n
        return out


class _Converter:
    """Native (n, channels) at ``rate`` -> engine (n, 2) float32 at 48 kHz; keeps resampler state."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._resampler = (
            None
            if rate == SAMPLE_RATE
            else av.AudioResampler(format="flt", layout="stereo", rate=SAMPLE_RATE)
        )

    def __call__(self, native: np.ndarray) -> np.ndarray:
        stereo = np.repeat(native, 2, axis=1) if native.shape[1] == 1 else np.ascontiguousarray(native[:, :2])
        if self._resampler is None or len(stereo) == 0:
            return stereo
        frame = av.AudioFrame.from_ndarray(stereo.reshape(1, -1), format="flt", layout="stereo")
        frame.sample_rate = self.rate
        parts = [f.to_ndarray().reshape(-1, CHANNELS) for f in self._resampler.resample(frame)]
        return np.concatenate(parts) if parts else np.zeros((0, CHANNELS), np.float32)


class _PumpedRing(AudioRing):
    """An ``AudioRing`` that converts pending capture samples whenever someone reads it."""

    def __init__(self, capacity_samples: int) -> None:
        super().__init__(capacity_samples)
        self._pump_lock = threading.Lock()
        self.pump: Callable[[], np.ndarray | None] = lambda: None

    def _fill(self) -> None:
        with self._pump_lock:
            samples = self.pump()
            if samples is not None and len(samples):
                super().write(samples)

    @property
    def available(self) -> int:
        self._fill()
        return super().available

    def read(self, n: int, out: np.ndarray | None = None, at: int | None = None) -> np.ndarray:
        self._fill()
        return super().read(n, out)


class MicrophoneInput:
    """A capture device. ``device``: None (the default input), a PortAudio index or part of a name.

    ``start`` never raises for device trouble: it sets ``error`` to a readable message (no PortAudio,
    no such device, device busy) and the input stays silent. ``ring`` holds at most ``max_latency_s``
    of audio, which bounds how far the microphone can fall behind the mixer.
    """

    def __init__(
        self,
        name: str,
        device: int | str | None = None,
        *,
        channels: int | None = None,
        samplerate: int | None = None,
        max_latency_s: float = 0.25,
    ) -> None:
        self.name = _check_name(name)
        if channels is not None and not (isinstance(channels, int) and channels >= 1):
            raise ValueError(f"microphone {name!r}: channels must be a positive integer, got {channels!r}")
        if samplerate is not None and not (isinstance(samplerate, int) and 8000 <= samplerate <= 384_000):
            raise ValueError(f"microphone {name!r}: samplerate must be 8000..384000 Hz, got {samplerate!r}")
        if not 0.02 <= max_latency_s <= 2.0:
            raise ValueError(f"microphone {name!r}: max_latency_s must be 0.02..2 s, got {max_latency_s!r}")
        self.device_spec = device
        self.channels = channels
        self.samplerate = samplerate
        self.ring = _PumpedRing(int(SAMPLE_RATE * max_latency_s))
        self.error: str | None = None
        self.device: AudioDevice | None = None
        self.status_flags = 0  # PortAudio over/underflow reports seen by the callback
        self._stream: Any = None
        self._capture: _CaptureBuffer | None = None
        self._convert: _Converter | None = None
        self.ring.pump = self._pump

    @property
    def running(self) -> bool:
        return self._stream is not None

    def start(self) -> None:
        if self._stream is not None:
            return
        self.error = None
        try:
            sd = load_sounddevice()
            device = find_device(self.device_spec, "input")
            channels = self.channels or min(device.max_input_channels, CHANNELS)
            if channels > device.max_input_channels:
                raise AudioBackendError(
                    f"device {device.name!r} has {device.max_input_channels} input channel(s), {channels} asked"
                )
            rate = self.samplerate or int(round(device.default_samplerate)) or SAMPLE_RATE
            capture = _CaptureBuffer(max(rate, 4096), channels)  # one second at the native rate
            stream = sd.InputStream(
                device=device.index,
                channels=channels,
                samplerate=rate,
                dtype="float32",
                latency="low",
                callback=self._make_callback(capture),
                finished_callback=self._on_finished,
            )
            stream.start()
        except Exception as exc:  # PortAudioError, AudioBackendError, bad settings: report, stay silent
            self.error = f"microphone {self.name!r}: {exc}"
            log.warning("%s", self.error)
            return
        self.device = device
        self._capture = capture
        self._convert = _Converter(rate)
        self._stream = stream
        log.info("microphone %r opened: %s, %d ch at %d Hz", self.name, device.name, channels, rate)

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            stream.stop()
            stream.close()
        except Exception as exc:  # a vanished device must not fail shutdown
            log.warning("microphone %r: closing failed: %s", self.name, exc)

    def _make_callback(self, capture: _CaptureBuffer) -> Callable[[np.ndarray, int, Any, Any], None]:
        # Runs on PortAudio's thread: copy into preallocated memory, nothing else.
        def callback(indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
            if status:
                self.status_flags += 1
            capture.write(indata)

        return callback

    def _on_finished(self) -> None:
        if self._stream is not None:  # finished without stop(): the device went away
            self.error = f"microphone {self.name!r}: the input device stopped"

    def _pump(self) -> np.ndarray | None:
        capture, convert = self._capture, self._convert
        if capture is None or convert is None:
            return None
        return convert(capture.take())


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"audio input name must be a non-empty string, got {name!r}")
    return name
