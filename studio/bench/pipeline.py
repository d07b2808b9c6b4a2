"""`studio bench pipeline`: the demo show at 1080p30 as it runs on air (a real ``Show``: engine,
mixer, relay, hub, interaction service), recording and streaming to its own relay.

Reports frame rate, lagged and skipped frames, process CPU (cores used), resident memory sampled
over the run (the series and its growth), and the A/V offset measured in the recording (median,
p95 and max of its size): a small clap-and-flash clip sits in a corner of the program, and its
flashes (picture) and clicks (sound) are found in the file and compared.

Side by side, start-up: frames lagged in the first 2 s of a show started warm (the clock draws the
first program once before frame 0's deadline, as the product does) and cold (without that step).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from studio.bench._showrun import SYNC_BOX, Sample, ShowRun, lagged_in_first
from studio.sync_clip import av_offsets_ms, click_times, flash_times

HELP = "the demo show at 1080p30 recording and streaming: fps, lag, CPU, RSS over time, A/V offset, warm start"
STARTUP_S = 2.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to run (default 20)")
    parser.add_argument("--no-stream", action="store_true", help="record only")
    parser.add_argument("--rss-every", type=float, default=5.0, help="seconds between RSS samples (default 5)")
    parser.add_argument("--startup-runs", type=int, default=2,
                        help="short starts each of warm and cold, for the start-up figures (default 2; 0 = skip)")


def rss_figures(samples: list[Sample], baseline_s: float = 0.0) -> dict[str, Any]:
    """The RSS series and its growth from the first sample at or after ``baseline_s``."""
    after = [s for s in samples if s.t_s >= baseline_s] or samples[-1:]
    base, last = after[0].rss_mb, samples[-1].rss_mb
    return {
        "rss_mb_series": [[round(s.t_s, 1), round(s.rss_mb, 1)] for s in samples],
        "rss_baseline_at_s": round(after[0].t_s, 1),
        "rss_mb_baseline": round(base, 1),
        "rss_mb_end": round(last, 1),
        "rss_mb_peak": round(max(s.rss_mb for s in samples), 1),
        "rss_growth_pct": round(100 * (last - base) / base, 2) if base > 0 else None,
    }


def offset_figures(offsets: list[float]) -> dict[str, Any]:
    if not offsets:
        return {"av_offset_ms": None, "av_offset_abs_p95_ms": None, "av_offset_abs_max_ms": None,
                "av_offsets_measured": 0}
    size = np.abs(np.asarray(offsets, dtype=np.float64))
    return {
        "av_offset_ms": round(statistics.median(offsets), 1),  # signed: sound minus picture
        "av_offset_abs_p95_ms": round(float(np.percentile(size, 95)), 1),
        "av_offset_abs_max_ms": round(float(size.max()), 1),
        "av_offsets_measured": len(offsets),
    }


def startup_figures(runs: int, work: Path) -> dict[str, Any]:
    """Lagged frames in the first seconds, warm and cold starts alternating (same load for both)."""
    lagged: dict[str, list[int]] = {"warm": [], "cold": []}
    for i in range(runs):
        for kind in (("cold", "warm") if i % 2 == 0 else ("warm", "cold")):
            lagged[kind].append(lagged_in_first(STARTUP_S, work, warm=kind == "warm")["lagged"])
    return {
        "seconds": STARTUP_S,
        "runs_each": runs,
        "warm_lagged": lagged["warm"],
        "cold_lagged": lagged["cold"],
        "warm_lagged_mean": round(statistics.mean(lagged["warm"]), 2),
        "cold_lagged_mean": round(statistics.mean(lagged["cold"]), 2),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.seconds <= 0 or args.rss_every <= 0:
        raise ValueError("--seconds and --rss-every must be positive")
    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    try:
        return _run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    show = ShowRun(work, sync_seconds=args.seconds, stream=not args.no_stream)
    samples: list[Sample] = []
    try:
        show.start()
        first = show.sample()  # lagged in the first seconds of this run, before measuring
        time.sleep(max(0.0, STARTUP_S - first.t_s))  # a benchmark runs for wall-clock time on purpose
        first = show.sample()
        samples.append(first)
        end = first.t_s + args.seconds
        while True:
            time.sleep(max(0.0, min(args.rss_every, end - show.sample().t_s)))
            samples.append(show.sample())
            if samples[-1].t_s >= end:
                break
        stats = show.stats()
    finally:
        show.stop()
    offsets = av_offsets_ms(flash_times(show.recording, SYNC_BOX), click_times(show.recording))
    last = samples[-1]
    wall = last.t_s - first.t_s
    frames, lagged = last.frames - first.frames, last.lagged - first.lagged
    studio = show.show.studio
    result: dict[str, Any] = {
        "benchmark": "pipeline",
        "configuration": "studio.show.Show on the demo: relay, hub, interaction service; recording + streaming",
        "resolution": f"{studio.width}x{studio.height}",
        "fps_target": studio.fps,
        "seconds": round(wall, 2),
        "fps": round(frames / wall, 2),
        "frames": frames,
        "lagged": lagged,
        "lagged_pct": round(100 * lagged / max(1, frames + lagged), 3),
        "lagged_first_2s": first.lagged,
        "skipped": last.skipped - first.skipped,
        "encoder": stats.video.encoder if stats.video else None,
        "encode_ms_p95": round(stats.video.encode_ms_p95, 2) if stats.video else None,
        "cpu_cores": round((last.cpu_s - first.cpu_s) / wall, 3),
        **rss_figures(samples),
        "streaming": not args.no_stream,
        "stream_went_live": show.live.is_set(),
        "stream_bitrate_kbps": round(stats.stream.bitrate_bps / 1000) if stats.stream else None,
        **offset_figures(offsets),
        "cores_available": os.cpu_count(),
        "targets": {"skipped": 0, "lagged_pct_below": 0.5, "cpu_cores_max": 1.3, "abs_av_offset_ms_max": 40},
    }
    if args.startup_runs > 0:
        result["startup"] = startup_figures(args.startup_runs, work)
    return result
