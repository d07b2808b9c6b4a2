"""Facts and overviews of a clip read with PyAV: length, frame rate, a thumbnail strip, a waveform.

All of this is file I/O and decoding: call it on a worker thread, never the UI or video clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

NS = 1_000_000_000


@dataclass(frozen=True)
class ClipInfo:
    path: str
    duration_s: float  # the video's length when there is video (frames / rate), else the container's
    fps: float | None
    frames: int | None
    width: int
    height: int
    has_video: bool
    has_audio: bool

    @property
    def frame_s(self) -> float:
        return 1.0 / self.fps if self.fps else 1.0 / 30.0


def _open(path: str | Path) -> av.container.InputContainer:
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"clip not found: {p}")
    try:
        return av.open(str(p), "r")
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{p.name}: not a playable media file ({exc})") from None


def probe_clip(path: str | Path) -> ClipInfo:
    """Read a clip's length and format without decoding it (raises ValueError naming the file)."""
    with _open(path) as c:
        vs = c.streams.video[0] if c.streams.video else None
        has_audio = bool(c.streams.audio)
        container_s = (c.duration or 0) / 1_000_000
        if vs is None:
            return ClipInfo(str(path), container_s, None, None, 0, 0, False, has_audio)
        rate = vs.average_rate or vs.guessed_rate
        fps = float(rate) if rate else None
        frames = int(vs.frames) if vs.frames else None
        if vs.duration is not None and vs.time_base is not None:
            duration = float(vs.duration * vs.time_base)
        else:
            duration = container_s
        if frames and fps:
            duration = frames / fps  # exact for constant-rate clips; what the picture really lasts
        return ClipInfo(str(path), duration, fps, frames, vs.codec_context.width, vs.codec_context.height,
                        True, has_audio)


def thumbnails(path: str | Path, count: int, height: int = 54,
               cancelled: Callable[[], bool] = lambda: False) -> list[tuple[float, np.ndarray]]:
    """``count`` BGRA thumbnails evenly spaced over the clip: [(clip seconds, pixels)]."""
    if count <= 0:
        return []
    info = probe_clip(path)
    if not info.has_video:
        return []
    width = max(1, round(height * info.width / max(1, info.height)))
    out: list[tuple[float, np.ndarray]] = []
    with _open(path) as c:
        vs = c.streams.video[0]
        vs.thread_type = "AUTO"
        origin = vs.start_time or 0
        for i in range(count):
            if cancelled():
                break
            t = info.duration_s * (i + 0.5) / count
            target = origin + int(t / float(vs.time_base or Fraction(1, 90_000)))
            try:
                c.seek(target, stream=vs, backward=True)
            except av.FFmpegError:
                break
            picked = None
            for frame in c.decode(vs):
                picked = frame
                if frame.pts is not None and frame.pts >= target:
                    break
            if picked is None:
                continue
            bgr = picked.to_ndarray(format="bgr24", width=width, height=height)
            out.append((t, cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA)))
    return out


def waveform(path: str | Path, buckets: int, cancelled: Callable[[], bool] = lambda: False) -> np.ndarray:
    """Peak level (0..1) of the clip's sound in ``buckets`` equal spans; zeros when it has none."""
    peaks = np.zeros(max(0, buckets), np.float32)
    if buckets <= 0:
        return peaks
    info = probe_clip(path)
    if not info.has_audio:
        return peaks
    with _open(path) as c:
        a = c.streams.audio[0]
        total = max(info.duration_s, 1e-3)
        for frame in c.decode(a):
            if cancelled():
                break
            if frame.pts is None or frame.time_base is None:
                continue
            t0 = float(frame.pts * frame.time_base)
            samples = frame.to_ndarray()
            if samples.dtype.kind == "i":
                samples = samples.astype(np.float32) / float(2 ** (8 * samples.dtype.itemsize - 1))
            channels = max(1, len(frame.layout.channels))
            if frame.format.is_planar:
                mono = np.abs(samples).max(axis=0)
            else:
                mono = np.abs(samples.reshape(-1, channels)).max(axis=1)
            n = len(mono)
            if n == 0:
                continue
            t = t0 + np.arange(n) / frame.sample_rate
            idx = np.clip((t / total * buckets).astype(int), 0, buckets - 1)
            np.maximum.at(peaks, idx, mono.astype(np.float32))
    return np.clip(peaks, 0.0, 1.0)


def frames_of(seconds: float, fps: int) -> int:
    """Seconds -> a whole number of program frames (nearest)."""
    return int(math.floor(seconds * fps + 0.5))
