"""`studio headless`: the show without a window, optionally recording and streaming.

With ``local_show`` (what `studio` does when there is no display) it also streams the program to
the embedded relay and prints the viewer URL.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from pathlib import Path

from studio.display import use_offscreen_qt
from studio.events import ClockStats
from studio.outputs.pipeline import StreamTarget
from studio.outputs.whip_events import OutputState
from studio.session import open_collection
from studio.show import Show
from studio.stream_token import resolve_token


def run_headless(args: argparse.Namespace, local_show: bool = False) -> int:
    use_offscreen_qt()
    collection, path = open_collection(args.collection, args.scene)
    token = resolve_token(args.stream, args.token_env) if args.stream else None
    show = Show(collection, serve_locally=local_show or not args.stream)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def on_stats(s: ClockStats) -> None:
        print(f"studio: {s.fps:5.1f} fps  render p50 {s.render_ms_p50:.1f} ms  lagged {s.lagged}", flush=True)

    def on_stream(state: OutputState) -> None:
        retry = f" (retry in {state.retry_in_s:.0f} s)" if state.retry_in_s else ""
        print(f"studio: stream {state.state.value}{': ' + state.message if state.message else ''}{retry}",
              flush=True)

    show.studio.events.stats.connect(on_stats)
    show.studio.events.source_problem.connect(
        lambda p: print(f"studio: source {p.source}: {p.message or 'recovered'}", flush=True))
    show.pipeline.stream_state.connect(on_stream)
    print(f"studio: headless show of {path} on scene {collection.program_scene!r}", flush=True)
    try:
        urls = show.start()
        if urls is not None:
            print(f"studio: watch the show at {urls.viewer}", flush=True)
        if args.record is not None:
            print(f"studio: recording to {show.start_recording(Path(args.record))}", flush=True)
        if args.stream:
            show.start_streaming(StreamTarget(args.stream, token))
        elif local_show:
            show.start_streaming()
        rundown = getattr(args, "rundown", None)
        if rundown is not None:
            executor = show.start_rundown(Path(rundown))
            executor.events.branch_taken.connect(
                lambda b: print(f"studio: branch {b.branch}: {b.option!r} ({b.decided_by}, votes {list(b.counts)})", flush=True))
            print(f"studio: running the rundown {rundown}", flush=True)
        started = time.monotonic()
        while not stop.wait(0.2):
            if args.seconds is not None and time.monotonic() - started >= args.seconds:
                break
    except KeyboardInterrupt:
        pass
    finally:
        show.stop()
    print(f"studio: stopped after {show.studio.frames} frames, {show.studio.lagged} lagged", flush=True)
    return 0
