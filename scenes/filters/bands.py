"""Two row bands of a per-pixel filter at once: one on the calling thread, one on a helper thread.

Filters run on the video clock's thread, once per new source frame, and a 1080p chroma key is a few
milliseconds of memory-bound OpenCV calls, which release the GIL but are not parallel inside
OpenCV. Splitting the rows in two halves the clock's wall time for that work on a machine with two
cores; the CPU time is the same. The helper is one process-wide daemon thread (``filter-band``),
started on first use, like asyncio's default executor: no filter owns it, so none has to stop it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

Band = Callable[[int, int], None]  # work on rows [start, stop)

_jobs: queue.SimpleQueue[tuple[Band, int, int, list[BaseException | None], threading.Event]] = queue.SimpleQueue()
_started = False
_start_lock = threading.Lock()


def _worker() -> None:
    while True:
        band, start, stop, error, done = _jobs.get()
        try:
            band(start, stop)
        except BaseException as exc:  # handed back to the caller, who raises it
            error[0] = exc
        finally:
            done.set()


def _ensure_worker() -> None:
    global _started
    with _start_lock:
        if not _started:
            threading.Thread(target=_worker, name="filter-band", daemon=True).start()
            _started = True


def run_in_two_bands(band: Band, rows: int, *, align: int = 2) -> None:
    """Run ``band`` over rows [0, rows) as two halves at once (the split is a multiple of
    ``align``); returns when both are done, raising what either raised."""
    half = (rows // 2) // align * align
    if half <= 0:
        band(0, rows)
        return
    _ensure_worker()
    error: list[BaseException | None] = [None]
    done = threading.Event()
    _jobs.put((band, half, rows, error, done))
    try:
        band(0, half)
    finally:
        done.wait()
    if error[0] is not None:
        raise error[0]
