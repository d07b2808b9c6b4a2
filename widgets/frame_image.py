"""Engine pixels -> a QImage the UI owns, scaled down off the interpreter lock.

The engine publishes premultiplied BGRA canvases it reuses, so a view must copy what it shows.
Copying a 1080p canvas into a QImage and letting QPainter scale it at paint time both run with the
interpreter lock held (PySide6 keeps it for QImage.copy and drawImage): ~5 ms per frame per view
on a 2-core machine, during which the video clock and the network thread cannot run Python.
OpenCV's resize releases the lock, and the copy that follows is of the small picture.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtGui import QImage


def owned_image(px: np.ndarray) -> QImage:
    """``px`` (HxWx4 premultiplied BGRA) copied into a QImage, unscaled."""
    return _wrap(px).copy()


def _wrap(px: np.ndarray) -> QImage:
    return QImage(px.data, px.shape[1], px.shape[0], px.strides[0], QImage.Format.Format_ARGB32_Premultiplied)


def scaled_image(px: np.ndarray, w: int, h: int) -> QImage:
    """``px`` (HxWx4 premultiplied BGRA) fitted into w x h with its aspect kept, as an owned QImage."""
    sh, sw = px.shape[:2]
    k = min(w / sw, h / sh)
    return resized_image(px, max(1, int(sw * k)), max(1, int(sh * k)))


def resized_image(px: np.ndarray, w: int, h: int) -> QImage:
    """``px`` resized to exactly w x h, as an owned QImage."""
    # bilinear: ~1 ms for 1080p -> 640 wide; INTER_AREA at a non-integer ratio costs 30-50x more and
    # stalled the UI thread (bench ui --multiview), for a monitoring picture that does not need it
    small = cv2.resize(px, (w, h), interpolation=cv2.INTER_LINEAR)
    return _wrap(small).copy()
