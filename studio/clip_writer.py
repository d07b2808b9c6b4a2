"""Writes generated clips (H.264 + AAC, 48 kHz stereo): the demo's drama and the sync test clip."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

SAMPLE_RATE = 48_000


def write_clip(path: Path, frames: Iterable[np.ndarray], fps: int, size: tuple[int, int],
               audio: np.ndarray | None = None, crf: int = 23) -> None:
    """Encode BGR ``frames`` (and ``audio``, float32 (n, 2)) to ``path``; written to a temporary
    name first, so a half-written clip never takes the real name."""
    width, height = size
    tmp = path.with_name(path.name + ".part")
    with av.open(str(tmp), "w", format=path.suffix.lstrip(".") or "mp4") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast", "crf": str(crf), "g": str(fps)}
        sound = None
        if audio is not None:
            sound = out.add_stream("aac", rate=SAMPLE_RATE)
            sound.layout = "stereo"
        written = 0  # audio samples muxed so far: kept level with the pictures (interleaved file)
        for index, img in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
            if sound is not None and audio is not None:
                written = _mux_audio(out, sound, audio, written, (index + 1) * SAMPLE_RATE // fps)
        if sound is not None and audio is not None:
            _mux_audio(out, sound, audio, written, len(audio))
            for packet in sound.encode(None):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
    tmp.replace(path)


def _mux_audio(out: av.container.OutputContainer, sound: av.audio.stream.AudioStream, audio: np.ndarray,
               start: int, end: int) -> int:
    """Encode ``audio[start:end]`` in 1024-sample frames; returns where it stopped."""
    end = min(end, len(audio))
    while start + 1024 <= end or (end == len(audio) and start < end):
        block = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio[start:start + 1024].T),
                                           format="fltp", layout="stereo")
        block.sample_rate = SAMPLE_RATE
        block.pts = start
        for packet in sound.encode(block):
            out.mux(packet)
        start += len(audio[start:start + 1024])
    return start
