"""The ``video-clock`` thread: calls a tick function at absolute deadlines and counts lag.

It sleeps to ``start + n * frame_duration`` (time.perf_counter_ns), never to "now + period", so
rounding never drifts. A tick that overruns its deadline makes the clock skip the frame slots it
missed (counted as *lagged*) instead of rushing to catch up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class VideoClock:
    def __init__(self, fps: int, tick: Callable[[int, int], None], name: str = "video-clock",
                 prepare: Callable[[], None] | None = None) -> None:
        """``tick(index, pts_ns)`` is called once per frame slot on the clock thread. ``prepare()``,
        if given, runs once on the clock thread before frame 0's time is taken: first-time costs
        (fonts, caches, page faults) paid there are not counted against any frame's deadline."""
        if fps <= 0:
            raise ValueError("fps must be positive")
        self.fps = fps
        self._tick = tick
        self._prepare = prepare
        self._name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames = 0
        self.lagged = 0
        self.started_ns = 0  # perf_counter_ns of frame 0: the origin of every pts on the timeline

    def pts_of(self, index: int) -> int:
        return index * 1_000_000_000 // self.fps

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("clock already started")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        if self._prepare is not None:
            try:
                self._prepare()
            except Exception:  # a failed warm-up only costs the first frames their deadline
                log.exception("video clock preparation failed")
        start = self.started_ns = time.perf_counter_ns()
        index = 0
        while not self._stop.is_set():
            try:
                self._tick(index, self.pts_of(index))
            except Exception:  # the show goes on: log and keep ticking
                log.exception("video clock tick %d failed", index)
            self.frames += 1
            index += 1
            now = time.perf_counter_ns()
            deadline = start + self.pts_of(index)
            if now > deadline:
                # overran: skip the slots whose deadline has already passed
                behind = (now - deadline) * self.fps // 1_000_000_000 + 1
                self.lagged += int(behind)
                index += int(behind)
                deadline = start + self.pts_of(index)
            self._stop.wait((deadline - time.perf_counter_ns()) / 1e9)
