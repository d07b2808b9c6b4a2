"""BGRA canvas -> YUV 4:2:0 for the encoders, into preallocated buffers that PyAV frames wrap.

OpenCV's ``COLOR_BGRA2YUV_I420`` (~0.5-1 ms at 1080p) is much faster than PyAV's ``reformat``
(swscale). Its output is BT.601 limited range, which ``tag_bt601`` writes into the stream's VUI so
decoders convert back with the same matrix. Alpha is ignored: the program canvas is premultiplied
over black, so dropping alpha is compositing over black.
"""

from __future__ import annotations

from typing import Protocol, cast

import av
import cv2
import numpy as np


class HasPixels(Protocol):
    """Anything carrying a BGRA ``pixels`` array (scenes.frame.VideoFrame, without importing scenes)."""

    @property
    def pixels(self) -> np.ndarray: ...


CanvasLike = np.ndarray | HasPixels


def canvas_pixels(frame: CanvasLike) -> np.ndarray:
    pixels = frame if isinstance(frame, np.ndarray) else frame.pixels
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 4:
        raise ValueError(f"canvas frame must be an HxWx4 uint8 BGRA array, got {pixels.dtype} {pixels.shape}")
    return pixels


class I420Buffer:
    """A preallocated I420 picture plus the ``av.VideoFrame`` that shares its memory (no copies)."""

    def __init__(self, width: int, height: int) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"I420 needs even dimensions, got {width}x{height}")
        self.width = width
        self.height = height
        self.array = np.zeros((height * 3 // 2, width), np.uint8)
        self.frame = av.VideoFrame.from_numpy_buffer(self.array, format="yuv420p")

    def fill_from_bgra(self, frame: CanvasLike) -> None:
        pixels = canvas_pixels(frame)
        if pixels.shape[1] != self.width or pixels.shape[0] != self.height:
            raise ValueError(
                f"canvas is {pixels.shape[1]}x{pixels.shape[0]}, encoder expects {self.width}x{self.height}"
            )
        cv2.cvtColor(pixels, cv2.COLOR_BGRA2YUV_I420, dst=self.array)

    def fill_scaled_from(self, src: I420Buffer) -> None:
        """This picture's size from another I420 picture, plane by plane. Integer ratios
        (1080p -> 540p/360p) average areas, which is fast there and does not alias; OpenCV's area
        mode is slow for other ratios (6 ms for 1080p -> 720p), where bilinear takes ~1 ms."""
        if (src.width, src.height) == (self.width, self.height):
            self.array[...] = src.array
            return
        integer = src.width % self.width == 0 and src.height % self.height == 0
        interpolation = cv2.INTER_AREA if integer else cv2.INTER_LINEAR
        cv2.resize(src.y, (self.width, self.height), dst=self.y, interpolation=interpolation)
        for s, d in zip(src.chroma(), self.chroma(), strict=True):
            cv2.resize(s, (self.width // 2, self.height // 2), dst=d, interpolation=interpolation)

    @property
    def y(self) -> np.ndarray:
        return self.array[: self.height]

    def chroma(self) -> tuple[np.ndarray, np.ndarray]:
        """U and V planes as (height/2, width/2) views."""
        h, w = self.height, self.width
        quarter = (h // 2) * (w // 2)
        flat = self.array.reshape(-1)
        u = flat[h * w : h * w + quarter].reshape(h // 2, w // 2)
        v = flat[h * w + quarter :].reshape(h // 2, w // 2)
        return u, v


class NV12Buffer:
    """Preallocated NV12 (interleaved UV) for hardware encoders that only take NV12 (QSV)."""

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.array = np.zeros((height * 3 // 2, width), np.uint8)
        self.frame = av.VideoFrame.from_numpy_buffer(self.array, format="nv12")
        # (h/2, w/2, 2) view of the UV rows: [..., 0] = U, [..., 1] = V
        self._uv = self.array[height:].reshape(height // 2, width // 2, 2)

    def fill_from_i420(self, src: I420Buffer) -> None:
        u, v = src.chroma()
        self.array[: self.height] = src.y
        self._uv[..., 0] = u
        self._uv[..., 1] = v


def bgra_to_i420(frame: CanvasLike) -> np.ndarray:
    """A new I420 array (tests and one-off use; the encoders fill preallocated buffers)."""
    return cast(np.ndarray, cv2.cvtColor(canvas_pixels(frame), cv2.COLOR_BGRA2YUV_I420))


def i420_to_bgr(i420: np.ndarray) -> np.ndarray:
    return cast(np.ndarray, cv2.cvtColor(i420, cv2.COLOR_YUV2BGR_I420))


# AVColorSpace / AVColorRange / AVColorPrimaries / AVColorTransferCharacteristic values
_SMPTE170M = 6  # BT.601 matrix (what OpenCV's I420 conversion uses)
_RANGE_MPEG = 1  # limited (16-235)
_BT709 = 1  # sRGB shares BT.709 primaries; its transfer is close to BT.709's


def tag_bt601(ctx: av.VideoCodecContext) -> None:
    """Signal BT.601 limited range in the SPS VUI so players use the matrix we converted with."""
    ctx.colorspace = _SMPTE170M
    ctx.color_range = _RANGE_MPEG
    ctx.color_primaries = _BT709
    ctx.color_trc = _BT709
