"""`studio bench soak`: the demo show for a long while, as on air: a real ``Show`` recording and
streaming to its own relay, with one WHEP viewer (an aiortc peer on its own loop thread) watching.

Sampled every ``--every`` seconds: resident memory, frames, lagged frames and the encoder's skipped
frames. Reports the series, RSS growth after the first ``--baseline`` seconds (default 120, target
< 5 %), skipped frames (target 0) and lagged frames (target < 0.5 %), and what the viewer received.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from studio.bench._showrun import Sample, ShowRun
from studio.bench._whep import WhepViewer
from studio.bench.pipeline import rss_figures

HELP = "the demo show recording + streaming with one WHEP viewer for --minutes: RSS growth, skipped, lagged"
TARGETS = {"rss_growth_pct_below": 5.0, "skipped": 0, "lagged_pct_below": 0.5}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to run (default 30)")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples (default 10)")
    parser.add_argument("--baseline", type=float, default=120.0,
                        help="seconds after which RSS growth is counted (default 120; capped at a quarter of the run)")
    parser.add_argument("--viewer-decode", action="store_true",
                        help="the viewer decodes the video (costs the CPU a player would; default: frames kept encoded)")


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.minutes <= 0 or args.every <= 0:
        raise ValueError("--minutes and --every must be positive")
    work = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    try:
        return _run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    seconds = args.minutes * 60
    baseline = min(args.baseline, seconds / 4)
    show = ShowRun(work)
    viewer: WhepViewer | None = None
    samples: list[Sample] = []
    try:
        show.start()
        viewer = WhepViewer(show.whep_url, decode=args.viewer_decode)
        viewer.start()
        samples.append(show.sample())
        while samples[-1].t_s < seconds:
            time.sleep(max(0.0, min(args.every, seconds - show.sample().t_s)))  # wall-clock time on purpose
            samples.append(show.sample())
        stats = show.stats()
    finally:
        if viewer is not None:
            viewer.stop()
        show.stop()
    recording_mb = 0.0
    first, last = samples[0], samples[-1]
    frames, lagged = last.frames, last.lagged
    if show.recording.exists():
        recording_mb = show.recording.stat().st_size / 1e6
    rss = rss_figures(samples, baseline)
    counts = viewer.counts if viewer is not None else None
    result: dict[str, Any] = {
        "benchmark": "soak",
        "configuration": "studio.show.Show on the demo: recording + streaming to its relay, one WHEP viewer",
        "minutes": round((last.t_s - first.t_s) / 60, 2),
        "frames": frames,
        "lagged": lagged,
        "lagged_pct": round(100 * lagged / max(1, frames + lagged), 3),
        "skipped": last.skipped,
        "cpu_cores": round((last.cpu_s - first.cpu_s) / max(1e-6, last.t_s - first.t_s), 3),
        **rss,
        "samples": {"columns": ["t_s", "rss_mb", "frames", "lagged", "skipped"],
                    "rows": [s.as_row() for s in samples]},
        "stream_went_live": show.live.is_set(),
        "stream_bitrate_kbps": round(stats.stream.bitrate_bps / 1000) if stats.stream else None,
        "recording_mb": round(recording_mb, 1),
        "viewer": {
            "kind": "aiortc WHEP peer, " + ("decoding" if args.viewer_decode else "frames kept encoded"),
            "video_frames": counts.video_frames if counts else 0,
            "audio_frames": counts.audio_frames if counts else 0,
            "longest_video_gap_ms": round(counts.longest_video_gap_ms, 1) if counts else None,
            "video_gaps_over_200ms": counts.gaps_over_200ms if counts else None,
            "errors": counts.errors if counts else [],
        },
        "cores_available": os.cpu_count(),
        "targets": TARGETS,
    }
    growth = rss["rss_growth_pct"]
    result["meets_targets"] = (
        growth is not None and growth < TARGETS["rss_growth_pct_below"]
        and last.skipped == TARGETS["skipped"] and result["lagged_pct"] < TARGETS["lagged_pct_below"]
    )
    return result
