"""Engine events (the model events live in scenes.model). Emitted on engine threads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class ProgramFrame:
    """A composited frame. ``pixels`` lives in a ring of reused canvases: consumers that keep it
    longer than a few frames must copy it."""

    pixels: np.ndarray
    index: int  # frame number since the clock started (gaps mean lagged frames)
    pts_ns: int  # index * frame duration: the presentation time on the program timeline
    composite_ns: int  # time.perf_counter_ns() when compositing finished


@dataclass(frozen=True, slots=True)
class ProgramChanged:
    program: str | None
    preview: str | None
    studio_mode: bool


@dataclass(frozen=True, slots=True)
class TransitionState:
    active: bool
    position: float
    target: str | None


@dataclass(frozen=True, slots=True)
class ClockStats:
    fps: float
    frames: int
    lagged: int
    render_ms_p50: float
    render_ms_p95: float

    @property
    def lagged_ratio(self) -> float:
        return self.lagged / max(1, self.frames + self.lagged)


@dataclass(frozen=True, slots=True)
class CommandFailed:
    command: object
    message: str


@dataclass(frozen=True, slots=True)
class SourceProblem:
    source: str
    message: str | None  # None: the problem went away
