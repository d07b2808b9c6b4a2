"""`studio headless`: the engine without a window, optionally recording and streaming.

With ``local_show`` (what `studio` does when there is no display) it also starts the embedded
relay and interaction hub, streams the program to the relay and prints the viewer URL.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from pathlib import Path

from studio.audio.mixer import AudioMixer
from studio.display import use_offscreen_qt
from studio.engine import Studio
from studio.events import ClockStats
from studio.net.loop import NetLoop
from studio.outputs.pipeline import OutputPipeline, StreamTarget
from studio.outputs.whip_events import OutputState
from studio.services.local import LocalServices
from studio.session import open_collection
from studio.stream_token import resolve_token

log = logging.getLogger(__name__)


def run_headless(args: argparse.Namespace, local_show: bool = False) -> int:
    use_offscreen_qt()
    collection, path = open_collection(args.collection, args.scene)
    stream_url: str | None = args.stream
    token = resolve_token(stream_url, args.token_env) if stream_url else None
    studio = Studio(collection)
    mixer = AudioMixer()
    net = NetLoop()
    pipeline = OutputPipeline(studio, mixer, net=net)
    services: LocalServices | None = None
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def on_stats(s: ClockStats) -> None:
        print(f"studio: {s.fps:5.1f} fps  render p50 {s.render_ms_p50:.1f} ms  lagged {s.lagged}", flush=True)

    def on_stream(state: OutputState) -> None:
        retry = f" (retry in {state.retry_in_s:.0f} s)" if state.retry_in_s else ""
        print(f"studio: stream {state.state.value}{': ' + state.message if state.message else ''}{retry}",
              flush=True)

    studio.events.stats.connect(on_stats)
    studio.events.source_problem.connect(
        lambda p: print(f"studio: source {p.source}: {p.message or 'recovered'}", flush=True))
    pipeline.stream_state.connect(on_stream)
    print(f"studio: headless show of {path} on scene {collection.program_scene!r}", flush=True)
    try:
        if local_show:
            services = LocalServices(net)
            urls = services.start()
            stream_url = urls.whip
            print(f"studio: watch the show at {urls.viewer}", flush=True)
        studio.start()
        mixer.start()
        if args.record is not None:
            print(f"studio: recording to {pipeline.start_recording(Path(args.record))}", flush=True)
        if stream_url:
            pipeline.start_streaming(StreamTarget(stream_url, token))
        started = time.monotonic()
        while not stop.wait(0.2):
            if args.seconds is not None and time.monotonic() - started >= args.seconds:
                break
    except KeyboardInterrupt:
        pass
    finally:
        pipeline.close()
        mixer.stop()
        studio.stop()
        if services is not None:
            services.stop()
        net.stop()
    print(f"studio: stopped after {studio.frames} frames, {studio.lagged} lagged", flush=True)
    return 0
