"""`studio bench encode`: every H.264 encoder that opens here, 720p (3 Mbps) and 1080p (5 Mbps).

Frames are realistic moving content (gradients, moving shapes, scrolling text, textured noise),
converted BGRA -> I420 the way the engine does. For each encoder and case: fps (encode only,
single stream), per-frame latency p50/p95 and the bitrate achieved. For libx264 the presets around
the default are measured side by side, with the real-time headroom ratio (fps / 30) at 1080p30.
"""

from __future__ import annotations

import argparse
import functools
import time
from typing import Any

import cv2
import numpy as np

from encoders import probe
from encoders.capability import EncodeCapability, measure_encode
from encoders.colorspace import I420Buffer
from encoders.settings import DEFAULT_X264_PRESET, SOFTWARE_ENCODER, VideoEncoderSettings
from encoders.video import VideoEncoder
from studio.outputs.output_plan import choose_plan, hardware_encoder

HELP = "H.264 encoders that open here: fps and p95 latency at 720p/1080p, libx264 presets side by side"

CASES = ((1280, 720, 3000), (1920, 1080, 5000))
X264_PRESETS_COMPARED = ("ultrafast", "superfast", "veryfast")


@functools.lru_cache(maxsize=4)
def _texture(width: int, height: int) -> np.ndarray:
    """Soft fixed-seed grain, like fabric or skin detail (blurred, as a camera's optics would)."""
    noise = np.random.default_rng(7).normal(0.0, 14.0, (height, width)).astype(np.float32)
    return cv2.GaussianBlur(noise, (0, 0), 1.2).astype(np.int16)


