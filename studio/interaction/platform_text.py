"""Small helpers shared by the platform adapters: making a platform's fields safe to show, and
remembering recent message ids (platforms deliver some messages twice).

A platform is a source like any other: its text goes through the same character rules as a hub
viewer's (no control characters, bidi overrides or lone surrogates; capped lengths), numbers are
clamped, and nothing it sends can grow memory without bound.
"""

from __future__ import annotations

import math
from collections import OrderedDict

from studio.interaction.protocol import _BAD_CHARS


def clean_text(value: object, limit: int) -> str:
    """Plain, showable text of at most ``limit`` characters ("" for anything that is not text)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    text = _BAD_CHARS.sub("", str(value)).strip()
    return text[:limit]


def clean_int(value: object, lo: int, hi: int, default: int) -> int:
    """An integer within [lo, hi]; numbers in strings are accepted (some platforms quote them)."""
    if isinstance(value, bool):
        return default
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 20:
        value = int(value)
    if isinstance(value, float) and math.isfinite(value):
        value = int(value)
    if not isinstance(value, int):
        return default
    return max(lo, min(hi, value))


def clean_number(value: object, lo: float, hi: float, default: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return default
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return default
    if not math.isfinite(number):
        return default
    return max(lo, min(hi, number))


class RecentIds:
    """The last ``capacity`` ids seen: ``add`` says whether an id is new (bounded memory)."""

    def __init__(self, capacity: int = 50_000) -> None:
        if capacity < 1:
            raise ValueError(f"recent-id capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()

    def add(self, ident: str) -> bool:
        if ident in self._seen:
            self._seen.move_to_end(ident)
            return False
        self._seen[ident] = None
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._seen)
