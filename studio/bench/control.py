"""`studio bench control`: the remote control while the 1080p30 demo show runs on air.

Side by side in one run, each phase on the same running show (recording and streaming to its own
relay, as a director starts it):

- ``baseline``: no remote clients: the clock's lagged frames;
- ``meters``: 10 clients subscribed to InputVolumeMeters (every 50 ms) and every low-volume event:
  lagged frames (target < 0.5 %) and the meter events each client received;
- ``baseline_after``: no clients again, last (other programs' load on the machine varies);
- ``rtt``: one client sending GetSceneList and SetCurrentProgramScene in turn: round trip
  ``rtt_ms_p50``/``rtt_ms_p95`` per request (target p95 <= 10 ms), lagged frames meanwhile.

Clients run in a child process (``_control_clients``) so their CPU is not the show's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from studio.bench._control_clients import PASSWORD_ENV
from studio.bench._showrun import ShowRun
from studio.control.auth import generate_password
from studio.control.server import ControlConfig, ControlServer
from studio.secrets import Secret

HELP = "remote control (obs-websocket v5): request round trips and meter fan-out cost on the running demo show"
TARGET_RTT_P95_MS = 10.0
TARGET_LAGGED = 0.005


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=15.0, help="seconds per phase (default 15)")
    parser.add_argument("--clients", type=int, default=10, help="meter clients (default 10)")
    parser.add_argument("--requests", type=int, default=300, help="round trips per request type (default 300)")
    parser.add_argument("--no-outputs", action="store_true", help="do not record or stream meanwhile")


def _lagged(run: ShowRun, before: tuple[int, int]) -> dict[str, Any]:
    studio = run.show.studio
    frames, lagged = studio.frames - before[0], studio.lagged - before[1]
    ratio = lagged / max(1, frames + lagged)
    return {"frames": frames, "lagged": lagged, "lagged_ratio": round(ratio, 5),
            "lagged_ok": ratio < TARGET_LAGGED}


def _mark(run: ShowRun) -> tuple[int, int]:
    return run.show.studio.frames, run.show.studio.lagged


def _clients(url: str, password: str, *args: str, timeout: float) -> dict[str, Any]:
    env = {**os.environ, PASSWORD_ENV: password}
    done = subprocess.run([sys.executable, "-m", "studio.bench._control_clients", url, *args], env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"control clients failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(args: argparse.Namespace) -> dict[str, Any]:
    seconds = float(args.seconds)
    password = generate_password()
    with tempfile.TemporaryDirectory(prefix="bench-control-") as tmp:
        outputs = not args.no_outputs
        show_run = ShowRun(Path(tmp), stream=outputs, record=outputs)
        control: ControlServer | None = None
        try:
            show_run.start()
            control = ControlServer(show_run.show, ControlConfig(port=0, password=Secret(password)))
            control.start()
            with show_run.show.collection.lock:
                scenes = [s.name for s in show_run.show.collection.scenes]
            time.sleep(3.0)  # past the start-up frames: every phase measures the show as it runs

            mark = _mark(show_run)
            time.sleep(seconds)  # a benchmark runs for wall-clock time on purpose
            baseline = _lagged(show_run, mark)

            mark = _mark(show_run)
            meters = _clients(control.url, password, "meters", "--clients", str(args.clients),
                              "--seconds", str(seconds), timeout=seconds + 60)
            meters.update(_lagged(show_run, mark))

            mark = _mark(show_run)
            rtt = _clients(control.url, password, "rtt", "--requests", str(args.requests),
                           "--scenes", ",".join(scenes[:2]), timeout=600)
            rtt.update(_lagged(show_run, mark))

            mark = _mark(show_run)  # again at the end: load from other programs varies over a run
            time.sleep(seconds)
            baseline_after = _lagged(show_run, mark)
            for request_type in ("GetSceneList", "SetCurrentProgramScene"):
                rtt[request_type]["rtt_ok"] = rtt[request_type]["rtt_ms_p95"] <= TARGET_RTT_P95_MS
        finally:
            if control is not None:
                control.stop()
            show_run.stop()
            with contextlib.suppress(OSError):
                show_run.recording.unlink(missing_ok=True)
    return {
        "canvas": f"{show_run.show.studio.width}x{show_run.show.studio.height}@{show_run.show.studio.fps}",
        "outputs": "recording + streaming to the local relay" if outputs else "none",
        "seconds_per_phase": seconds,
        "targets": {"rtt_ms_p95": TARGET_RTT_P95_MS, "lagged_ratio": TARGET_LAGGED},
        "baseline": baseline,
        "meters": meters,
        "rtt": rtt,
        "baseline_after": baseline_after,
        # side by side: with the 10 meter clients, and without any (before and after)
        "lagged_ratio_meters_vs_baselines": [meters["lagged_ratio"], baseline["lagged_ratio"],
                                             baseline_after["lagged_ratio"]],
    }
