"""The stream's resolution/frame-rate ladder: which rendition fits the target bitrate.

Rungs: the canvas (e.g. 1080p30), then 720p30, 540p30, 360p30 and finally 360p at half the frame
rate, each kept only when smaller than the canvas. A rung fits while the target gives it at least
``DOWN_BPP`` bits per pixel; below that, H.264 at our low-latency presets turns to mush and a
smaller picture at the same rate looks better. Steps down are taken at once (to the best rung that
fits: congestion hurts now) once the target has stayed low for ``down_hold_s`` (1 s: one REMB or
receiver report's dip is often scheduling jitter, and each step costs an IDR), or at once when the
target is far below the rung (< 0.75x its threshold: the rate controller's cut for a capped link
comes with its step down, not a second later); a step up needs ``UP_BPP`` on the next rung, held for ``hold_s``
seconds, one rung at a time. The gap between the two thresholds plus the hold stop the ladder from
flapping on REMB's wobble: each step costs an IDR.

Thresholds at 30 fps (DOWN / UP, kbit/s): 1080p 2488 / 3732, 720p 1106 / 1659, 540p 622 / 933,
360p 276 / 415; 360p15 is the floor rung. At a 1 Mbit/s uplink (~800 kbit/s of video) the stream
sits on 540p30.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

DOWN_BPP = 0.04
UP_BPP = 0.06
LADDER_HEIGHTS = (1080, 720, 540, 360)
DEFAULT_HOLD_S = 5.0
DEFAULT_DOWN_HOLD_S = 1.0
# A target this far below the rung's threshold is congestion the rate controller has measured (a
# capped link found from one receiver report), not a REMB dip: step down at once, with the cut.
FAR_BELOW = 0.75


@dataclass(frozen=True, slots=True)
class Rung:
    width: int
    height: int
    fps: int

    @property
    def label(self) -> str:
        return f"{self.height}p{self.fps}"

    @property
    def pixel_rate(self) -> int:
        return self.width * self.height * self.fps

    @property
    def down_kbps(self) -> int:
        """Below this target the rung no longer fits."""
        return int(self.pixel_rate * DOWN_BPP / 1000)

    @property
    def up_kbps(self) -> int:
        """A target this high (held) earns a step up to this rung."""
        return int(self.pixel_rate * UP_BPP / 1000)


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def build_ladder(width: int, height: int, fps: int) -> tuple[Rung, ...]:
    """Rungs for a canvas, best first; the first is the canvas itself."""
    rungs = [Rung(width, height, fps)]
    for h in LADDER_HEIGHTS:
        if h < height:
            rungs.append(Rung(_even(width * h / height), h, fps))
    last = rungs[-1]
    if last.fps >= 20 and last.fps % 2 == 0:  # the half rate takes every other frame
        rungs.append(Rung(last.width, last.height, last.fps // 2))
    return tuple(rungs)


class Ladder:
    """Picks a rung from the target bitrate. Not thread-safe: feed it from one place (the rate
    controller's apply callback, under the pipeline's lock)."""

    def __init__(
        self,
        rungs: tuple[Rung, ...],
        hold_s: float = DEFAULT_HOLD_S,
        clock: Callable[[], float] = time.monotonic,
        down_hold_s: float = DEFAULT_DOWN_HOLD_S,
    ) -> None:
        if not rungs:
            raise ValueError("a ladder needs at least one rung")
        self.rungs = rungs
        self.hold_s = hold_s
        self._clock = clock
        self.index = 0
        self._up_since: float | None = None
        self._down_since: float | None = None
        self.down_hold_s = down_hold_s

    @property
    def rung(self) -> Rung:
        return self.rungs[self.index]

    @property
    def at_top(self) -> bool:
        return self.index == 0

    def start(self, target_kbps: int) -> Rung:
        """Begin on the best rung for this target (no hold: nothing has been sent yet)."""
        self.index = self._best_fit(target_kbps)
        self._up_since = self._down_since = None
        return self.rung

    def update(self, target_kbps: int) -> Rung:
        """The rung for this target (call on every target change and periodically)."""
        now = self._clock()
        fits = self._best_fit(target_kbps)
        if fits > self.index:  # step down as far as needed once the dip has lasted
            self._up_since = None
            if self._down_since is None:
                self._down_since = now
            if now - self._down_since >= self.down_hold_s or target_kbps < self.rung.down_kbps * FAR_BELOW:
                self.index = fits
                self._down_since = None
            return self.rung
        self._down_since = None
        if self.index > 0 and target_kbps >= self.rungs[self.index - 1].up_kbps:
            if self._up_since is None:
                self._up_since = now
            elif now - self._up_since >= self.hold_s:
                self.index -= 1
                self._up_since = None  # the next step up waits a full hold again
        else:
            self._up_since = None
        return self.rung

    def _best_fit(self, target_kbps: int) -> int:
        for i, rung in enumerate(self.rungs[:-1]):
            if target_kbps >= rung.down_kbps:
                return i
        return len(self.rungs) - 1
