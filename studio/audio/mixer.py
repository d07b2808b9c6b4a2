"""The audio mixer: sums the inputs into the program mix on the named ``audio`` thread.

Every block (1024 samples = 21.33 ms at 48 kHz by default) the mixer reads one block from each
input's ring, runs the input's filters (gain, noise gate, compressor: ``studio.audio.filters``),
applies the input's fader (-60..+12 dB; -60 and -inf are "off") and mute, sums, runs the master
limiter (on by default, -1 dBFS ceiling), soft-clips to [-1, 1] and hands the block to its
listeners (the audio encoder's submit) and to an optional monitor output device. ``samples_mixed`` is the engine's master clock: a block's ``pts`` is the index of its
first sample, so A/V timestamps derive from the number of samples actually produced.

Pacing: with a monitor device running, the device pulls the pace (its callback drains a small ring
and wakes the mixer). Otherwise the mixer sleeps to absolute ``perf_counter_ns`` deadlines, as the
video clock does. ``mix_block()`` without the thread is the offline mode for ``studio render``:
deterministic, no wall clock.

Gain changes are made under a lock by any thread and take effect at the next block, ramped linearly
across that block so a fader move or mute never clicks. Per-source meters read after the fader and
before mute (a muted live microphone still shows that it picks up sound, as in OBS).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from scenes.audio import CHANNELS, SAMPLE_RATE, AudioRing
from scenes.events import Signal
from studio.audio.devices import find_device, load_sounddevice
from studio.audio.filters import ChannelFilters, ChannelProcessor, Limiter, MasterFilters
from studio.audio.inputs import AudioInput
from studio.audio.meters import AudioLevels, LevelPublisher

log = logging.getLogger(__name__)

MIN_VOLUME_DB = -60.0  # the bottom of the fader: off
MAX_VOLUME_DB = 12.0
DEFAULT_BLOCK_SIZE = 1024
LIMIT_THRESHOLD = 10 ** (-1 / 20)  # soft clipping starts at -1 dBFS


def db_to_gain(volume_db: float) -> float:
    """Fader position to linear gain; the bottom of the fader (-60 dB or -inf) is silence."""
    return 0.0 if volume_db <= MIN_VOLUME_DB else 10.0 ** (volume_db / 20.0)


def soft_clip(x: np.ndarray, threshold: float = LIMIT_THRESHOLD) -> None:
    """Limit ``x`` in place to [-1, 1]: linear below ``threshold``, a tanh knee above it.

    The knee meets the straight line with the same slope, so mild overs sound like compression,
    not like the square corners of a hard clip. NaN (a broken source) becomes silence.
    """
    if x.size == 0:
        return
    peak = float(np.max(np.abs(x)))
    if not math.isfinite(peak):
        np.nan_to_num(x, copy=False, nan=0.0, posinf=1.0, neginf=-1.0)
        peak = float(np.max(np.abs(x)))
    if peak <= threshold:
        return
    knee = 1.0 - threshold
    magnitude = np.abs(x)
    over = magnitude > threshold
    magnitude[over] = threshold + knee * np.tanh((magnitude[over] - threshold) / knee)
    np.minimum(magnitude, 1.0, out=magnitude)  # float32 rounding of the knee can touch 1.0, never more
    np.copysign(magnitude, x, out=x)


@dataclass(frozen=True)
class InputState:
    """The model a mixer strip binds to."""

    name: str
    volume_db: float = 0.0
    muted: bool = False
    monitored: bool = False
    filters: ChannelFilters = ChannelFilters()  # gain, gate, compressor: before the fader


@dataclass(frozen=True)
class MixerChange:
    kind: Literal["added", "removed", "changed"]
    state: InputState


@dataclass(frozen=True)
class MixedBlock:
    """One block of the program mix: ``samples`` (n, 2) float32, read-only; ``pts`` in samples
    since the mixer started; ``timeline_pts`` the block's place on the video program timeline
    (samples since the program's frame 0) when the mixer follows one (see ``follow_timeline``)."""

    samples: np.ndarray
    pts: int
    timeline_pts: int | None = None

    @property
    def end(self) -> int:
        return self.pts + len(self.samples)


class _Strip:
    """An input plus its gains. ``state`` and targets change under the mixer lock; the ``*_now``
    gains belong to whoever mixes (the audio thread, or the caller of ``mix_block``)."""

    def __init__(self, source: AudioInput, state: InputState, block_size: int) -> None:
        self.input = source
        self.state = state
        self.processor = ChannelProcessor(block_size)
        self.fader_now = 0.0  # new inputs fade in over their first block
        self.mute_now = 0.0 if state.muted else 1.0


class _Monitor:
    """A sounddevice OutputStream that plays the monitor mix and paces the mixer."""

    def __init__(self, sd: Any, device_index: int, block_size: int) -> None:
        self.ring = AudioRing(block_size * 8)
        self.target = block_size * 2  # keep about two blocks queued for the device
        self.wake = threading.Event()
        self.failed: str | None = None
        self.stream = sd.OutputStream(
            device=device_index,
            samplerate=SAMPLE_RATE,
            channels=CHANNELS,
            dtype="float32",
            blocksize=block_size,  # the device pulls whole blocks, so two queued blocks suffice
            latency="low",
            callback=self._callback,
            finished_callback=self._finished,
        )
        self._closing = False

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        # PortAudio's thread: copy from the preallocated ring straight into the device buffer.
        self.ring.read(frames, out=outdata)
        self.wake.set()

    def _finished(self) -> None:
        if not self._closing:
            self.failed = "the monitor output device stopped"
        self.wake.set()

    def start(self) -> None:
        self.stream.start()

    def close(self) -> None:
        self._closing = True
        self.wake.set()
        try:
            self.stream.stop()
            self.stream.close()
        except Exception as exc:  # a vanished device must not fail shutdown
            log.warning("monitor output: closing failed: %s", exc)


class AudioMixer:
    """Mixes ``AudioInput``s. Owns the inputs added to it: starts them with itself, stops them when
    they are removed or the mixer stops. Thread: ``audio`` (``start``/``stop``)."""

    def __init__(self, block_size: int = DEFAULT_BLOCK_SIZE, meter_rate_hz: float = 30.0) -> None:
        if not (isinstance(block_size, int) and 64 <= block_size <= 16384):
            raise ValueError(f"mixer block_size must be an integer 64..16384, got {block_size!r}")
        self.block_size = block_size
        self.changed: Signal[MixerChange] = Signal()
        self.blocks: Signal[MixedBlock] = Signal()
        self.meters = LevelPublisher(meter_rate_hz)
        self._lock = threading.Lock()
        self._strips: dict[str, _Strip] = {}
        # mix-minus listeners by input name (a co-host guest's return feed: the mix without them)
        self._minus: dict[str, list[Callable[[np.ndarray, int], None]]] = {}
        self._samples_mixed = 0
        # the video program timeline this mix follows (see follow_timeline)
        self._timeline_origin_ns: int | None = None
        self._timeline_latency_ns = 0
        self._timeline_next: int | None = None
        self.timeline_resyncs = 0
        # preallocated working buffers, reused every block
        self._scratch = np.zeros((block_size, CHANNELS), np.float32)
        self._mix = np.zeros((block_size, CHANNELS), np.float32)
        self._monitor_mix = np.zeros((block_size, CHANNELS), np.float32)
        self._ramp = (np.arange(1, block_size + 1, dtype=np.float32) / block_size)[:, None]
        self._master = MasterFilters()
        self._limiter = Limiter(block_size)
        self.master_changed: Signal[MasterFilters] = Signal()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._monitor: _Monitor | None = None
        self.monitor_error: str | None = None
        self.error: str | None = None
        self.blocks_mixed = 0
        self.late_blocks = 0  # mixed more than a block after their deadline (clock pacing)
        self.resyncs = 0  # fell so far behind that the clock was re-anchored
        self.monitor_stall_s = 0.5  # a monitor device silent this long is given up for the clock

    # ---- model -------------------------------------------------------------------------------

    @property
    def levels(self) -> Signal[AudioLevels]:
        return self.meters.levels

    @property
    def inputs(self) -> tuple[InputState, ...]:
        with self._lock:
            return tuple(s.state for s in self._strips.values())

    def state(self, name: str) -> InputState:
        with self._lock:
            return self._strip(name).state

    def input(self, name: str) -> AudioInput:
        with self._lock:
            return self._strip(name).input

    def add_input(
        self, source: AudioInput, volume_db: float = 0.0, muted: bool = False, monitored: bool = False
    ) -> InputState:
        if not isinstance(source, AudioInput):
            raise ValueError(f"not an audio input (needs name, ring, start, stop): {source!r}")
        state = InputState(
            source.name,
            _check_volume(volume_db),
            _check_flag("muted", muted),
            _check_flag("monitored", monitored),
        )
        with self._lock:
            if source.name in self._strips:
                raise ValueError(f"an audio input named {source.name!r} already exists")
            self._strips[source.name] = _Strip(source, state, self.block_size)
            running = self.running
        if running:
            source.start()
        self.changed.emit(MixerChange("added", state))
        return state

    def remove_input(self, name: str) -> None:
        with self._lock:
            strip = self._strip(name)
            del self._strips[name]
        strip.input.stop()
        self.meters.forget(name)
        self.changed.emit(MixerChange("removed", strip.state))

    def set_volume(self, name: str, volume_db: float) -> None:
        self._update(name, volume_db=_check_volume(volume_db))

    def set_muted(self, name: str, muted: bool) -> None:
        self._update(name, muted=_check_flag("muted", muted))

    def set_monitored(self, name: str, monitored: bool) -> None:
        self._update(name, monitored=_check_flag("monitored", monitored))

    def set_filters(self, name: str, filters: ChannelFilters) -> None:
        """The channel's gain, noise gate and compressor (validated by ``ChannelFilters``)."""
        if not isinstance(filters, ChannelFilters):
            raise ValueError(f"expected ChannelFilters, got {filters!r}")
        self._update(name, filters=filters)

    @property
    def master_filters(self) -> MasterFilters:
        with self._lock:
            return self._master

    def set_master_filters(self, filters: MasterFilters) -> None:
        """The master's limiter (on by default: the program never clips)."""
        if not isinstance(filters, MasterFilters):
            raise ValueError(f"expected MasterFilters, got {filters!r}")
        with self._lock:
            if filters == self._master:
                return
            self._master = filters
        self.master_changed.emit(filters)

    def add_listener(self, listener: Callable[[np.ndarray, int], None]) -> Callable[[], None]:
        """``listener(samples, pts)`` for every program block, on the mixing thread; returns a
        disconnect function. ``samples`` is read-only and never reused: it may be queued as is."""
        return self.blocks.connect(lambda block: listener(block.samples, block.pts))

    def add_mix_minus(self, name: str, listener: Callable[[np.ndarray, int], None]) -> Callable[[], None]:
        """``listener(samples, pts)`` for every block: the program mix without input ``name``, on the
        mixing thread (read-only, never reused). Taken before the master limiter and soft-clipped,
        so the input's own sound is removed exactly; returns a disconnect function."""
        with self._lock:
            self._minus.setdefault(name, []).append(listener)

        def disconnect() -> None:
            with self._lock:
                listeners = self._minus.get(name, [])
                if listener in listeners:
                    listeners.remove(listener)
                if not listeners:
                    self._minus.pop(name, None)

        return disconnect

    def _strip(self, name: str) -> _Strip:
        strip = self._strips.get(name)
        if strip is None:
            raise ValueError(f"no audio input named {name!r}")
        return strip

    def _update(self, name: str, **changes: Any) -> None:
        with self._lock:
            strip = self._strip(name)
            new = replace(strip.state, **changes)
            if new == strip.state:
                return
            strip.state = new
        self.changed.emit(MixerChange("changed", new))

    # ---- the master clock ----------------------------------------------------------------------

    @property
    def samples_mixed(self) -> int:
        return self._samples_mixed

    @property
    def clock_ns(self) -> int:
        """The master clock: nanoseconds of audio produced so far."""
        return self._samples_mixed * 1_000_000_000 // SAMPLE_RATE

    # ---- mixing ------------------------------------------------------------------------------

    def follow_timeline(self, origin_ns: int | None, latency_ns: int = 0) -> None:
        """Mix the program timeline whose frame 0 was at ``origin_ns`` (time.perf_counter_ns), as it
        stood ``latency_ns`` ago: clip audio is read from its rings by timeline position, so it can
        never drift from the picture. ``origin_ns=None``: offline lockstep (block k is timeline
        samples k*n.., for `studio render`). The latency gives producers (clips, released with each
        frame) time to deliver before their span is mixed; it must cover a frame and a block."""
        if latency_ns < 0:
            raise ValueError("timeline latency must be >= 0")
        with self._lock:
            self._timeline_origin_ns = origin_ns
            self._timeline_latency_ns = latency_ns
            self._timeline_next = 0 if origin_ns is None else None

    def _timeline_position(self) -> int | None:
        """Where on the program timeline the next block belongs (None: not following one)."""
        with self._lock:
            origin, latency, expected = self._timeline_origin_ns, self._timeline_latency_ns, self._timeline_next
        if origin is None:
            return expected
        now = (time.perf_counter_ns() - origin - latency) * SAMPLE_RATE // 1_000_000_000
        # continue seamlessly from the last block; re-anchor only when far off (a stall, a resync)
        if expected is None or abs(now - expected) > 2 * self.block_size:
            if expected is not None:
                self.timeline_resyncs += 1
            return int(now)
        return expected

    def mix_block(self) -> MixedBlock:
        """Mix, publish and return the next block. Offline mode (``studio render``) only: while the
        ``audio`` thread runs, it alone mixes."""
        if self.running:
            raise RuntimeError("mix_block() is for offline rendering; the mixer thread is running")
        return self._mix_and_publish()

    def _mix_and_publish(self) -> MixedBlock:
        n = self.block_size
        mix, monitor, scratch = self._mix, self._monitor_mix, self._scratch
        mix.fill(0.0)
        monitor.fill(0.0)
        any_monitored = False
        own: dict[str, np.ndarray] = {}  # the inputs that have mix-minus listeners, as mixed
        at = self._timeline_position()
        with self._lock:
            strips = [(s, s.state) for s in self._strips.values()]
            master = self._master
            minus = {name: list(listeners) for name, listeners in self._minus.items()}
            if at is not None and (self._timeline_origin_ns is not None or self._timeline_next is not None):
                self._timeline_next = at + n
        for strip, state in strips:
            # always read, muted or not, so every ring stays in step with the clock
            strip.input.ring.read(n, out=scratch, at=at)
            strip.processor.process(scratch, state.filters)
            strip.fader_now = self._apply_gain(scratch, strip.fader_now, db_to_gain(state.volume_db))
            self.meters.measure(state.name, scratch)
            strip.mute_now = self._apply_gain(scratch, strip.mute_now, 0.0 if state.muted else 1.0)
            mix += scratch
            if state.name in minus:
                own[state.name] = scratch.copy()
            if state.monitored:
                monitor += scratch
                any_monitored = True
        before_limiter = mix.copy() if minus else None
        self._limiter.process(mix, master)
        soft_clip(mix)  # the safety net when the limiter is off
        pts = self._samples_mixed
        self._samples_mixed += n
        self.blocks_mixed += 1
        block = MixedBlock(mix.copy(), pts, at)
        block.samples.flags.writeable = False
        self.meters.end_block(block.samples, pts + n)
        self.blocks.emit(block)
        if before_limiter is not None:
            self._publish_mix_minus(before_limiter, own, minus, pts)
        mon = self._monitor
        if mon is not None:
            if any_monitored:
                soft_clip(monitor)
            mon.ring.write(monitor)
        return block

    def _publish_mix_minus(self, mix: np.ndarray, own: dict[str, np.ndarray],
                           minus: dict[str, list[Callable[[np.ndarray, int], None]]], pts: int) -> None:
        for name, listeners in minus.items():
            out = mix - own[name] if name in own else mix.copy()
            soft_clip(out)
            out.flags.writeable = False
            for listener in listeners:
                try:
                    listener(out, pts)
                except Exception:  # one guest's feed must not stop the program mix
                    log.exception("mix-minus listener for %s failed", name)

    def _apply_gain(self, x: np.ndarray, now: float, target: float) -> float:
        if now == target:
            if target != 1.0:
                x *= np.float32(target)
        else:  # linear ramp from the old gain to the new across this block
            x *= np.float32(now) + np.float32(target - now) * self._ramp
        return target

    # ---- real time -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, monitor_device: int | str | None | Literal[False] = False) -> None:
        """Start the inputs and the ``audio`` thread. ``monitor_device``: False for no monitor,
        None for the default output, or an index/name (see ``start_monitor``)."""
        if self._thread is not None:
            return
        with self._lock:
            sources = [s.input for s in self._strips.values()]
        for source in sources:
            source.start()
        if monitor_device is not False:
            self.start_monitor(monitor_device)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="audio", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (joined), the monitor and the inputs. Idempotent."""
        thread, self._thread = self._thread, None
        self._stop.set()
        monitor = self._monitor
        if monitor is not None:
            monitor.wake.set()
        if thread is not None:
            thread.join(timeout=5.0)
            if thread.is_alive():
                log.error("the audio thread did not stop within 5 s")
        self.stop_monitor()
        with self._lock:
            sources = [s.input for s in self._strips.values()]
        for source in sources:
            source.stop()

    close = stop

    def start_monitor(self, device: int | str | None = None) -> bool:
        """Play the monitor mix (inputs marked ``monitored``) on an output device, which then paces
        the mixer. Returns False and sets ``monitor_error`` when it cannot be opened."""
        self.stop_monitor()
        try:
            sd = load_sounddevice()
            info = find_device(device, "output")
            monitor = _Monitor(sd, info.index, self.block_size)
            monitor.start()
        except Exception as exc:  # no PortAudio, no device, device busy: report, keep mixing
            self.monitor_error = f"monitor output: {exc}"
            log.warning("%s", self.monitor_error)
            return False
        self.monitor_error = None
        self._monitor = monitor
        return True

    def stop_monitor(self) -> None:
        monitor, self._monitor = self._monitor, None
        if monitor is not None:
            monitor.close()

    def _run(self) -> None:
        block_ns = self.block_size * 1_000_000_000 / SAMPLE_RATE
        max_lag_ns = 0.5e9  # catching up further than this would only burst stale audio
        anchor = time.perf_counter_ns()
        k = 0  # blocks since anchor; deadline k is anchor + k * block_ns (no drift accumulates)
        while not self._stop.is_set():
            try:
                monitor = self._monitor
                if monitor is not None and monitor.failed is None:
                    self._pace_by_device(monitor, block_ns)
                    continue
                if monitor is not None:  # the device went away: say so, fall back to the clock
                    self.monitor_error = f"monitor output: {monitor.failed}"
                    log.warning("%s", self.monitor_error)
                    self.stop_monitor()
                    anchor, k = time.perf_counter_ns(), 0
                k += 1
                delay = anchor + int(k * block_ns) - time.perf_counter_ns()
                if delay > 0:
                    if self._stop.wait(delay / 1e9):
                        break
                elif -delay > max_lag_ns:
                    self.resyncs += 1
                    anchor, k = time.perf_counter_ns(), 0
                elif -delay > block_ns:
                    self.late_blocks += 1
                self._mix_and_publish()
            except Exception as exc:  # a bug in one block must not silence the show for good
                if self.error is None:
                    log.exception("audio mixer block failed")
                self.error = f"audio mixer: {exc}"
                if self._stop.wait(block_ns / 1e9):
                    break

    def _pace_by_device(self, monitor: _Monitor, block_ns: float) -> None:
        """Mix while the device's ring is short of its target, else wait for the device to pull."""
        if monitor.ring.available < monitor.target:
            self._mix_and_publish()
            return
        monitor.wake.clear()
        if monitor.ring.available < monitor.target or self._stop.is_set():
            return
        stall_s = max(self.monitor_stall_s, 4 * block_ns / 1e9)
        if not monitor.wake.wait(timeout=stall_s) and not self._stop.is_set():
            # a device that stops pulling must not stop the program: fall back to the clock
            monitor.failed = "the monitor output device stopped pulling audio"


def _check_volume(volume_db: float) -> float:
    if (
        isinstance(volume_db, bool)
        or not isinstance(volume_db, int | float)
        or math.isnan(volume_db)
        or not (volume_db == -math.inf or MIN_VOLUME_DB <= volume_db <= MAX_VOLUME_DB)
    ):
        raise ValueError(f"volume must be between -60 and +12 dB (or -inf), got {volume_db!r}")
    return float(volume_db)


def _check_flag(field: str, value: bool) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{field} must be True or False, got {value!r}")
    return value
