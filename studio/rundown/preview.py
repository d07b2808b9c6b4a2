"""The producer's cut preview player: a MediaSource driven by its own small clock, no engine.

Threads: ``cut-preview-clock`` ticks the clip at 30 Hz on a virtual clock (so shuttling at 2x or
4x just runs that clock faster) and publishes new pictures into ``frames`` (a LatestSlot the UI's
FrameView pulls). Decoding happens on the clip's own ``media:`` worker. Reverse shuttle steps back
by seeking (frame-accurate, from the previous keyframe). Sound plays through the default output
device when there is one and the rate is 1x; otherwise the preview is silent and ``audio_note``
says why. ``close()`` stops and joins everything.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scenes.audio import CHANNELS, SAMPLE_RATE
from scenes.registry import get_type
from scenes.sources.base import View
from scenes.sources.media import MediaSource
from studio.events import ProgramFrame
from studio.slots import LatestSlot

log = logging.getLogger(__name__)

TICK_HZ = 30
NS = 1_000_000_000
SHUTTLE_RATES = (1.0, 2.0, 4.0, 8.0)


@dataclass(frozen=True)
class ClipRange:
    path: str
    in_s: float = 0.0
    out_s: float = 0.0  # 0: the clip's end


class _AudioOut:
    """The default output device through sounddevice, fed from the clip's audio ring."""

    def __init__(self) -> None:
        self.stream: Any = None
        self.note = ""
        self.source: MediaSource | None = None
        self.enabled = False
        try:
            from studio.audio.devices import AudioBackendError, load_sounddevice

            try:
                sd = load_sounddevice()
                sd.query_devices(kind="output")
                self.stream = sd.OutputStream(samplerate=SAMPLE_RATE, channels=CHANNELS, dtype="float32",
                                              callback=self._callback)
                self.stream.start()
            except AudioBackendError as exc:
                self.note = f"silent: {exc}"
        except Exception as exc:  # noqa: BLE001 - no device is a normal state, not an error
            self.stream = None
            self.note = f"silent: no audio output device ({type(exc).__name__})"

    def _callback(self, outdata: np.ndarray, frames: int, _time: Any, _status: Any) -> None:
        source = self.source
        if source is None or not self.enabled:
            outdata.fill(0)
            return
        got = source.audio.read(min(frames, source.audio.available))
        outdata[: len(got)] = got
        outdata[len(got):] = 0

    def close(self) -> None:
        if self.stream is not None:
            try:
                self.stream.stop()
                self.stream.close()
            except Exception:  # noqa: BLE001 - closing a vanished device
                log.debug("closing the preview's audio output failed", exc_info=True)
            self.stream = None


