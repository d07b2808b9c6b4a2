"""What the outputs do with a canvas above 1080p, on this machine: the output plan.

- A hardware encoder opens here: record the full canvas on it, stream 1080p (its own scaled
  encode, ``output_scaling``).
- libx264 only: record the largest size it keeps up with, stream 1080p. The figure comes from
  ``encoders.capability`` ("libx264 encodes 3840×2160 at N fps here"); encode time follows the
  pixel count, so the recording and the stream's scaled encode together must fit in 1/HEADROOM of
  a second per second. Below the canvas, the recording is the canvas scaled on the encoder's thread
  (the canvas and the compositor stay 4K). When not even 720p fits, it records 720p and says a
  hardware encoder is needed.

``choose_plan`` is pure (tests give it the figures); ``plan_outputs`` probes and measures, which
blocks for seconds: call it from a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from encoders import capability, probe
from encoders.capability import EncodeCapability
from encoders.settings import DEFAULT_X264_PRESET, SOFTWARE_ENCODER
from studio.outputs.output_scaling import DEFAULT_STREAM_MAX_HEIGHT, stream_max_height

# libx264 must keep this much above real time: the cores are shared with the compositor, sources
# and the network, and busy scenes cost more than the probe's picture
HEADROOM = 1.3
RECORD_HEIGHTS = (2160, 1440, 1080, 720)


@dataclass(frozen=True, slots=True)
class OutputPlan:
    canvas: tuple[int, int]
    fps: int
    record: tuple[int, int]  # the main encode (recording, RTMP/SRT destinations)
    stream_max_height: int | None  # None: the stream shares the main encode
    encoder: str  # what records: a hardware encoder's name or libx264
    capability: EncodeCapability | None
    needs_hardware: bool  # the canvas is not recorded at full size: a hardware encoder would

    @property
    def scaled(self) -> bool:
        return self.record != self.canvas

    @property
    def summary(self) -> str:
        """One plain line (headless output, logs)."""
        cw, ch = self.canvas
        rw, rh = self.record
        stream = f"streams {self.stream_max_height}p" if self.stream_max_height else f"streams {rw}×{rh}"
        if not self.scaled and self.encoder != SOFTWARE_ENCODER:
            return f"{cw}×{ch} canvas: records {rw}×{rh} on {self.encoder}, {stream}"
        measured = f"{self.capability.summary}; " if self.capability is not None else ""
        if not self.scaled:
            return f"{measured}records {rw}×{rh}, {stream}"
        hint = "; add a hardware encoder (NVENC, Quick Sync, AMF) to record 4K" if self.needs_hardware else ""
        return f"{measured}records {rw}×{rh} scaled from the {cw}×{ch} canvas, {stream}{hint}"


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def _size_at(canvas: tuple[int, int], height: int) -> tuple[int, int]:
    return (_even(canvas[0] * height / canvas[1]), height)


def choose_plan(canvas: tuple[int, int], fps: int, *, hardware: str | None,
                capability: EncodeCapability | None, stream_cap: int | None = None) -> OutputPlan:
    """The plan for this canvas, given the hardware encoder that opens here (None: libx264 only),
    libx264's measured figure (None: not measured; the canvas is then recorded as is) and the
    user's stream resolution (``stream_cap``: None 1080p, 0 the canvas, else that height)."""
    width, height = canvas
    if height <= DEFAULT_STREAM_MAX_HEIGHT or hardware is not None or capability is None:
        cap = stream_max_height(height, stream_cap) if height > DEFAULT_STREAM_MAX_HEIGHT else None
        return OutputPlan(canvas, fps, canvas, cap, hardware or SOFTWARE_ENCODER, capability, False)
    heights = [height] + [h for h in RECORD_HEIGHTS if h < height]
    for h in heights:
        record = _size_at(canvas, h)
        cap = stream_max_height(record[1], stream_cap)
        # seconds of encoding per second of show: the recording, plus the stream's own encode
        load = fps / capability.fps_at(*record)
        if cap is not None:
            load += fps / capability.fps_at(*_size_at(canvas, cap))
        if load * HEADROOM <= 1.0:
            return OutputPlan(canvas, fps, record, cap, SOFTWARE_ENCODER, capability, record != canvas)
    record = _size_at(canvas, heights[-1])
    return OutputPlan(canvas, fps, record, None, SOFTWARE_ENCODER, capability, True)


def hardware_encoder(usable: list[str]) -> str | None:
    """The first usable hardware encoder (usable_encoders' order is the preference)."""
    return next((name for name in usable if name != SOFTWARE_ENCODER), None)


def plan_outputs(
    canvas: tuple[int, int],
    fps: int,
    *,
    preset: str = DEFAULT_X264_PRESET,
    budget_s: float = capability.DEFAULT_BUDGET_S,
    usable: Callable[[], list[str]] = probe.usable_encoders,
    measure: Callable[..., EncodeCapability] = capability.cached_capability,
    stream_cap: int | None = None,
) -> OutputPlan:
    """Probe the encoders and, with libx264 only, measure it at the canvas size. Blocks for up to
    ``budget_s`` plus the probe: a worker thread's job."""
    if canvas[1] <= DEFAULT_STREAM_MAX_HEIGHT:
        return choose_plan(canvas, fps, hardware=None, capability=None)
    hardware = hardware_encoder(usable())
    found = None if hardware is not None else measure(*canvas, preset=preset, budget_s=budget_s)
    return choose_plan(canvas, fps, hardware=hardware, capability=found, stream_cap=stream_cap)
