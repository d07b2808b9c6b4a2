"""The garbage collector's passes while a bench measures (``gc.callbacks``).

A collection holds the GIL from start to end, so a long one stalls the UI and the clock however
idle they are. Wall time alone reads high on a busy machine (the collecting thread waits for a
core); the collecting thread's CPU time says what the pass itself cost.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GcPass:
    generation: int
    wall_ms: float
    cpu_ms: float  # the collecting thread's CPU time
    collected: int


class GcPasses:
    """Every collection between ``start`` and ``stop``."""

    def __init__(self) -> None:
        self.passes: list[GcPass] = []
        self._started: tuple[float, float] | None = None
        self._watching = False

    def start(self) -> None:
        if not self._watching:
            gc.callbacks.append(self._on_gc)
            self._watching = True

    def stop(self) -> None:
        if self._watching:
            gc.callbacks.remove(self._on_gc)
            self._watching = False

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = (time.perf_counter(), time.thread_time())
            return
        if self._started is None:  # watching began inside a pass
            return
        wall, cpu = self._started
        self._started = None
        self.passes.append(GcPass(info["generation"], (time.perf_counter() - wall) * 1000.0,
                                  (time.thread_time() - cpu) * 1000.0, info["collected"]))

    def summary(self) -> dict[str, Any]:
        """Per generation: passes, the longest (wall and CPU ms); and the objects a full pass would
        walk now (tracked and not frozen: ``gc.freeze`` keeps the rest out)."""
        by_generation: dict[str, Any] = {}
        for generation in range(3):
            passes = [p for p in self.passes if p.generation == generation]
            by_generation[str(generation)] = {
                "passes": len(passes),
                "max_wall_ms": round(max((p.wall_ms for p in passes), default=0.0), 1),
                "max_cpu_ms": round(max((p.cpu_ms for p in passes), default=0.0), 1),
            }
        return {"by_generation": by_generation, "full_pass_objects": len(gc.get_objects()),
                "frozen_objects": gc.get_freeze_count()}
