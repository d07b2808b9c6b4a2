"""Adobe/Resolve ``.cube`` LUT files: parsed into arrays, with errors that say file, line and why.

3D tables list red fastest, then green, then blue; values are in DOMAIN_MIN..DOMAIN_MAX (default
0..1). 1D tables are per-channel curves. Parsed files are kept by (path, mtime, size), so every
source using one grade shares it and a saved edit of the file is picked up.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_3D = 256
MAX_1D = 65536
MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class CubeLut:
    title: str
    size: int
    table: np.ndarray  # 3D: (N_b, N_g, N_r, 3) RGB float32; 1D: (N, 3) RGB float32
    domain_min: tuple[float, float, float]
    domain_max: tuple[float, float, float]

    @property
    def is_3d(self) -> bool:
        return self.table.ndim == 4


def parse_cube(text: str, where: str = "LUT") -> CubeLut:
    title = ""
    size3 = size1 = 0
    dmin, dmax = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    rows: list[tuple[float, float, float]] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        key = parts[0].upper()
        try:
            if key == "TITLE":
                title = line[5:].strip().strip('"')
            elif key == "LUT_3D_SIZE":
                size3 = int(parts[1])
                if not 2 <= size3 <= MAX_3D:
                    raise ValueError(f"LUT_3D_SIZE {size3} is outside 2..{MAX_3D}")
            elif key == "LUT_1D_SIZE":
                size1 = int(parts[1])
                if not 2 <= size1 <= MAX_1D:
                    raise ValueError(f"LUT_1D_SIZE {size1} is outside 2..{MAX_1D}")
            elif key == "DOMAIN_MIN":
                dmin = _triple(parts[1:])
            elif key == "DOMAIN_MAX":
                dmax = _triple(parts[1:])
            elif key in ("LUT_3D_INPUT_RANGE", "LUT_1D_INPUT_RANGE"):
                lo, hi = float(parts[1]), float(parts[2])
                dmin, dmax = (lo, lo, lo), (hi, hi, hi)
            elif key[0].isdigit() or key[0] in "-+.":
                rows.append(_triple(parts))
            else:
                raise ValueError(f"unknown keyword {parts[0]!r}")
        except (ValueError, IndexError) as exc:
            msg = str(exc) if isinstance(exc, ValueError) and str(exc) else "malformed line"
            if "could not convert" in msg or "invalid literal" in msg:
                msg = f"not a number in {line!r}"
            raise ValueError(f"{where} line {lineno}: {msg}") from None
    if size3 and size1:
        raise ValueError(f"{where}: has both LUT_3D_SIZE and LUT_1D_SIZE")
    if not size3 and not size1:
        raise ValueError(f"{where}: no LUT_3D_SIZE or LUT_1D_SIZE line (is this a .cube file?)")
    if any(hi <= lo for lo, hi in zip(dmin, dmax, strict=True)):
        raise ValueError(f"{where}: DOMAIN_MAX must be above DOMAIN_MIN")
    expected = size3 ** 3 if size3 else size1
    if len(rows) != expected:
        raise ValueError(f"{where}: expected {expected} table rows for size {size3 or size1}, found {len(rows)}")
    data = np.asarray(rows, np.float32)
    if not np.isfinite(data).all():
        raise ValueError(f"{where}: the table holds a value that is not a finite number")
    table = data.reshape(size3, size3, size3, 3) if size3 else data
    return CubeLut(title, size3 or size1, table, dmin, dmax)


def _triple(parts: list[str]) -> tuple[float, float, float]:
    if len(parts) != 3:
        raise ValueError(f"expected three numbers, got {len(parts)}")
    return float(parts[0]), float(parts[1]), float(parts[2])


_cache: dict[tuple[str, int, int], CubeLut] = {}
_cache_lock = threading.Lock()


def load_cube(path: str | os.PathLike[str]) -> CubeLut:
    """Read and parse a .cube file (cached while the file is unchanged); ValueError naming the file."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise ValueError(f"{p}: cannot open the LUT ({exc.strerror or exc})") from None
    if st.st_size > MAX_BYTES:
        raise ValueError(f"{p}: {st.st_size} bytes is too large for a LUT")
    key = (str(p.resolve()), st.st_mtime_ns, st.st_size)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    try:
        text = p.read_text(encoding="utf-8", errors="strict")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{p}: cannot read the LUT ({exc})") from None
    lut = parse_cube(text, str(p))
    with _cache_lock:
        if len(_cache) > 16:
            _cache.clear()
        _cache[key] = lut
    return lut


def identity_cube_text(size: int) -> str:
    """An identity 3D LUT in .cube form (tests, and a template for users)."""
    steps = [i / (size - 1) for i in range(size)]
    lines = [f'TITLE "identity {size}"', f"LUT_3D_SIZE {size}"]
    lines += [f"{r:.6f} {g:.6f} {b:.6f}" for b in steps for g in steps for r in steps]
    return "\n".join(lines) + "\n"
