"""Video frames as they travel between sources and the compositor."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

_serials = itertools.count(1)


def next_serial() -> int:
    """A process-wide increasing id, so caches can tell a new picture from an old one."""
    return next(_serials)


@dataclass(frozen=True, slots=True)
class VideoFrame:
    """A BGRA uint8 picture with premultiplied alpha.

    ``opaque`` lets the compositor copy instead of blend; ``serial`` changes whenever the pixels
    do (scaled copies are cached by it); ``pts_ns`` is the source's own presentation time.
    """

    pixels: np.ndarray
    opaque: bool = False
    serial: int = field(default_factory=next_serial)
    pts_ns: int = 0

    def __post_init__(self) -> None:
        p = self.pixels
        if p.dtype != np.uint8 or p.ndim != 3 or p.shape[2] != 4:
            raise ValueError(f"VideoFrame needs an HxWx4 uint8 array, got {p.dtype} {p.shape}")

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


def premultiply(bgra: np.ndarray) -> np.ndarray:
    """Straight-alpha BGRA -> premultiplied BGRA (new array)."""
    alpha = bgra[:, :, 3:4].astype(np.uint16)
    out = (bgra[:, :, :3].astype(np.uint16) * alpha + 127) // 255
    return np.concatenate([out.astype(np.uint8), bgra[:, :, 3:4]], axis=2)


def solid(width: int, height: int, bgra: tuple[int, int, int, int]) -> np.ndarray:
    """A premultiplied solid-colour picture from a straight-alpha colour."""
    b, g, r, a = bgra
    px = np.empty((height, width, 4), np.uint8)
    px[:] = ((b * a + 127) // 255, (g * a + 127) // 255, (r * a + 127) // 255, a)
    return px
