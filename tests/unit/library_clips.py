"""Real clips for the asset-library tests, encoded with PyAV, and the broken files a library must
flag: truncated, zero bytes, not video at all, audio only, a 2 GB sparse file of garbage."""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np

FPS = 25
RATE = 48_000


def make_clip(path: Path, frames: int = 25, size: tuple[int, int] = (160, 120), audio: bool = True,
              codec: str = "libx264", fmt: str | None = None) -> Path:
    """``frames`` frames whose grey level is the frame number * 8 (+ AAC/Opus sound when ``audio``)."""
    out = av.open(str(path), "w", format=fmt)
    v = out.add_stream(codec, rate=FPS)
    v.width, v.height, v.pix_fmt = size[0], size[1], "yuv420p"
    if codec == "libx264":
        v.options = {"preset": "ultrafast", "g": "5"}
    a = None
    if audio:
        a = out.add_stream("aac" if fmt != "webm" else "libopus", rate=RATE)
        a.layout = "stereo"
    written = 0
    for i in range(frames):
        img = np.full((size[1], size[0], 3), min(255, i * 8), np.uint8)
        f = av.VideoFrame.from_ndarray(img, format="rgb24")
        f.pts = i
        for p in v.encode(f):
            out.mux(p)
        while a is not None and written < (i + 1) * RATE // FPS:
            s = np.zeros((2, 960), np.float32)
            af = av.AudioFrame.from_ndarray(s, format="fltp", layout="stereo")
            af.sample_rate, af.pts = RATE, written
            written += 960
            for p in a.encode(af):
                out.mux(p)
    for p in v.encode():
        out.mux(p)
    if a is not None:
        for p in a.encode():
            out.mux(p)
    out.close()
    return path


def make_audio_only(path: Path) -> Path:
    out = av.open(str(path), "w")
    a = out.add_stream("aac", rate=RATE)
    a.layout = "stereo"
    for n in range(20):
        af = av.AudioFrame.from_ndarray(np.zeros((2, 1024), np.float32), format="fltp", layout="stereo")
        af.sample_rate, af.pts = RATE, n * 1024
        for p in a.encode(af):
            out.mux(p)
    for p in a.encode():
        out.mux(p)
    out.close()
    return path


def truncate(source: Path, path: Path) -> Path:
    """The first half of an MP4: its index (moov, at the end) is gone."""
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def zero_bytes(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def not_video(path: Path) -> Path:
    path.write_text("这不是视频 — just a text file with a video name\n" * 50, encoding="utf-8")
    return path


def sparse_garbage(path: Path, size: int = 2 * 1024**3) -> Path:
    """2 GB that takes no disk: random bytes at the start, a hole, random bytes at the end."""
    rng = np.random.default_rng(7)
    with open(path, "wb") as fh:
        fh.write(rng.integers(0, 256, 64 * 1024, dtype=np.uint8).tobytes())
        fh.seek(size - 64 * 1024)
        fh.write(rng.integers(0, 256, 64 * 1024, dtype=np.uint8).tobytes())
    assert os.path.getsize(path) == size
    return path
