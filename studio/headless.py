"""`studio headless`: the engine without a window, optionally recording and streaming."""

from __future__ import annotations

import argparse
import signal
import threading
import time

from studio.display import use_offscreen_qt
from studio.engine import Studio
from studio.events import ClockStats
from studio.session import open_collection


def run_headless(args: argparse.Namespace) -> int:
    use_offscreen_qt()
    collection, path = open_collection(args.collection, args.scene)
    studio = Studio(collection)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def on_stats(s: ClockStats) -> None:
        print(f"studio: {s.fps:5.1f} fps  render p50 {s.render_ms_p50:.1f} ms  lagged {s.lagged}", flush=True)

    studio.events.stats.connect(on_stats)
    studio.events.source_problem.connect(
        lambda p: print(f"studio: source {p.source}: {p.message or 'recovered'}", flush=True))
    print(f"studio: headless show of {path} on scene {collection.program_scene!r}", flush=True)
    studio.start()
    started = time.monotonic()
    try:
        while not stop.wait(0.2):
            if args.seconds is not None and time.monotonic() - started >= args.seconds:
                break
    except KeyboardInterrupt:
        pass
    finally:
        studio.stop()
    print(f"studio: stopped after {studio._clock.frames} frames, {studio.lagged} lagged", flush=True)
    return 0
