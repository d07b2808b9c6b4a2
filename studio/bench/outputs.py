"""`studio bench outputs`: one encode to several destinations, side by side with WHIP alone.

The demo show at 1080p30 (``ShowRun``: the real Show) streams to its own relay (WHIP). First phase:
WHIP alone. Second phase, same run: WHIP + an RTMP server (Debian's nginx-rtmp, its own process) +
an SRT listener (its own process) + the recording. Process CPU per wall second in each phase gives
``cpu_cores_whip_only`` and ``cpu_cores_all``; their difference over the three extra outputs is
``extra_core_per_destination`` (the one AAC encode they share is in it). Per destination: dropped
frames and bitrate as the destination reports them. Target: each extra destination <= 0.1 core,
0 dropped on loopback.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from studio.bench._rtmp_server import RtmpServer, free_port, nginx_rtmp_missing
from studio.bench._showrun import ShowRun
from studio.outputs.destinations import Destination, DestinationStats
from studio.secrets import Secret

HELP = "one 1080p30 encode to WHIP + RTMP + SRT + recording vs WHIP alone: CPU per destination, drops, bitrate"
KEY = "bench-key"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase (default 15)")


def _cpu_cores(seconds: float) -> float:
    t0, c0 = time.perf_counter(), time.process_time()
    time.sleep(seconds)  # a benchmark runs for wall-clock time on purpose
    return (time.process_time() - c0) / (time.perf_counter() - t0)


def _srt_sink(port: int) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-m", "studio.bench._srt_sink", str(port)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    process.stdout.readline()  # "listening PORT": it is ready
    return process


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.seconds <= 0:
        raise ValueError("--seconds must be positive")
    missing = nginx_rtmp_missing()
    if missing:
        raise ValueError(missing)
    work = Path(tempfile.mkdtemp(prefix="bench-outputs-"))
    try:
        return _run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    show = ShowRun(work, record=False)
    last: dict[str, DestinationStats] = {}
    show.show.pipeline.destinations.events.changed.connect(lambda s: last.__setitem__(s.id, s))
    server = RtmpServer(work / "nginx").start()
    srt_port = free_port()
    sink = _srt_sink(srt_port)
    try:
        show.start()
        time.sleep(2.0)  # past the start-up: the encoder and the session settle
        whip_only = _cpu_cores(args.seconds)
        dests = {"rtmp": Destination(server.url, name="rtmp"),
                 "srt": Destination(f"srt://127.0.0.1:{srt_port}?latency=120", name="srt")}
        show.show.start_recording(show.recording)
        for dest in dests.values():
            show.show.pipeline.destinations.start(dest, Secret(KEY) if dest.name == "rtmp" else None)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not all(
                last.get(d.id) is not None and last[d.id].state == "live" for d in dests.values()):
            time.sleep(0.1)
        time.sleep(2.0)
        all_outputs = _cpu_cores(args.seconds)
        by_id = {s.id: s for s in show.show.pipeline.destinations.snapshot()}
        stats = show.stats()
    finally:
        show.stop()
        server.kill()
        sink.terminate()
        try:
            sink.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # blocked in libsrt's accept/recv: the handler never ran
            sink.kill()
            sink.communicate()
    per_dest = {name: {"state": by_id[d.id].state.value if d.id in by_id else "stopped",
                       "dropped_frames": by_id[d.id].dropped_frames if d.id in by_id else None,
                       "bitrate_kbps": round(by_id[d.id].bitrate_kbps) if d.id in by_id else None,
                       "reconnects": by_id[d.id].reconnects if d.id in by_id else None}
                for name, d in dests.items()}
    whip = stats.stream
    per_dest["whip"] = {"state": stats.stream_state.state.value if stats.stream_state else None,
                        "dropped_frames": whip.packets_dropped if whip else None,
                        "bitrate_kbps": round(whip.bitrate_bps / 1000) if whip else None}
    recorder = stats.recorder
    per_dest["recording"] = {"dropped_frames": recorder.dropped if recorder else None}
    extra = 3  # RTMP, SRT, the recording
    return {
        "benchmark": "outputs",
        "configuration": "studio.show.Show on the demo at 1080p30, WHIP to its own relay; then + nginx-rtmp "
                         "+ SRT listener (own processes) + recording (.mkv)",
        "seconds_each": args.seconds,
        "encoder": stats.video.encoder if stats.video else None,
        "video_bitrate_kbps": show.show.pipeline.video_settings.bitrate_kbps,
        "cpu_cores_whip_only": round(whip_only, 3),
        "cpu_cores_all": round(all_outputs, 3),
        "extra_core_per_destination": round((all_outputs - whip_only) / extra, 3),
        "destinations": per_dest,
        "targets": {"extra_core_per_destination_max": 0.1, "dropped_frames": 0},
    }
