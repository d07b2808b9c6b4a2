"""A machine-readable time stamp drawn into the pixels, for glass-to-glass latency benchmarks.

It survives H.264 at a few Mbps and rescaling: big black/white cells, timing patterns to find the
scale, and a CRC so a damaged read gives ``None``, never a wrong value.

Layout (port this to the browser decoder exactly)
-------------------------------------------------

* A grid of ``COLS = 20`` x ``ROWS = 5`` square cells of ``CELL = 16`` px as drawn (320 x 80 px),
  anchored at the TOP-LEFT corner of the picture (pixel (0, 0)). Cell (row r, col c) covers
  x in [c*CELL, (c+1)*CELL), y in [r*CELL, (r+1)*CELL). A cell is white (B=G=R=255) for bit 1 and
  black (0) for bit 0; alpha is 255.
* Timing patterns: row 0 and column 0 alternate, starting white at (0, 0): cell (0, c) is white
  when c is even, cell (r, 0) is white when r is even.
* Data: the 76 cells of rows 1..4, columns 1..19, read row by row, left to right (row-major).
  Bit i (i = 0 first) goes to cell (1 + i // 19, 1 + i % 19):
    - bits 0..43:  the value, 44 bits, most significant bit first. The studio writes the wall clock
      in milliseconds, ``time.time_ns() // 1_000_000 % 2**44`` (JS: ``Date.now() % 2**44``);
    - bits 44..59: the frame number modulo 2**16, most significant bit first;
    - bits 60..75: CRC-16/CCITT-FALSE (polynomial 0x1021, initial value 0xFFFF, no reflection, no
      final xor) computed bit by bit over bits 0..59 in that order, most significant bit first.
      For each payload bit b: ``fb = ((crc >> 15) & 1) ^ b; crc = (crc << 1) & 0xFFFF;
      if fb: crc ^= 0x1021``.

Reading (``read_stamp``; the JS port follows the same steps)
------------------------------------------------------------

1. Luma: ``Y = 0.299 R + 0.587 G + 0.114 B`` (or the Y plane as is). Only the top-left
   ``COLS*MAX_CELL`` x ``ROWS*MAX_CELL`` pixels matter.
2. The cell size ``s`` (pixels per cell in this picture) is unknown after scaling: try
   ``s = MIN_CELL * 1.01**k`` up to ``MAX_CELL`` (and up to what fits the picture). For each ``s``
   take the mean luma of a box of half-size ``floor(0.2*s)`` around each timing cell's centre
   ``((c + 0.5)*s, (r + 0.5)*s)`` (floor of the coordinates). The margin is min(white timing means)
   - max(black timing means). Keep the ``s`` with the largest margin; the chosen ``s`` is the middle of
   the contiguous run of candidates whose margin exceeds ``MIN_CONTRAST`` (40) around it.
3. At that ``s``, take every cell's box mean (half-size ``floor(0.25*s)``); threshold = mean of the
   white timing means and the black timing means; contrast = their difference. Every timing cell
   must be on its side of the threshold. A data cell whose mean is within ``0.15*contrast`` of the
   threshold is ambiguous: no read. Bit = mean > threshold.
4. The CRC must match; else try the other candidates of the run (nearest the middle first) and
   give up (None) when none matches.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np

CELL = 16
COLS = 20
ROWS = 5
STAMP_WIDTH = COLS * CELL
STAMP_HEIGHT = ROWS * CELL
VALUE_BITS = 44
FRAME_BITS = 16
CRC_BITS = 16
DATA_BITS = VALUE_BITS + FRAME_BITS + CRC_BITS  # 76 == (ROWS - 1) * (COLS - 1)
MIN_CELL = 3.0
MAX_CELL = 64.0
MIN_CONTRAST = 40.0
_SCALE_STEP = 1.01
_AMBIGUOUS = 0.15

assert DATA_BITS == (ROWS - 1) * (COLS - 1)


@dataclass(frozen=True)
class Stamp:
    value: int  # the 44-bit value (wall clock ms modulo 2**44)
    frame_number: int  # 16 bits
    cell_px: float  # cell size found in the picture that was read


def wall_clock_ms() -> int:
    """The value the studio stamps: wall-clock milliseconds modulo 2**44 (JS: Date.now() % 2**44)."""
    return time.time_ns() // 1_000_000 % (1 << VALUE_BITS)


def age_ms(value: int, now_ms: int | None = None) -> int:
    """Milliseconds from a stamped value to ``now_ms`` (default: now), across the 2**44 wrap."""
    now = wall_clock_ms() if now_ms is None else now_ms
    return (now - value) % (1 << VALUE_BITS)


def crc16(bits: np.ndarray | list[int]) -> int:
    """CRC-16/CCITT-FALSE over a bit sequence, most significant bit first."""
    crc = 0xFFFF
    for b in bits:
        fb = ((crc >> 15) & 1) ^ int(b)
        crc = (crc << 1) & 0xFFFF
        if fb:
            crc ^= 0x1021
    return crc


def _to_bits(value: int, n: int) -> list[int]:
    return [(value >> (n - 1 - i)) & 1 for i in range(n)]


def _from_bits(bits: np.ndarray) -> int:
    out = 0
    for b in bits:
        out = (out << 1) | int(b)
    return out


def _timing() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, cols and expected whiteness of the timing cells (row 0, then column 0 below it)."""
    rows = [0] * COLS + list(range(1, ROWS))
    cols = list(range(COLS)) + [0] * (ROWS - 1)
    white = [c % 2 == 0 for c in range(COLS)] + [r % 2 == 0 for r in range(1, ROWS)]
    return np.array(rows), np.array(cols), np.array(white)


