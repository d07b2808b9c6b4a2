"""What an encoder keeps up with here: "libx264 (superfast) encodes 3840×2160 at N fps here".

``measure_encode`` times the configured encoder and preset on a few synthetic frames at the given
size (a textured picture that moves, so motion search and residuals cost what a show's do; flat
colour would flatter the encoder, pure noise would slander it). The first frame (an IDR, the
encoder warming up) is not timed. It blocks for up to ``budget_s``: call it from a worker thread
(``measure_in_background``), never the UI's or the video clock's. Figures are cached per process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import av
import cv2
import numpy as np

from encoders import probe
from encoders.settings import DEFAULT_X264_PRESET, SOFTWARE_ENCODER, VideoEncoderSettings

log = logging.getLogger(__name__)

DEFAULT_FRAMES = 8
DEFAULT_BUDGET_S = 4.0
DISTINCT_PICTURES = 3  # cycled: building 4K pictures costs more than encoding them


@dataclass(frozen=True, slots=True)
class EncodeCapability:
    encoder: str
    preset: str
    width: int
    height: int
    fps: float  # frames a second this encoder keeps at this size on this machine, now
    frames: int  # how many were timed

    @property
    def summary(self) -> str:
        preset = f" ({self.preset})" if self.preset else ""
        return f"{self.encoder}{preset} encodes {self.width}×{self.height} at {self.fps:.0f} fps here"

    def fps_at(self, width: int, height: int) -> float:
        """An estimate for another size: encode time follows the pixel count (x264 at fixed preset)."""
        return self.fps * (self.width * self.height) / (width * height)


def _pictures(width: int, height: int, count: int) -> list[av.VideoFrame]:
    rng = np.random.default_rng(17)
    yy, xx = np.mgrid[0:height, 0:width]
    base = ((xx * 255 // max(1, width - 1) + yy * 128 // max(1, height - 1)) % 256).astype(np.int16)
    # soft grain (blurred, as a camera's optics would): fabric/skin detail, like `studio bench encode`
    texture = cv2.GaussianBlur(rng.normal(0.0, 14.0, (height, width)).astype(np.float32), (0, 0), 1.2)
    texture = texture.astype(np.int16)
    frames = []
    for i in range(count):
        luma = np.clip(np.roll(base + texture, shift=(i * 6, i * 10), axis=(0, 1)), 0, 255).astype(np.uint8)
        chroma = np.full((height // 2, width), 128, np.uint8)
        chroma[:, : width // 2] = 128 + 8 * (i % 2)
        frames.append(av.VideoFrame.from_ndarray(np.vstack([luma, chroma]), format="yuv420p"))
    return frames


def measure_encode(
    width: int,
    height: int,
    *,
    encoder: str = SOFTWARE_ENCODER,
    preset: str = DEFAULT_X264_PRESET,
    fps: int = 30,
    bitrate_kbps: int = 5000,
    frames: int = DEFAULT_FRAMES,
    budget_s: float = DEFAULT_BUDGET_S,
) -> EncodeCapability:
    """Time ``frames`` frames (at least 2, stopping early once ``budget_s`` is spent). Blocks."""
    settings = VideoEncoderSettings(encoder=encoder, width=width, height=height, fps=fps,
                                    bitrate_kbps=bitrate_kbps,
                                    preset=preset if encoder == SOFTWARE_ENCODER else "")
    ctx = probe.open_codec_context(encoder, settings)
    pictures = _pictures(width, height, DISTINCT_PICTURES)
    if ctx.pix_fmt and ctx.pix_fmt != "yuv420p":
        pictures = [p.reformat(format=ctx.pix_fmt) for p in pictures]

    def encode(pts: int) -> None:
        picture = pictures[pts % len(pictures)]
        picture.pts = pts
        ctx.encode(picture)

    encode(0)  # the IDR and the encoder's warm-up: not what it costs per frame on air
    timed = 0
    started = time.perf_counter()
    deadline = started + budget_s
    while timed < max(2, frames):
        encode(timed + 1)
        timed += 1
        if timed >= 2 and time.perf_counter() >= deadline:
            break
    elapsed = time.perf_counter() - started
    ctx.encode(None)
    result = EncodeCapability(encoder, settings.preset, width, height, timed / elapsed, timed)
    log.info("%s (%d frames)", result.summary, timed)
    return result


_cache: dict[tuple[str, str, int, int], EncodeCapability] = {}
_cache_lock = threading.Lock()


def cached_capability(width: int, height: int, *, encoder: str = SOFTWARE_ENCODER,
                      preset: str = DEFAULT_X264_PRESET, budget_s: float = DEFAULT_BUDGET_S) -> EncodeCapability:
    """``measure_encode`` once per process and size (the machine does not change during a show)."""
    key = (encoder, preset, width, height)
    with _cache_lock:
        found = _cache.get(key)
    if found is None:
        found = measure_encode(width, height, encoder=encoder, preset=preset, budget_s=budget_s)
        with _cache_lock:
            _cache[key] = found
    return found


def measure_in_background(
    width: int,
    height: int,
    on_done: Callable[[EncodeCapability | None, str], None],
    *,
    preset: str = DEFAULT_X264_PRESET,
    budget_s: float = DEFAULT_BUDGET_S,
) -> threading.Thread:
    """Measure on an ``encode-capability`` thread; ``on_done(capability, "")`` or ``(None, why)``
    is called there. Join the returned thread before shutting down."""

    def work() -> None:
        try:
            found = cached_capability(width, height, preset=preset, budget_s=budget_s)
        except Exception as exc:  # noqa: BLE001 - the caller shows why, the studio keeps running
            on_done(None, f"{type(exc).__name__}: {exc}")
            return
        on_done(found, "")

    thread = threading.Thread(target=work, name="encode-capability", daemon=True)
    thread.start()
    return thread
