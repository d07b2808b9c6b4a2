"""A clap-and-flash clip: black and silent except for a white frame and a click at the same moments.

Used to measure audio/video sync end to end (the render test, `studio bench pipeline`): find the
flashes in the picture and the clicks in the sound of an output file and compare their times.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import av
import numpy as np

from studio.clip_writer import SAMPLE_RATE, write_clip

CLICK_LEVEL = 0.8


def write_sync_clip(path: Path, flashes_s: Sequence[float], seconds: float, fps: int = 30,
                    size: tuple[int, int] = (320, 240)) -> None:
    w, h = size
    flash_frames = {round(t * fps) for t in flashes_s}
    black, white = np.zeros((h, w, 3), np.uint8), np.full((h, w, 3), 255, np.uint8)
    samples = np.zeros((int(seconds * SAMPLE_RATE), 2), np.float32)
    for t in flashes_s:
        start = int(t * SAMPLE_RATE)
        samples[start:start + SAMPLE_RATE // 100] = CLICK_LEVEL  # a 10 ms click
    frames = (white if i in flash_frames else black for i in range(int(seconds * fps)))
    write_clip(path, frames, fps, size, samples)


def flash_times(path: Path, region: tuple[int, int, int, int]) -> list[float]:
    """Times of frames whose ``region`` (x, y, w, h) is bright, first frame of each flash."""
    x, y, w, h = region
    times: list[float] = []
    with av.open(str(path)) as container:
        previous = False
        for frame in _decoded(container, container.streams.video[0]):
            bright = float(frame.to_ndarray(format="gray")[y:y + h, x:x + w].mean()) > 200
            if bright and not previous and frame.time is not None:
                times.append(float(frame.time))
            previous = bright
    return times


def _decoded(container: Any, stream: Any) -> Iterator[Any]:
    """The stream's frames, skipping packets that do not decode, as a player does: a recording of a
    live stream (an SRT/RTMP capture stopped mid-write, a stream joined mid-packet) may hold a few."""
    for packet in container.demux(stream):
        try:
            yield from packet.decode()
        except av.InvalidDataError:
            continue


def click_times(path: Path, threshold: float = 0.6, min_gap_s: float = 0.5) -> list[float]:
    times: list[float] = []
    with av.open(str(path)) as container:
        for frame in _decoded(container, container.streams.audio[0]):
            if frame.time is None:
                continue
            samples = frame.to_ndarray()
            mono = samples[0] if samples.ndim == 2 and samples.shape[0] <= 8 else samples.reshape(-1)
            loud = np.nonzero(np.abs(mono) > threshold)[0]
            if len(loud):
                t = float(frame.time) + loud[0] / frame.sample_rate
                if not times or t - times[-1] > min_gap_s:
                    times.append(t)
    return times


def av_offsets_ms(flashes: Sequence[float], clicks: Sequence[float], tolerance_s: float = 0.4) -> list[float]:
    """Pair each flash with the nearest click (sound minus picture, in ms)."""
    offsets = []
    for f in flashes:
        nearest = min(clicks, key=lambda c: abs(c - f), default=None)
        if nearest is not None and abs(nearest - f) <= tolerance_s:
            offsets.append((nearest - f) * 1000)
    return offsets