_T_ROWS, _T_COLS, _T_WHITE = _timing()
_D_ROWS = np.array([1 + i // (COLS - 1) for i in range(DATA_BITS)])
_D_COLS = np.array([1 + i % (COLS - 1) for i in range(DATA_BITS)])


def stamp_cells(value: int, frame_number: int) -> np.ndarray:
    """The ROWS x COLS grid of the stamp as booleans (True = white)."""
    if not 0 <= value < (1 << VALUE_BITS):
        raise ValueError(f"stamp value {value} is outside 0..2**44-1")
    payload = _to_bits(value, VALUE_BITS) + _to_bits(frame_number & 0xFFFF, FRAME_BITS)
    bits = payload + _to_bits(crc16(payload), CRC_BITS)
    grid = np.zeros((ROWS, COLS), bool)
    grid[_T_ROWS, _T_COLS] = _T_WHITE
    grid[_D_ROWS, _D_COLS] = np.array(bits, bool)
    return grid


def draw_stamp(region: np.ndarray, value: int, frame_number: int, cell: int = CELL) -> None:
    """Draw the stamp into the top-left of ``region`` (HxWx4 BGRA or HxWx3 BGR uint8, in place).

    ``region`` should be the top-left of the picture: readers look for the stamp at pixel (0, 0).
    """
    if region.dtype != np.uint8 or region.ndim != 3 or region.shape[2] not in (3, 4):
        raise ValueError(f"draw_stamp: needs an HxWx3/4 uint8 array, got {region.dtype} {region.shape}")
    if cell < 1:
        raise ValueError(f"draw_stamp: cell size {cell} must be >= 1")
    h, w = ROWS * cell, COLS * cell
    if region.shape[0] < h or region.shape[1] < w:
        raise ValueError(
            f"draw_stamp: region {region.shape[1]}x{region.shape[0]} is smaller than the stamp {w}x{h}"
        )
    grid = stamp_cells(value, frame_number)
    lum = np.repeat(np.repeat(grid, cell, axis=0), cell, axis=1).astype(np.uint8) * 255
    region[:h, :w, :3] = lum[:, :, None]
    if region.shape[2] == 4:
        region[:h, :w, 3] = 255


def _luma(image: np.ndarray) -> np.ndarray:
    """The top-left crop that can hold the stamp, as uint8 luma (BT.601 weights, as in the docstring)."""
    crop_h = int(ROWS * MAX_CELL) + 1
    crop_w = int(COLS * MAX_CELL) + 1
    if image.ndim == 3 and image.shape[2] in (3, 4):
        crop = np.ascontiguousarray(image[:crop_h, :crop_w, :3])
        if crop.dtype != np.uint8:
            crop = np.clip(crop, 0, 255).astype(np.uint8)
        gray: np.ndarray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
        return gray
    if image.ndim == 2:
        out = np.ascontiguousarray(image[:crop_h, :crop_w])
        return out if out.dtype == np.uint8 else np.clip(out, 0, 255).astype(np.uint8)
    raise ValueError(f"read_stamp: expected a gray, BGR or BGRA image, got shape {image.shape}")


def _box_means(integral: np.ndarray, ys: np.ndarray, xs: np.ndarray, half: np.ndarray) -> np.ndarray:
    """Mean over boxes [y-half, y+half] x [x-half, x+half] using a summed-area table."""
    h, w = integral.shape[0] - 1, integral.shape[1] - 1
    y0 = np.clip(ys - half, 0, h)
    y1 = np.clip(ys + half + 1, 0, h)
    x0 = np.clip(xs - half, 0, w)
    x1 = np.clip(xs + half + 1, 0, w)
    area = np.maximum((y1 - y0) * (x1 - x0), 1)
    total = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
    return total / area


def _timing_margin(integral: np.ndarray, scales: np.ndarray) -> np.ndarray:
    s = scales[:, None]
    ys = np.floor((_T_ROWS[None, :] + 0.5) * s).astype(np.int64)
    xs = np.floor((_T_COLS[None, :] + 0.5) * s).astype(np.int64)
    half = np.floor(0.2 * s).astype(np.int64)
    means = _box_means(integral, ys, xs, half)
    result: np.ndarray = means[:, _T_WHITE].min(axis=1) - means[:, ~_T_WHITE].max(axis=1)
    return result


def _decode_at(integral: np.ndarray, s: float) -> Stamp | None:
    half = np.array(int(np.floor(0.25 * s)))
    t_means = _box_means(
        integral,
        np.floor((_T_ROWS + 0.5) * s).astype(np.int64),
        np.floor((_T_COLS + 0.5) * s).astype(np.int64),
        half,
    )
    white, black = t_means[_T_WHITE].mean(), t_means[~_T_WHITE].mean()
    thr, contrast = (white + black) / 2, white - black
    if contrast < MIN_CONTRAST or (t_means[_T_WHITE] <= thr).any() or (t_means[~_T_WHITE] >= thr).any():
        return None
    d_means = _box_means(
        integral,
        np.floor((_D_ROWS + 0.5) * s).astype(np.int64),
        np.floor((_D_COLS + 0.5) * s).astype(np.int64),
        half,
    )
    if (np.abs(d_means - thr) < _AMBIGUOUS * contrast).any():
        return None
    bits = (d_means > thr).astype(np.uint8)
    payload = bits[: VALUE_BITS + FRAME_BITS]
    if crc16(payload) != _from_bits(bits[VALUE_BITS + FRAME_BITS :]):
        return None
    return Stamp(
        value=_from_bits(bits[:VALUE_BITS]),
        frame_number=_from_bits(bits[VALUE_BITS : VALUE_BITS + FRAME_BITS]),
        cell_px=float(s),
    )


def read_stamp(image: np.ndarray) -> Stamp | None:
    """Find and decode the stamp at the top-left of ``image`` (gray/Y, BGR or BGRA); None when
    there is none or it cannot be read with certainty. To read a stamp elsewhere, pass a crop."""
    gray = _luma(image)
    h, w = gray.shape
    top = min(MAX_CELL, w / COLS, h / ROWS)
    if top < MIN_CELL:
        return None
    n = int(np.floor(np.log(top / MIN_CELL) / np.log(_SCALE_STEP))) + 1
    scales = MIN_CELL * _SCALE_STEP ** np.arange(n)
    integral = cv2.integral(gray, sdepth=cv2.CV_32S)  # (h + 1) x (w + 1) summed-area table
    margins = _timing_margin(integral, scales)
    best = int(np.argmax(margins))
    if margins[best] < MIN_CONTRAST:
        return None
    lo = hi = best
    while lo > 0 and margins[lo - 1] >= MIN_CONTRAST:
        lo -= 1
    while hi < n - 1 and margins[hi + 1] >= MIN_CONTRAST:
        hi += 1
    mid = (lo + hi) / 2
    for k in sorted(range(lo, hi + 1), key=lambda i: abs(i - mid)):
        stamp = _decode_at(integral, float(scales[k]))
        if stamp is not None:
            return stamp
    return None