class PreviewPlayer:
    def __init__(self, audio: bool = True) -> None:
        self.frames: LatestSlot[ProgramFrame] = LatestSlot()
        self._lock = threading.RLock()
        self._source: MediaSource | None = None
        self._queue: list[ClipRange] = []
        self._rate = 0.0  # 0 paused, > 0 forward shuttle, < 0 reverse shuttle
        self._clock_ns = 0  # the virtual clock the clip is ticked with
        self._shown_version: object = None
        self._index = 0
        self._fps = float(TICK_HZ)
        self._audio = _AudioOut() if audio else None
        self.audio_note = self._audio.note if self._audio is not None else "silent: sound off"
        if self._audio is not None and self._audio.stream is None and not self.audio_note:
            self.audio_note = "silent: no audio output device"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cut-preview-clock", daemon=True)
        self._thread.start()

    # ---- clips ---------------------------------------------------------------------------------

    def open(self, path: str, in_s: float = 0.0, out_s: float = 0.0, play: bool = False) -> None:
        """Show ``path`` paused on ``in_s`` (decoded on the clip's worker, never this thread)."""
        with self._lock:
            self._queue = []
            self._swap(self._make(ClipRange(path, in_s, out_s)))
            self._rate = 1.0 if play else 0.0
            if play and self._source is not None:
                self._source.play()

    def play_sequence(self, clips: Sequence[ClipRange]) -> None:
        """Play clips one after the other (a branch path preview)."""
        if not clips:
            raise ValueError("play_sequence needs at least one clip")
        with self._lock:
            first, *rest = clips
            self.open(first.path, first.in_s, first.out_s, play=True)
            self._queue = list(rest)

    def _make(self, clip: ClipRange) -> MediaSource:
        settings = get_type("media").validate(
            {"path": clip.path, "in_point": clip.in_s, "out_point": clip.out_s, "loop": False, "autoplay": False}
        )
        source = MediaSource(settings)
        source.preroll()
        return source

    def _swap(self, source: MediaSource | None) -> None:
        old, self._source = self._source, source
        if self._audio is not None:
            self._audio.source = source
        if old is not None:
            old.close()

    @property
    def source(self) -> MediaSource | None:
        return self._source

    @property
    def path(self) -> str | None:
        s = self._source
        return str(s.settings.get("path")) if s is not None else None

    # ---- transport (any thread) ----------------------------------------------------------------

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def playing(self) -> bool:
        return self._rate != 0.0

    @property
    def position(self) -> float:
        s = self._source
        return s.position if s is not None else 0.0

    @property
    def duration(self) -> float | None:
        s = self._source
        return s.duration if s is not None else None

    @property
    def error(self) -> str | None:
        s = self._source
        return s.error if s is not None else None

    def play(self) -> None:
        self.set_rate(1.0)

    def pause(self) -> None:
        self.set_rate(0.0)

    def toggle(self) -> None:
        self.set_rate(0.0 if self.playing else 1.0)

    def set_rate(self, rate: float) -> None:
        """Shuttle: 0 pauses, 1 plays, 2/4/8 fast forward, negative plays backwards (by stepping)."""
        if not np.isfinite(rate) or abs(rate) > max(SHUTTLE_RATES):
            raise ValueError(f"shuttle rate must be within +-{max(SHUTTLE_RATES):g}, got {rate!r}")
        with self._lock:
            source = self._source
            self._rate = float(rate)
            if source is None:
                return
            if rate > 0:
                if source.ended:
                    source.seek(float(source.settings.get("in_point", 0.0)))
                source.play()
            else:
                source.pause()
                if self._audio is not None:
                    source.audio.clear()

    def shuttle_forward(self) -> None:
        """L: play, and each further press doubles the speed (1x, 2x, 4x, 8x)."""
        self.set_rate(_next_rate(self._rate))

    def shuttle_back(self) -> None:
        """J: play backwards, each further press doubles the speed."""
        self.set_rate(-_next_rate(-self._rate))

    def seek(self, seconds: float) -> None:
        """Go to ``seconds`` of clip time (kept inside the in/out range) and pause there."""
        with self._lock:
            self.set_rate(0.0)
            if self._source is not None:
                self._source.seek(max(0.0, float(seconds)))

    def step(self, frames: int) -> None:
        """Frame step (pauses); arrows."""
        with self._lock:
            source = self._source
            if source is None:
                return
            self.seek(self.position + frames * self.frame_s)

    @property
    def frame_s(self) -> float:
        return 1.0 / self.fps

    @property
    def fps(self) -> float:
        """The clip's frame rate for frame steps (``set_fps`` once it is known; 30 until then)."""
        return self._fps

    def set_fps(self, fps: float | None) -> None:
        if fps is not None and np.isfinite(fps) and fps > 0:
            self._fps = float(fps)

    # ---- the clock thread -----------------------------------------------------------------------

    def _run(self) -> None:
        period = NS // TICK_HZ
        next_at = time.perf_counter_ns()
        while not self._stop.is_set():
            try:
                self._tick(period)
            except Exception:  # a bad clip must not end the preview
                log.exception("cut preview tick failed")
            next_at += period
            now = time.perf_counter_ns()
            if next_at < now:
                next_at = now  # behind: no catching up on a preview
            self._stop.wait((next_at - now) / 1e9)

    def _tick(self, period: int) -> None:
        with self._lock:
            source = self._source
            rate = self._rate
            if source is None:
                return
            if rate < 0:
                if source.ready:  # step back only once the last step is on screen
                    target = source.position + rate * period / NS
                    floor = float(source.settings.get("in_point", 0.0))
                    source.seek(max(floor, target))
                    if target <= floor:
                        self._rate = 0.0
            else:
                self._clock_ns += int(max(rate, 0.0) * period) if rate > 0 else period
            if self._audio is not None:
                self._audio.enabled = rate == 1.0
            source.tick(self._clock_ns)
            if source.ended and self._queue:
                self._swap(self._make(self._queue.pop(0)))
                assert self._source is not None
                self._source.play()
                source = self._source
            elif source.ended and rate > 0:
                self._rate = 0.0
            picture = source.frame_for(View.PREVIEW)  # the editor's view: status cards show
        if picture is not None and picture is not self._shown_version:
            self._shown_version = picture
            self._index += 1
            self.frames.put(ProgramFrame(picture.pixels, self._index, self._clock_ns, time.perf_counter_ns()))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        with self._lock:
            self._swap(None)
            self._queue = []
        if self._audio is not None:
            self._audio.close()


def _next_rate(current: float) -> float:
    for r in SHUTTLE_RATES:
        if r > current:
            return r
    return SHUTTLE_RATES[-1]
