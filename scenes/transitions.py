"""Transitions between two composited canvases: cut, fade, slide and stinger.

A transition is drawn at a position 0..1 (time-driven or the director's T-bar). Stingers overlay
a clip and switch from A to B at the clip's cut point, as OBS's stinger does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np

from scenes.frame import VideoFrame


class TransitionKind(StrEnum):
    CUT = "cut"
    FADE = "fade"
    SLIDE = "slide"
    STINGER = "stinger"


@dataclass(frozen=True)
class TransitionSpec:
    kind: TransitionKind = TransitionKind.FADE
    duration_ms: int = 300
    stinger_path: str = ""  # clip played over the switch (stinger only)
    stinger_cut_point: float = 0.5  # where in the stinger A becomes B, 0..1

    def __post_init__(self) -> None:
        if not isinstance(self.kind, TransitionKind):
            object.__setattr__(self, "kind", TransitionKind(self.kind))
        if not 0 <= self.duration_ms <= 10_000:
            raise ValueError(f"transition duration {self.duration_ms} ms is outside 0..10000")
        if not 0.0 <= self.stinger_cut_point <= 1.0:
            raise ValueError("stinger cut point must be between 0 and 1")
        if self.kind is TransitionKind.STINGER and not self.stinger_path:
            raise ValueError("a stinger transition needs a clip")


def draw_transition(
    kind: TransitionKind,
    position: float,
    a: np.ndarray,
    b: np.ndarray,
    out: np.ndarray,
    stinger: VideoFrame | None = None,
    cut_point: float = 0.5,
) -> None:
    """Draw the mix of canvases ``a`` (outgoing) and ``b`` (incoming) at ``position`` into ``out``."""
    t = min(max(position, 0.0), 1.0)
    if kind is TransitionKind.CUT:
        np.copyto(out, b if t >= 0.5 else a)
    elif kind is TransitionKind.FADE:
        cv2.addWeighted(a, 1.0 - t, b, t, 0.0, dst=out)
    elif kind is TransitionKind.SLIDE:
        # B slides in from the right, pushing A out to the left
        w = out.shape[1]
        shift = int(round(w * t))
        if shift < w:
            out[:, : w - shift] = a[:, shift:]
        if shift > 0:
            out[:, w - shift:] = b[:, :shift]
    elif kind is TransitionKind.STINGER:
        np.copyto(out, b if t >= cut_point else a)
        if stinger is not None:
            _over(out, stinger)
    else:  # pragma: no cover
        raise ValueError(f"unknown transition {kind}")


def _over(canvas: np.ndarray, frame: VideoFrame) -> None:
    px = frame.pixels
    if px.shape[:2] != canvas.shape[:2]:
        px = cv2.resize(px, (canvas.shape[1], canvas.shape[0]), interpolation=cv2.INTER_LINEAR)
    if frame.opaque:
        np.copyto(canvas, px)
        return
    inv = cv2.merge([255 - px[:, :, 3]] * 4)
    cv2.add(px, cv2.multiply(canvas, inv, scale=1.0 / 255.0), dst=canvas)
