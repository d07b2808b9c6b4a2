"""Turns receiver bandwidth estimates (REMB) into encoder bitrate changes, calmly.

REMB arrives about once a second and wobbles; each change may reopen the encoder, so follow drops
at once (congestion hurts now) and rises only when they are large and the last change has settled.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class BitrateGovernor:
    def __init__(self, apply_kbps: Callable[[int], None], min_kbps: int, max_kbps: int,
                 start_kbps: int, settle_s: float = 3.0, clock: Callable[[], float] = time.monotonic) -> None:
        if not 0 < min_kbps <= max_kbps:
            raise ValueError(f"bitrate range {min_kbps}..{max_kbps} kbps is not valid")
        self._apply = apply_kbps
        self.min_kbps, self.max_kbps = min_kbps, max_kbps
        self.current_kbps = min(max(start_kbps, min_kbps), max_kbps)
        self._settle_s = settle_s
        self._clock = clock
        self._changed_at = -1e9
        self._lock = threading.Lock()

    def estimate(self, bps: int) -> None:
        """A new estimate from the receiver, in bits per second."""
        target = min(max(bps // 1000, self.min_kbps), self.max_kbps)
        with self._lock:
            now = self._clock()
            current = self.current_kbps
            dropping = target < current * 0.9
            rising = target > current * 1.15 and now - self._changed_at >= self._settle_s
            if not (dropping or rising):
                return
            # rise in steps so one optimistic estimate cannot overshoot the link
            new = target if dropping else min(target, int(current * 1.5))
            self.current_kbps = new
            self._changed_at = now
        self._apply(new)
