"""`studio bench pipeline`: the whole engine headless on the demo at 1080p30, recording and
streaming to the embedded relay, as a show runs.

Reports frame rate, lagged and skipped frames, process CPU (cores used), memory at start and end,
and the A/V offset measured in the recording: a small clap-and-flash clip sits in a corner of the
program, and its flashes (picture) and clicks (sound) are found in the file and compared.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from scenes.model import SceneItem
from studio.audio.mixer import AudioMixer
from studio.engine import Studio
from studio.net.loop import NetLoop
from studio.outputs.pipeline import OutputPipeline, StreamTarget
from studio.outputs.whip_events import OutputState, OutputStatus
from studio.services.local import LocalServices
from studio.session import open_collection
from studio.sync_clip import av_offsets_ms, click_times, flash_times, write_sync_clip

HELP = "the whole engine on the demo at 1080p30 with recording and streaming"
SYNC_BOX = (0, 980, 100, 100)  # where the clap-and-flash clip sits on the 1080p canvas


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to run (default 20)")
    parser.add_argument("--no-stream", action="store_true", help="record only")


def _rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    collection, _ = open_collection(None)
    scene = collection.program_scene or collection.scenes[0].name
    flashes = [1.0 + i * 1.0 for i in range(int(args.seconds) + 2)]
    sync_clip = work / "sync.mp4"
    write_sync_clip(sync_clip, flashes, seconds=flashes[-1] + 1.0, size=(160, 160))
    collection.add_source("sync", "media", {"path": str(sync_clip), "loop": False})
    x, y, w, h = SYNC_BOX
    collection.scene(scene).add_item(SceneItem("sync", x=x, y=y, scale_x=w / 160, scale_y=h / 160))

    studio = Studio(collection)
    mixer = AudioMixer()
    net = NetLoop()
    pipeline = OutputPipeline(studio, mixer, net=net)
    services = LocalServices(net, relay_port=0, hub_port=0)
    live = threading.Event()
    pipeline.stream_state.connect(lambda s: live.set() if s.state is OutputStatus.LIVE else None)
    states: list[OutputState] = []
    pipeline.stream_state.connect(states.append)
    recording = work / "bench.mkv"
    rss_start = _rss_mb()
    try:
        urls = services.start()
        studio.start()
        mixer.start()
        pipeline.start_recording(recording)
        if not args.no_stream:
            pipeline.start_streaming(StreamTarget(urls.whip))
            live.wait(20)
        frames0, lagged0 = studio.frames, studio.lagged
        cpu0, wall0 = time.process_time(), time.perf_counter()
        time.sleep(args.seconds)  # a benchmark runs for wall-clock time on purpose
        cpu1, wall1 = time.process_time(), time.perf_counter()
        frames, lagged = studio.frames - frames0, studio.lagged - lagged0
        stats = pipeline.snapshot()
        rss_end = _rss_mb()
    finally:
        pipeline.close()
        mixer.stop()
        studio.stop()
        services.stop()
        net.stop()
    offsets = av_offsets_ms(flash_times(recording, SYNC_BOX), click_times(recording))
    wall = wall1 - wall0
    skipped = stats.video.skipped if stats.video else 0
    result = {
        "benchmark": "pipeline",
        "resolution": f"{studio.width}x{studio.height}",
        "fps_target": studio.fps,
        "seconds": round(wall, 2),
        "fps": round(frames / wall, 2),
        "frames": frames,
        "lagged": lagged,
        "lagged_pct": round(100 * lagged / max(1, frames + lagged), 3),
        "skipped": skipped,
        "encoder": stats.video.encoder if stats.video else None,
        "encode_ms_p95": round(stats.video.encode_ms_p95, 2) if stats.video else None,
        "cpu_cores": round((cpu1 - cpu0) / wall, 3),
        "rss_mb_start": round(rss_start, 1),
        "rss_mb_end": round(rss_end, 1),
        "streaming": not args.no_stream,
        "stream_went_live": live.is_set(),
        "stream_bitrate_kbps": round(stats.stream.bitrate_bps / 1000) if stats.stream else None,
        "av_offset_ms": round(statistics.median(offsets), 1) if offsets else None,
        "av_offsets_measured": len(offsets),
        "cores_available": os.cpu_count(),
        "targets": {"skipped": 0, "lagged_pct_below": 0.5, "cpu_cores_max": 1.3, "abs_av_offset_ms_max": 40},
    }
    for path in work.iterdir():
        path.unlink()
    work.rmdir()
    return result
