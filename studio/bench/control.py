"""`studio bench control`: the remote control while the 1080p30 demo show runs on air.

Side by side in one run, each phase on the same running show (recording and streaming to its own
relay, as a director starts it):

- ``baseline``: no remote clients: the clock's lagged frames;
- ``meters``: 10 clients subscribed to InputVolumeMeters (every 50 ms) and every low-volume event:
  lagged frames (target < 0.5 %) and the meter events each client received;
- ``baseline_after``: no clients again, last (other programs' load on the machine varies);
- ``rtt``: one client sending GetSceneList and SetCurrentProgramScene in turn (a pair every
  ``--gap-ms``, cuts between the first two scenes): round trip ``rtt_ms_p50``/``rtt_ms_p95`` per
  request (target p95 <= 10 ms), lagged frames meanwhile.

Clients run in a child process (``_control_clients``) so their CPU is not the show's; a phase is
measured from their "ready" (all connected and identified) to their end. Each phase also reports
the show process's CPU (``show_cpu_pct``) and the ``net`` thread's (``net_thread_cpu_pct``: the
server runs there, beside the relay and hub): on a busy machine lagged frames vary with other
programs' load, the CPU the server adds does not.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
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
    parser.add_argument("--gap-ms", type=float, default=20.0, help="pause between request pairs (default 20)")
    parser.add_argument("--no-outputs", action="store_true", help="do not record or stream meanwhile")


def _net_thread_cpu_s() -> float:
    """CPU seconds of the ``net`` thread (the server runs there, beside the relay and the hub)."""
    for thread in threading.enumerate():
        if thread.name == "net" and thread.ident is not None:
            with contextlib.suppress(OSError, AttributeError):
                return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
    return 0.0


class _Phase:
    """Frames, lagged frames, the show process's CPU and the net thread's CPU over one phase."""

    def __init__(self, run: ShowRun) -> None:
        self.run = run
        studio = run.show.studio
        self.frames, self.lagged = studio.frames, studio.lagged
        self.wall, self.cpu, self.net_cpu = time.perf_counter(), time.process_time(), _net_thread_cpu_s()

    def result(self) -> dict[str, Any]:
        studio = self.run.show.studio
        frames, lagged = studio.frames - self.frames, studio.lagged - self.lagged
        ratio = lagged / max(1, frames + lagged)
        wall = max(1e-9, time.perf_counter() - self.wall)
        cpu_pct = 100 * (time.process_time() - self.cpu) / wall
        net_pct = 100 * (_net_thread_cpu_s() - self.net_cpu) / wall
        return {"frames": frames, "lagged": lagged, "lagged_ratio": round(ratio, 5),
                "lagged_ok": ratio < TARGET_LAGGED, "show_cpu_pct": round(cpu_pct, 1),
                "net_thread_cpu_pct": round(net_pct, 2)}


def _clients(run: ShowRun, url: str, password: str, *args: str, timeout: float) -> dict[str, Any]:
    """Run the clients; the phase is measured from their "ready" (connected, identified) to their end,
    so starting a Python process is not counted."""
    env = {**os.environ, PASSWORD_ENV: password}
    with subprocess.Popen([sys.executable, "-m", "studio.bench._control_clients", url, *args], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None and child.stderr is not None
        first = child.stdout.readline().strip()
        phase = _Phase(run)
        try:
            out, err = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            raise
        measured = phase.result()
    if first != "ready" or child.returncode != 0:
        raise RuntimeError(f"control clients failed: {first} {err[-2000:]}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result.update(measured)
    return result


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

            phase = _Phase(show_run)
            time.sleep(seconds)  # a benchmark runs for wall-clock time on purpose
            baseline = phase.result()
            meters = _clients(show_run, control.url, password, "meters", "--clients", str(args.clients),
                              "--seconds", str(seconds), timeout=seconds + 60)
            rtt = _clients(show_run, control.url, password, "rtt", "--requests", str(args.requests),
                           "--scenes", ",".join(scenes[:2]), "--gap-ms", str(args.gap_ms), timeout=600)
            phase = _Phase(show_run)  # again at the end: load from other programs varies over a run
            time.sleep(seconds)
            baseline_after = phase.result()
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
        "show_cpu_pct_meters_vs_baselines": [meters["show_cpu_pct"], baseline["show_cpu_pct"],
                                             baseline_after["show_cpu_pct"]],
        # what the server adds on its thread: its fan-out of meters to the 10 clients
        "net_thread_cpu_pct_meters_vs_baselines": [meters["net_thread_cpu_pct"], baseline["net_thread_cpu_pct"],
                                                   baseline_after["net_thread_cpu_pct"]],
    }