def moving_card(width: int, height: int, index: int) -> np.ndarray:
    """A natural-looking BGRA frame that moves with ``index``: gradients, shapes, text, texture."""
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    phase = index / 30.0
    img = np.empty((height, width, 4), np.uint8)
    img[..., 0] = (110 + 90 * np.sin(2 * np.pi * (x * 1.3 + phase * 0.2)) * (0.6 + 0.4 * y)).astype(np.uint8)
    img[..., 1] = (100 + 80 * np.cos(2 * np.pi * (y * 0.9 - phase * 0.15)) * (0.5 + 0.5 * x)).astype(np.uint8)
    img[..., 2] = (120 + 100 * (x * 0.6 + y * 0.4) * np.cos(np.pi * phase * 0.1) ** 2).astype(np.uint8)
    img[..., 3] = 255
    texture = np.roll(_texture(width, height), index * 3, axis=1)  # detail that moves along
    img[..., :3] = np.clip(img[..., :3].astype(np.int16) + texture[..., None], 0, 255).astype(np.uint8)
    s = min(width, height)
    cx = int(width * (0.5 + 0.35 * np.sin(phase * 1.1)))
    cy = int(height * (0.5 + 0.3 * np.cos(phase * 0.7)))
    cv2.circle(img, (cx, cy), s // 7, (40, 180, 240, 255), -1, cv2.LINE_AA)
    cv2.circle(img, (cx - s // 20, cy - s // 20), s // 25, (250, 250, 250, 255), -1, cv2.LINE_AA)
    rx = int((index * width / 90) % width)
    cv2.rectangle(img, (rx, height * 2 // 3), (rx + s // 4, height * 2 // 3 + s // 6), (60, 60, 200, 255), -1)
    pts = np.array(
        [[width // 5, height // 5], [width // 3, height // 8 + index % 40], [width // 4, height // 2]],
        np.int32,
    )
    cv2.fillPoly(img, [pts], (200, 90, 30, 255), cv2.LINE_AA)
    scale = s / 360
    cv2.putText(
        img,
        f"Drama Live Studio  frame {index}",
        (width // 20, height // 10),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (255, 255, 255, 255),
        max(1, int(scale * 2)),
        cv2.LINE_AA,
    )
    ticker = "LIVE  Limited offer: silk scarf 49.90  -  vote now for the next scene  -  "
    offset = (index * 8) % width
    cv2.putText(
        img,
        ticker * 2,
        (width - offset - width // 2, height - height // 20),
        cv2.FONT_HERSHEY_DUPLEX,
        scale * 0.7,
        (20, 240, 240, 255),
        max(1, int(scale * 1.5)),
        cv2.LINE_AA,
    )
    return img


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frames", type=int, default=150, help="frames per case (default 150)")
    parser.add_argument("--resolution", default=None,
                        help="WxH (e.g. 3840x2160): the studio's own capability probe at this size beside "
                             "1080p, rounds interleaved, and the output plan it leads to (instead of the cases)")


def capability_side_by_side(width: int, height: int, rounds: int = 3, budget_s: float = 4.0) -> dict[str, Any]:
    """libx264 (the default preset) at ``width``x``height`` and at 1080p, measured by the same probe
    the studio runs (``encoders.capability``), alternating so both see the same load."""
    big: list[float] = []
    hd: list[float] = []
    for _ in range(rounds):
        hd.append(measure_encode(1920, 1080, budget_s=budget_s).fps)
        big.append(measure_encode(width, height, budget_s=budget_s).fps)
    big_fps, hd_fps = float(np.median(big)), float(np.median(hd))
    found = EncodeCapability(SOFTWARE_ENCODER, DEFAULT_X264_PRESET, width, height, big_fps, 0)
    plan = choose_plan((width, height), 30, hardware=hardware_encoder(probe.usable_encoders()), capability=found)
    return {
        "resolution": f"{width}x{height}",
        "preset": DEFAULT_X264_PRESET,
        "rounds": rounds,
        "x264_fps": round(big_fps, 1),
        "x264_fps_1080p": round(hd_fps, 1),
        "x264_fps_rounds": [round(f, 1) for f in big],
        "x264_fps_1080p_rounds": [round(f, 1) for f in hd],
        "pixel_ratio": round(width * height / (1920 * 1080), 2),
        "fps_ratio_1080p_over_resolution": round(hd_fps / big_fps, 2) if big_fps else None,
        "summary": found.summary,
        "plan": plan.summary,
    }


def _measure(settings: VideoEncoderSettings, frames: list[np.ndarray], count: int) -> dict[str, Any]:
    encoder = VideoEncoder(settings)
    picture = I420Buffer(settings.width, settings.height)
    latencies: list[float] = []
    total_bytes = 0
    started = time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        picture.fill_from_bgra(frames[i % len(frames)])
        for packet in encoder.encode(picture, i):
            total_bytes += len(packet.data)
        latencies.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    for packet in encoder.flush():
        total_bytes += len(packet.data)
    lat = np.array(latencies)
    return {
        "encoder": encoder.name,
        "preset": encoder.settings.preset
        or (DEFAULT_X264_PRESET if encoder.name == SOFTWARE_ENCODER else ""),
        "fps": round(count / elapsed, 1),
        "latency_ms_p50": round(float(np.percentile(lat, 50)), 2),
        "latency_ms_p95": round(float(np.percentile(lat, 95)), 2),
        "bitrate_kbps": round(total_bytes * 8 / (count / settings.fps) / 1000),
        "target_kbps": settings.bitrate_kbps,
        "fallbacks": [e.message for e in encoder.fallbacks],
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    resolution = getattr(args, "resolution", None)
    if resolution:
        width, height = (int(v) for v in str(resolution).lower().split("x"))
        return {"capability": capability_side_by_side(width, height)}
    count = max(10, int(getattr(args, "frames", 150)))
    probed = probe.probe_encoders()
    usable = [name for name, r in probed.items() if r.ok]
    results: list[dict[str, Any]] = []
    headroom: float | None = None
    for width, height, kbps in CASES:
        # 30 distinct frames cycled: frame generation stays out of the timed loop
        frames = [moving_card(width, height, i) for i in range(min(30, count))]
        for name in usable:
            presets = X264_PRESETS_COMPARED if name == SOFTWARE_ENCODER else ("",)
            for preset in presets:
                settings = VideoEncoderSettings(
                    encoder=name, width=width, height=height, fps=30, bitrate_kbps=kbps, preset=preset
                )
                row = {
                    "case": f"{height}p30",
                    "width": width,
                    "height": height,
                    **_measure(settings, frames, count),
                }
                row["default"] = name != SOFTWARE_ENCODER or preset == DEFAULT_X264_PRESET
                results.append(row)
                if name == SOFTWARE_ENCODER and preset == DEFAULT_X264_PRESET and height == 1080:
                    headroom = round(row["fps"] / 30, 2)
    return {
        "frames_per_case": count,
        "probe": {name: (r.pix_fmt if r.ok else f"unusable: {r.error[:120]}") for name, r in probed.items()},
        "default_x264_preset": DEFAULT_X264_PRESET,
        "x264_headroom_1080p30": headroom,
        "results": results,
    }
