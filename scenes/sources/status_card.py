"""Cards a source shows instead of its picture when it has none to give ("NO SIGNAL", "MEDIA ERROR")."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from scenes.frame import VideoFrame

_BACKGROUND = (32, 24, 24, 255)  # BGRA, dark slate
_TITLE = (235, 235, 235, 255)
_DETAIL = (170, 170, 170, 255)
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_MAX_DETAIL = 200


def _ascii(text: str) -> str:
    # OpenCV's Hershey fonts only draw ASCII; anything else would come out as garbage.
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in text)


def _fit(text: str, width: int, height: int, max_scale: float) -> tuple[float, int]:
    """The largest scale (<= max_scale) at which ``text`` fits into width x height, and its thickness."""
    (tw, th), _ = cv2.getTextSize(text, _FONT, 1.0, 1)
    scale = min(max_scale, width / max(tw, 1), height / max(th, 1))
    return max(scale, 0.1), max(1, int(round(scale * 2)))


@lru_cache(maxsize=64)
def status_card(width: int, height: int, title: str, detail: str = "") -> VideoFrame:
    """A dark opaque card with a big ``title`` and one ``detail`` line, width x height.

    Cached by its arguments: a source stuck in an error state returns the same frame (and serial)
    every tick, which costs nothing and lets the compositor reuse its scaled copy.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"status card size must be positive, got {width}x{height}")
    px = np.empty((height, width, 4), np.uint8)
    px[:] = _BACKGROUND
    title = _ascii(title) or " "
    detail = _ascii(detail)
    if len(detail) > _MAX_DETAIL:
        detail = detail[: _MAX_DETAIL - 3] + "..."
    margin = max(2, width // 20)
    usable = max(1, width - 2 * margin)

    scale, thick = _fit(title, usable, max(1, height // 6), max(0.1, height / 120))
    (tw, th), _ = cv2.getTextSize(title, _FONT, scale, thick)
    title_y = height // 2 if not detail else int(height * 0.47)
    cv2.putText(px, title, ((width - tw) // 2, title_y), _FONT, scale, _TITLE, thick, cv2.LINE_AA)

    if detail:
        dscale, dthick = _fit(detail, usable, max(1, height // 20), max(0.1, scale * 0.35))
        dthick = max(1, dthick // 2)
        (dw, dh), _ = cv2.getTextSize(detail, _FONT, dscale, dthick)
        dy = title_y + max(dh * 2, height // 12)
        cv2.putText(px, detail, ((width - dw) // 2, dy), _FONT, dscale, _DETAIL, dthick, cv2.LINE_AA)
    # anti-aliased text on an opaque background keeps alpha at 255, so the card stays opaque
    px[:, :, 3] = 255
    return VideoFrame(px, opaque=True)
