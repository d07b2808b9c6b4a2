"""Premultiplied-alpha helpers shared by the filters (OpenCV on uint8, no per-pixel Python).

Frames are premultiplied BGRA. A filter that changes colour non-linearly (gamma, saturation, a
LUT, a key on chroma) must see straight colour, so it unpremultiplies, works, and premultiplies
again. Opaque frames skip both steps: their colour is already straight.
"""

from __future__ import annotations

import cv2
import numpy as np

from scenes.frame import VideoFrame


def straight_bgr(frame: VideoFrame) -> np.ndarray:
    """Straight (un-premultiplied) BGR of ``frame`` as a new HxWx3 uint8 array."""
    bgr = cv2.cvtColor(frame.pixels, cv2.COLOR_BGRA2BGR)
    if frame.opaque:
        return bgr
    alpha = cv2.cvtColor(frame.pixels[:, :, 3].copy(), cv2.COLOR_GRAY2BGR)
    # colour * 255 / alpha, rounded; OpenCV's divide gives 0 where alpha is 0 (nothing to show)
    return cv2.divide(bgr, alpha, scale=255.0)


def premultiplied(bgr: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """Straight BGR + alpha (None: opaque) -> a new premultiplied HxWx4 uint8 array."""
    if alpha is None:
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA)
    out = cv2.multiply(bgr, cv2.cvtColor(alpha, cv2.COLOR_GRAY2BGR), scale=1.0 / 255.0)
    return cv2.merge([out, alpha])


def alpha_of(frame: VideoFrame) -> np.ndarray | None:
    """The alpha plane (a copy), or None when the frame is opaque."""
    return None if frame.opaque else frame.pixels[:, :, 3].copy()


def scale_premultiplied(pixels: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """Multiply every channel of premultiplied BGRA by ``factor`` (HxW uint8, 255 = keep): the
    correct way to make a premultiplied picture more transparent."""
    return cv2.multiply(pixels, spread4(factor), scale=1.0 / 255.0)


def spread4(plane: np.ndarray) -> np.ndarray:
    """One HxW plane on all four channels (GRAY2BGRA would set the fourth to 255)."""
    return cv2.merge([plane, plane, plane, plane])
