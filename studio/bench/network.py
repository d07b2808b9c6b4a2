"""`studio bench network`: how watchable the stream stays on weak networks (issue 11), profile by profile.

The real product path, each party its own process in its own network namespace (``bench.netns``):
the demo show with the latency stamp drawn at the top-left -> our encoder in the product's
configuration (``Show`` + the default ``StreamTarget``: the bitrate range and rate control of
`studio headless --stream`) -> WHIP -> the embedded relay (`studio serve --lan`) -> headless Chromium
on the viewer page. Per profile the network starts clean; once the viewers play and a short warm-up
has passed the profile's impairment goes on and the measured window starts:

- ``lossN``: N % random UDP loss on both legs (studio<->relay, relay<->viewer), each direction;
- ``up2m`` / ``up1m``: a token bucket on the studio's uplink;
- ``viewer1m``: two viewers, the second one's downlink capped, the first one clean;
- ``blackout3``: every UDP packet dropped on every leg for 3 s a third into the window, then clear.

Figures per viewer (Chromium): frames shown (``presentedFrames``) as a share of the frames the studio
composited in the window, freezes as WebRTC's stats count them (an inter-frame gap at least
max(3 x mean, mean + 150 ms) over the last 30 gaps), glass-to-glass latency from the stamp of each
presented frame, the share of audio samples concealed (``inbound-rtp`` ``concealedSamples`` /
``totalSamplesReceived``), and for the blackout the time from the network coming back to the first
frame composited after it on screen. Figures from the studio: its WHIP stats (sent bitrate, ladder
step, keyframes, NACKs, retransmissions). Targets from issue 11 sit beside the figures.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import json
import os
import queue
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from studio.bench.netns import Testbed, check_requirements, remove_stale

HELP = "weak networks: loss, caps and a blackout in private namespaces, demo -> WHIP -> relay -> Chromium"

RELAY_PORT = 8889
TOKEN_ENV = "DLS_BENCH_NETWORK_TOKEN"
STAMP_SOURCE = "bench latency stamp"
WARMUP_S = 3.0
FREEZE_WINDOW = 30  # gaps in the running mean, as libwebrtc's VideoQualityObserver
FREEZE_MIN_SAMPLES = 5
FREEZE_MIN_INCREASE_MS = 150.0
FREEZE_DEFINITION = ("a freeze is an inter-frame gap >= max(3 x mean, mean + 150 ms), mean over the previous "
                     "30 gaps (WebRTC's freezeCount definition), on Chromium's presented frames")


@dataclass(frozen=True)
class Profile:
    name: str
    loss: float = 0.0  # per leg, each direction
    uplink_kbps: int | None = None  # the studio's uplink
    viewer_cap_kbps: int | None = None  # the second viewer's downlink
    blackout_s: float = 0.0
    viewers: int = 1

    def describe(self) -> str:
        parts = []
        if self.loss:
            parts.append(f"{self.loss * 100:g} % UDP loss each direction on both legs")
        if self.uplink_kbps:
            parts.append(f"studio uplink capped at {self.uplink_kbps} kbit/s (tbf)")
        if self.viewer_cap_kbps:
            parts.append(f"viewer-b downlink capped at {self.viewer_cap_kbps} kbit/s (tbf), viewer-a clean")
        if self.blackout_s:
            parts.append(f"all UDP dropped on every leg for {self.blackout_s:g} s, then clear")
        return "; ".join(parts) or "no impairment"


PROFILES = {p.name: p for p in (
    Profile("clean"),
    Profile("loss2", loss=0.02),
    Profile("loss5", loss=0.05),
    Profile("loss10", loss=0.10),
    Profile("loss20", loss=0.20),
    Profile("up2m", uplink_kbps=2000),
    Profile("up1m", uplink_kbps=1000),
    Profile("viewer1m", viewer_cap_kbps=1000, viewers=2),
    Profile("blackout3", blackout_s=3.0),
)}


@dataclass(frozen=True)
class Target:
    metric: str
    op: str  # ">=" or "<="
    value: float
    viewer: str = "viewer-a"  # whose figure; "studio" for the studio's

    def check(self, figure: float | None) -> bool | None:
        if figure is None:
            return None
        return figure >= self.value if self.op == ">=" else figure <= self.value


# issue 11, "Measure"
TARGETS: dict[str, tuple[Target, ...]] = {
    "clean": (Target("latency_p95_ms", "<=", 40),),
    "loss5": (Target("frames_pct", ">=", 98), Target("freezes_per_min", "<=", 1),
              Target("audio_concealed_pct", "<=", 2), Target("latency_p95_ms", "<=", 150)),
    "loss10": (Target("frames_pct", ">=", 95), Target("audio_concealed_pct", "<=", 5)),
    "loss20": (Target("frames_pct", ">=", 85), Target("audio_concealed_pct", "<=", 10)),
    "up1m": (Target("settle_s", "<=", 2.0, "studio"), Target("frames_pct", ">=", 90),
             Target("latency_p95_ms", "<=", 400), Target("max_freeze_s", "<=", 1.0)),
    "up2m": (Target("frames_pct", ">=", 98),),
    "viewer1m": (Target("frames_full_res_pct", ">=", 99, "viewer-a"), Target("frames_pct", ">=", 90, "viewer-b")),
    "blackout3": (Target("recovery_s", "<=", 1.0),),
}
SETTLE_KBPS = 800  # up1m: "settles <= 800 kbit/s"


@dataclass(frozen=True)
class Variant:
    """One mechanism switched off for a side-by-side run: environment for the studio and the relay
    (read by ``studio.webrtc``), and an option for the viewer."""

    env: tuple[tuple[str, str], ...] = ()
    viewer_args: tuple[str, ...] = ()


VARIANTS = {
    "no-pacer": Variant(env=(("DLS_PACER", "0"),)),  # studio.webrtc.sender_setup
    "pacer-15ms": Variant(env=(("DLS_PACER_MAX_QUEUE_MS", "15"),)),  # the pacer's queue limit before 5 ms
    "no-playout-ext": Variant(env=(("DLS_PLAYOUT_DELAY", "off"),)),  # studio.webrtc.playout_delay
    "no-red": Variant(env=(("DLS_AUDIO_RED", "0"),)),  # studio.webrtc.audio_red
    # audio and video in separate media streams in the viewer's answer: Chromium syncs neither to the other
    "no-av-sync": Variant(viewer_args=("--no-av-sync",)),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profiles", default=",".join(PROFILES),
                        help=f"comma-separated, from {', '.join(PROFILES)} (default: all)")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per profile (default 30)")
    parser.add_argument("--audio-red", choices=("on", "off", "both"), default="on",
                        help="RED for Opus on the studio's push and the relay's viewers (both: each profile "
                             "with RED, then without it as '<profile> no-red', side by side; default on)")
    parser.add_argument("--variants", default="",
                        help="latency A/B: also run each profile with these switched off, side by side as "
                             f"'<profile> <variant>', from {', '.join(VARIANTS)} (comma-separated)")
    parser.add_argument("--dump", type=Path, default=None,
                        help="write each profile's raw figures (viewer frames and getStats, studio lines) "
                             "as JSON into this folder")


# ---- the processes -------------------------------------------------------------------------------


class Child:
    """One process of the bench inside a namespace; its stdout read as JSON lines on a thread."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.lines: list[dict[str, Any]] = []
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        with self.log_path.open("w") as log:
            # a session of its own: ending it by id ends what it started in the same group
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                         text=True, env=env, start_new_session=True)
        self._reader = threading.Thread(target=self._read, name=f"bench-{name}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                obj = {"text": line.rstrip("\n")}
            if not isinstance(obj, dict):
                obj = {"text": line.rstrip("\n")}
            self.lines.append(obj)
            self._queue.put(obj)
        self._queue.put(None)

    def wait_for(self, accept: Callable[[dict[str, Any]], bool], deadline: float, what: str) -> dict[str, Any]:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.name}: no {what} in time{self._tail()}")
            try:
                obj = self._queue.get(timeout=min(left, 1.0))
            except queue.Empty:
                continue
            if obj is None:
                raise RuntimeError(f"{self.name} exited (code {self.proc.wait()}) before {what}{self._tail()}")
            if accept(obj):
                return obj

    def _tail(self) -> str:
        with contextlib.suppress(OSError):
            text = self.log_path.read_text(errors="replace").strip().splitlines()[-8:]
            if text:
                return ":\n    " + "\n    ".join(text)
        return ""

    def send(self, text: str) -> None:
        with contextlib.suppress(BrokenPipeError, OSError, ValueError):
            assert self.proc.stdin is not None
            self.proc.stdin.write(text + "\n")
            self.proc.stdin.flush()

    def stop(self, timeout: float) -> None:
        self.send("stop")
        with contextlib.suppress(BrokenPipeError, OSError, ValueError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def terminate(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._reader.join(5)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)


def _python_in(bed: Testbed, netns: str, *args: str) -> list[str]:
    return [*bed.exec_prefix(netns), sys.executable, *args]


# ---- one profile ---------------------------------------------------------------------------------


def _stamped_demo(folder: Path) -> tuple[Path, int]:
    """The demo collection with the latency stamp (a small test pattern, unscaled) on top of the
    program scene, saved in ``folder``. Returns the file and the program's height."""
    from scenes.model import SceneItem
    from studio.collections import load_collection, save_collection
    from studio.demo import ensure_demo
    from studio.demo_rundown import ensure_demo_rundown

    ensure_demo_rundown()
    col = load_collection(ensure_demo().collection)
    col.add_source(STAMP_SOURCE, "test_pattern", {"width": 320, "height": 180, "show_clock": True})
    col.scene(col.program_scene or col.scenes[0].name).add_item(SceneItem(STAMP_SOURCE))
    path = folder / "network-bench-collection.json"
    save_collection(col, path)
    return path, col.video.height


def _apply(bed: Testbed, profile: Profile) -> None:
    if profile.loss:
        for host in bed.hosts.values():
            bed.drop_udp(host, profile.loss)
    if profile.uplink_kbps:
        bed.cap_uplink(bed.studio, profile.uplink_kbps)
    if profile.viewer_cap_kbps:
        bed.cap_downlink(bed.viewers[-1], profile.viewer_cap_kbps)


def _blackout(bed: Testbed, on: bool) -> None:
    for host in bed.hosts.values():
        if on:
            bed.drop_udp(host, 1.0)
        else:
            bed.clear_drops(host)


@contextlib.contextmanager
def _children() -> Iterator[list[Child]]:
    started: list[Child] = []
    try:
        yield started
    finally:
        for child in reversed(started):
            child.terminate()


def _run_profile(profile: Profile, seconds: float, collection: Path, program_height: int,
                 log_dir: Path, viewer_args: tuple[str, ...] = (), dump: Path | None = None) -> dict[str, Any]:
    deadline = time.monotonic() + seconds + 300  # the whole profile, start-up and teardown included
    token = secrets.token_urlsafe(24)
    env = {**os.environ, TOKEN_ENV: token, "PYTHONUNBUFFERED": "1"}
    with Testbed(profile.viewers) as bed, _children() as children:
        relay = Child("relay", _python_in(bed, bed.relay_netns, "-m", "studio", "serve", "--lan",
                                          "--token-env", TOKEN_ENV, "--relay-port", str(RELAY_PORT)),
                      env, log_dir)
        children.append(relay)
        relay.wait_for(lambda o: "WHIP ingest" in o.get("text", ""), deadline, "relay start")
        # the link the relay hands out to viewers (it carries the view token), at this viewer's address
        page = urlsplit(relay.wait_for(lambda o: "viewer page" in o.get("text", ""), deadline,
                                       "viewer link")["text"].split()[-1])
        studio_host = bed.studio
        whip = f"http://{studio_host.relay_address}:{RELAY_PORT}/whip/live"
        studio = Child("studio", _python_in(bed, studio_host.netns, "-m", "studio.bench._network_peers", "studio",
                                            str(collection), whip, "--token-env", TOKEN_ENV), env, log_dir)
        children.append(studio)
        studio.wait_for(lambda o: o.get("state") == "live", deadline, "live WHIP stream")
        viewers: dict[str, Child] = {}
        for host in bed.viewers:
            url = urlunsplit(page._replace(netloc=f"{host.relay_address}:{page.port or RELAY_PORT}"))
            viewers[host.role] = Child(host.role, _python_in(
                bed, host.netns, "-m", "studio.bench._network_peers", "viewer", url,
                "--program-height", str(program_height), *viewer_args), env, log_dir)
            children.append(viewers[host.role])
        for child in viewers.values():
            child.wait_for(lambda o: bool(o.get("ready")), deadline, "playing video")
        time.sleep(WARMUP_S)  # a benchmark may wait on the clock: the stream settles on the clean network
        _apply(bed, profile)
        t0 = time.time()
        blackout_end: float | None = None
        if profile.blackout_s:
            time.sleep(seconds / 3)
            _blackout(bed, True)
            time.sleep(profile.blackout_s)
            _blackout(bed, False)
            blackout_end = time.time()
            time.sleep(max(0.0, t0 + seconds - time.time()))
        else:
            time.sleep(seconds)
        t1 = time.time()
        dropped = {h.role: bed.dropped_packets(h) for h in bed.hosts.values()}
        queue_drops = {h.role: bed.queue_drops(h) for h in bed.hosts.values()}
        results: dict[str, dict[str, Any]] = {}
        for child in viewers.values():
            child.send("stop")
        for role, child in viewers.items():
            results[role] = child.wait_for(lambda o: "result" in o, deadline, "viewer figures")["result"]
        studio.stop(timeout=max(5.0, deadline - time.monotonic()))
        studio_lines = [o for o in studio.lines if "stats" in o or "frames" in o]
    if dump is not None:
        dump.write_text(json.dumps({"t0": t0, "t1": t1, "studio": studio_lines, "viewers": results}))
    window = (t0 * 1000, t1 * 1000)
    composited = _composited(studio_lines, t0, t1)
    out: dict[str, Any] = {"impairment": profile.describe(), "measured_s": round(t1 - t0, 1),
                           "frames_composited": composited,
                           # a busy machine composites fewer frames: the figures below are relative to these
                           "studio_fps": round(composited / (t1 - t0), 1) if composited else None}
    out.update(_studio_figures(studio_lines, t0, t1, profile))
    out["packets_dropped_by_rules"] = dropped  # iptables loss/blackout, both directions of each link
    out["packets_dropped_by_caps"] = queue_drops  # tc tbf queues overflowing
    out["stream_states"] = [f"{o['state']}@{o['t'] - t0:+.1f}s" for o in studio.lines if "state" in o]
    out["viewers"] = {role: _viewer_figures(r, window, composited, program_height,
                                            blackout_end * 1000 if blackout_end else None)
                      for role, r in results.items()}
    for role, r in results.items():  # the relay's choice of layer alone, whatever the studio's ladder did
        out["viewers"][role]["main_layer_share_pct"] = _main_layer_share(r, window, studio_lines)
    first = out["viewers"]["viewer-a"]
    for key in ("frames_pct", "freezes_per_min", "freeze_s_per_min", "max_freeze_s", "latency_p50_ms",
                "latency_p95_ms", "audio_concealed_pct", "recovery_s", "full_res_share_pct",
                "main_layer_share_pct"):
        out[key] = first.get(key)
    out["targets"] = _check_targets(profile.name, out)
    return out


# ---- figures -------------------------------------------------------------------------------------


def _composited(lines: list[dict[str, Any]], t0: float, t1: float) -> int | None:
    """Frames the studio composited in [t0, t1], interpolated between its stats lines."""
    pts = [(o["t"], o["frames"]) for o in lines if "frames" in o]
    if len(pts) < 2:
        return None
    ts, frames = zip(*pts, strict=True)
    return int(round(float(np.interp(t1, ts, frames) - np.interp(t0, ts, frames))))


def _studio_figures(lines: list[dict[str, Any]], t0: float, t1: float, profile: Profile) -> dict[str, Any]:
    rows = [(o["t"], o["stats"]) for o in lines if "stats" in o]
    inside = [(t, s) for t, s in rows if t0 < t <= t1]
    if not inside:
        return {"bitrate_kbps": None, "ladder_step": None}
    before = [s for t, s in rows if t <= t0]
    first = before[-1] if before else inside[0][1]
    kbps = [s["bitrate_bps"] / 1000 for _, s in inside]

    def delta(key: str) -> int | None:
        # a reconnect starts a new WHIP session whose counters start at 0: add up the increments
        series = [first.get(key)] + [st.get(key) for _, st in inside]
        if any(v is None for v in series):
            return None
        return int(sum(b - a if b >= a else b for a, b in zip(series, series[1:], strict=False)))

    steps = [s.get("ladder_step", "") for _, s in inside]
    out: dict[str, Any] = {
        "bitrate_kbps": round(float(np.mean(kbps))),
        "target_kbps": round(float(np.mean([s["target_bitrate_bps"] / 1000 for _, s in inside]))),
        "ladder_step": steps[-1] or None,
        "ladder_steps_seen": sorted({s for s in steps if s}),
        "rtt_ms": _round(np.mean([s["rtt_ms"] for _, s in inside if s.get("rtt_ms") is not None]) if any(
            s.get("rtt_ms") is not None for _, s in inside) else None),
        "loss_reported_pct": round(float(np.mean([s["packet_loss_pct"] for _, s in inside])), 1),
        "keyframes_sent": delta("keyframes_sent"),
        "plis": delta("plis"),
        "nacks": delta("nacks"),
        "retransmissions": delta("retransmissions"),
        "nacks_unanswered": delta("nacks_unanswered"),
    }
    if profile.uplink_kbps:
        # settled: from here to the end of the window the sent rate stays under the limit
        limit = SETTLE_KBPS if profile.uplink_kbps <= 1000 else 0.8 * profile.uplink_kbps
        settle = None
        for i, (t, _) in enumerate(inside):
            if all(k <= limit for k in kbps[i:]):
                settle = round(t - t0, 1)
                break
        out["settle_s"] = settle
        out["settle_limit_kbps"] = round(limit)
    return out


def freezes(display_ms: list[float]) -> list[tuple[float, float]]:
    """(gap ms, end ms) of each freeze in a run of frame display times, as WebRTC counts them."""
    gaps = np.diff(np.asarray(display_ms, dtype=np.float64))
    found = []
    for i, gap in enumerate(gaps):
        recent = gaps[max(0, i - FREEZE_WINDOW):i]
        if recent.size < FREEZE_MIN_SAMPLES:
            continue
        mean = float(recent.mean())
        if gap >= max(3 * mean, mean + FREEZE_MIN_INCREASE_MS):
            found.append((float(gap), float(display_ms[i + 1])))
    return found


def _stat_at(stats: list[dict[str, Any]], t_ms: float, kind: str) -> dict[str, Any]:
    """The getStats row of ``kind`` nearest before ``t_ms`` (else the first one)."""
    rows = [r for r in stats if kind in r]
    if not rows:
        return {}
    before = [r for r in rows if r["t"] <= t_ms]
    return dict((before[-1] if before else rows[0])[kind])


def _viewer_figures(result: dict[str, Any], window: tuple[float, float], composited: int | None,
                    program_height: int, blackout_end_ms: float | None) -> dict[str, Any]:
    t0, t1 = window
    frames = [f for f in result["frames"] if t0 <= f[0] < t1]
    earlier = [f for f in result["frames"] if f[0] < t0]
    minutes = (t1 - t0) / 60000
    out: dict[str, Any] = {}
    # presentedFrames counts what the compositor showed, also frames between two callbacks
    presented = int(frames[-1][3] - earlier[-1][3]) if frames and earlier else len(frames)
    out["frames_presented"] = presented
    out["frames_pct"] = round(min(100.0, 100 * presented / composited), 1) if composited else None
    # the frames before the window seed the running mean; a freeze counts when it ends inside the window
    frozen = [gap for gap, end in freezes([f[0] for f in result["frames"] if f[0] < t1]) if end >= t0]
    out["freezes_per_min"] = round(len(frozen) / minutes, 1)
    out["freeze_s_per_min"] = round(sum(frozen) / 1000 / minutes, 2)
    out["max_freeze_s"] = round(max(frozen, default=0.0) / 1000, 2)
    out["freeze_details"] = _freeze_details(result, t0, t1)
    lat = np.asarray([f[0] - f[1] for f in frames if f[1] is not None], dtype=np.float64)
    out["latency_p50_ms"] = _round(np.percentile(lat, 50)) if lat.size else None
    out["latency_p95_ms"] = _round(np.percentile(lat, 95)) if lat.size else None
    out["stamps_unread"] = sum(1 for f in frames if f[1] is None)
    # split at Chromium's receive time of each frame's last packet: the studio, relay and network's
    # share (stamp -> received) and Chromium's (received -> displayed: jitter buffer, decode, render)
    for key, part in (("upstream", lambda f: f[4] - f[1]), ("receiver", lambda f: f[0] - f[4])):
        split = np.asarray([part(f) for f in frames if f[1] is not None and len(f) > 4 and f[4]],
                           dtype=np.float64)
        out[f"{key}_p50_ms"] = _round(np.percentile(split, 50)) if split.size else None
        out[f"{key}_p95_ms"] = _round(np.percentile(split, 95)) if split.size else None
    full = sum(1 for f in frames if f[2] >= program_height)
    out["full_res_share_pct"] = round(100 * full / len(frames), 1) if frames else None
    out["frames_full_res_pct"] = (round(out["frames_pct"] * full / len(frames), 1)
                                  if frames and out["frames_pct"] is not None else None)
    out["heights_seen"] = sorted({int(f[2]) for f in frames})
    stats = result.get("stats") or []
    a0, a1 = _stat_at(stats, t0, "audio"), _stat_at(stats, t1, "audio")
    total = a1.get("totalSamplesReceived", 0) - a0.get("totalSamplesReceived", 0)
    concealed = a1.get("concealedSamples", 0) - a0.get("concealedSamples", 0)
    out["audio_concealed_pct"] = round(100 * concealed / total, 1) if total > 0 else None
    out["audio_samples_received"] = int(total)
    v0, v1 = _stat_at(stats, t0, "video"), _stat_at(stats, t1, "video")
    bytes_rx = (v1.get("bytesReceived", 0) - v0.get("bytesReceived", 0)
                + a1.get("bytesReceived", 0) - a0.get("bytesReceived", 0))
    out["received_kbps"] = round(bytes_rx * 8 / (t1 - t0)) if t1 > t0 else None
    for key in ("freezeCount", "totalFreezesDuration", "nackCount", "pliCount", "packetsLost", "framesDropped",
                "keyFramesDecoded"):
        if key in v1:
            out[f"chromium_{key}"] = round(v1[key] - v0.get(key, 0), 2)
    out["receiver_ms"] = _receiver_delays(v0, v1, a0, a1)
    out["recovery_s"] = None
    if blackout_end_ms is not None:
        # back: the first presented frame composited after the network came back
        back = next((f for f in result["frames"] if f[1] is not None and f[1] >= blackout_end_ms), None)
        out["recovery_s"] = round((back[0] - blackout_end_ms) / 1000, 2) if back else None
    return out


def _per(r0: dict[str, Any], r1: dict[str, Any], key: str, count: str) -> float | None:
    """Mean ms per counted item over the window: the getStats total ``key`` (seconds) / ``count``."""
    n = r1.get(count, 0) - r0.get(count, 0)
    if key not in r1 or n <= 0:
        return None
    return round(1000 * (r1[key] - r0.get(key, 0)) / n, 1)


def _receiver_delays(v0: dict[str, Any], v1: dict[str, Any], a0: dict[str, Any],
                     a1: dict[str, Any]) -> dict[str, float | None]:
    """Chromium's share of the latency over the window (getStats means): the jitter buffers' delay and
    target (video per frame, audio per sample; audio deeper than video holds video back for A/V sync),
    decode, and receive -> decoded (totalProcessingDelay)."""
    return {
        "video_jitter_buffer": _per(v0, v1, "jitterBufferDelay", "jitterBufferEmittedCount"),
        "video_jitter_target": _per(v0, v1, "jitterBufferTargetDelay", "jitterBufferEmittedCount"),
        "video_jitter_minimum": _per(v0, v1, "jitterBufferMinimumDelay", "jitterBufferEmittedCount"),
        "video_assembly": _per(v0, v1, "totalAssemblyTime", "framesAssembledFromMultiplePackets"),
        "video_decode": _per(v0, v1, "totalDecodeTime", "framesDecoded"),
        "video_processing": _per(v0, v1, "totalProcessingDelay", "framesDecoded"),
        "audio_jitter_buffer": _per(a0, a1, "jitterBufferDelay", "jitterBufferEmittedCount"),
        "audio_jitter_target": _per(a0, a1, "jitterBufferTargetDelay", "jitterBufferEmittedCount"),
        "audio_jitter_minimum": _per(a0, a1, "jitterBufferMinimumDelay", "jitterBufferEmittedCount"),
    }


def _main_layer_share(result: dict[str, Any], window: tuple[float, float],
                      studio_lines: list[dict[str, Any]]) -> float | None:
    """Share of the window's frames as tall as what the studio streamed when it composited them:
    the viewer got the relay's main layer, not its low one (``full_res_share_pct`` also counts
    the studio's own ladder steps: at 360p every frame is small, on either layer)."""
    steps = sorted((o["t"] * 1000, int(m.group(1))) for o in studio_lines if "stats" in o
                   and (m := re.match(r"(\d+)p", str(o["stats"].get("ladder_step") or ""))))
    t0, t1 = window
    frames = [f for f in result["frames"] if t0 <= f[0] < t1]
    if not steps or not frames:
        return None
    times = [t for t, _ in steps]
    main = sum(1 for f in frames
               if f[2] >= steps[max(0, bisect.bisect_right(times, f[1] if f[1] is not None else f[0]) - 1)][1])
    return round(100 * main / len(frames), 1)


def _freeze_details(result: dict[str, Any], t0: float, t1: float) -> list[dict[str, Any]]:
    """Each freeze in the window: when it ended (wall-clock s, to line up with ``DLS_RTP_TRACE``), its
    length, how far the stamp moved across it (one frame interval: the next frame was late; the whole
    gap: frames were skipped, a keyframe wait) and the PLIs Chromium sent around it."""
    frames = [f for f in result["frames"] if f[0] < t1]
    display = [f[0] for f in frames]
    stats = [r for r in result.get("stats") or [] if "video" in r]
    found = []
    for gap, end in freezes(display):
        if end < t0:
            continue
        i = display.index(end)
        before, after = frames[i - 1][1], frames[i][1]
        plis = [r["video"].get("pliCount", 0) for r in stats if end - gap - 500 <= r["t"] <= end + 500]
        found.append({"end_s": round(end / 1000, 3), "gap_ms": round(gap),
                      "stamp_step_ms": None if before is None or after is None else round(after - before),
                      "latency_after_ms": None if after is None else round(end - after),
                      "chromium_plis_near": plis[-1] - plis[0] if len(plis) > 1 else None})
    return found


def _round(value: Any) -> float:
    return round(float(value), 1)


def _check_targets(name: str, out: dict[str, Any]) -> list[dict[str, Any]]:
    checked = []
    for target in TARGETS.get(name, ()):
        source = out if target.viewer == "studio" else out["viewers"].get(target.viewer, {})
        figure = source.get(target.metric)
        ok = target.check(figure)
        checked.append({"who": target.viewer, "metric": target.metric, "target": f"{target.op} {target.value:g}",
                        "figure": figure, "result": "n/a" if ok is None else ("PASS" if ok else "MISS")})
    return checked


# ---- the table -----------------------------------------------------------------------------------

_COLUMNS = (("studio_fps", "studio fps"), ("frames_pct", "frames%"), ("freezes_per_min", "frz/min"), ("freeze_s_per_min", "frz s/min"),
            ("latency_p50_ms", "p50 ms"), ("latency_p95_ms", "p95 ms"), ("audio_concealed_pct", "aud conc%"),
            ("bitrate_kbps", "kbps"), ("ladder_step", "ladder"), ("recovery_s", "recov s"))


def format_table(report: dict[str, Any]) -> str:
    head = f"{'profile':<18}" + "".join(f"{label:>11}" for _, label in _COLUMNS)
    lines = [head, "-" * len(head)]
    for name, prof in report["profiles"].items():
        if "error" in prof:
            lines.append(f"{name:<18}  ERROR: {prof['error'].splitlines()[0]}")
            continue
        rows = [(name, prof)]
        if len(prof["viewers"]) > 1:
            rows = [(f"{name}/{role}", {**prof, **v}) for role, v in prof["viewers"].items()]
        for label, fig in rows:
            cells = "".join(f"{'-' if fig.get(k) is None else fig.get(k)!s:>11}" for k, _ in _COLUMNS)
            lines.append(f"{label:<18}{cells}")
        for t in prof["targets"]:
            lines.append(f"{'':<18}  target {t['who']} {t['metric']} {t['target']}: {t['figure']} {t['result']}")
    lines.append(f"freezes: {FREEZE_DEFINITION}")
    return "\n".join(lines)


# ---- entry ---------------------------------------------------------------------------------------


def _profiles(text: str) -> list[Profile]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in PROFILES]
    if unknown or not names:
        raise ValueError(f"--profiles: unknown {', '.join(unknown) or '(none given)'}; "
                         f"choose from {', '.join(PROFILES)}")
    if "clean" not in names:
        names.insert(0, "clean")  # every run carries its clean baseline
    return [PROFILES[n] for n in names]


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.seconds <= 0:
        raise ValueError("--seconds must be positive")
    variants = [v.strip() for v in getattr(args, "variants", "").split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ValueError(f"--variants: unknown {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    report = measure(_profiles(args.profiles), args.seconds, _RED_VARIANTS[getattr(args, "audio_red", "on")],
                     variants=variants, dump=getattr(args, "dump", None))
    if not getattr(args, "json", False):
        print(format_table(report), file=sys.stderr)
    return report


_RED_VARIANTS = {"on": (True,), "off": (False,), "both": (True, False)}


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """The children (studio, relay) read these from their environment (``studio.webrtc``)."""
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _audio_red(on: bool) -> contextlib.AbstractContextManager[None]:
    from studio.webrtc.audio_red import ENV

    return _environment({ENV: "1" if on else "0"})


def measure(profiles: list[Profile], seconds: float, audio_red: tuple[bool, ...] = (True,),
            variants: list[str] | None = None, dump: Path | None = None) -> dict[str, Any]:
    """Run ``profiles`` one after the other, ``seconds`` measured each (each once per ``audio_red``
    setting, then once per name in ``variants``, side by side); the report `run` prints."""
    if dump is not None:
        dump.mkdir(parents=True, exist_ok=True)
    check_requirements()
    from studio.chromium import CHROMIUM

    if not os.path.exists(CHROMIUM):
        raise ValueError(f"the network bench needs Chromium at {CHROMIUM} (apt-get install chromium)")
    remove_stale()
    load_before = os.getloadavg()[0]
    log_dir = Path(tempfile.mkdtemp(prefix="dls-bench-network-"))
    # Ctrl-C and SIGTERM both end the run through the finally blocks (namespaces, processes)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    failed = False
    report_profiles: dict[str, Any] = {}
    try:
        collection, height = _stamped_demo(log_dir)
        runs: list[tuple[Profile, bool, str | None]] = [(p, r, None) for p in profiles for r in audio_red]
        runs += [(p, audio_red[0], v) for p in profiles for v in variants or ()]
        for profile, red, variant in runs:
            name = profile.name if red or audio_red == (False,) else f"{profile.name} no-red"
            if variant:
                name = f"{profile.name} {variant}"
            print(f"network bench: {name} ({profile.describe()}), {seconds:g} s ...", file=sys.stderr, flush=True)
            switched = VARIANTS[variant] if variant else Variant()
            try:
                with _audio_red(red), _environment(dict(switched.env)):
                    report_profiles[name] = _run_profile(
                        profile, seconds, collection, height, log_dir, switched.viewer_args,
                        dump / f"{name.replace(' ', '_')}.json" if dump is not None else None)
                report_profiles[name]["audio_red"] = red
            except (TimeoutError, RuntimeError) as exc:
                failed = True
                report_profiles[name] = {"error": str(exc), "logs": str(log_dir)}
            print(f"network bench: {name}: " + json.dumps(
                {k: v for k, v in report_profiles[name].items() if not isinstance(v, dict | list)}),
                file=sys.stderr, flush=True)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if not failed:  # the children's logs stay only when something went wrong
            shutil.rmtree(log_dir, ignore_errors=True)
    return {
        "seconds_per_profile": seconds,
        "warmup_s": WARMUP_S,
        "path": "demo show + latency stamp -> our encoder (Show, default StreamTarget) -> WHIP -> studio serve "
                "relay -> headless Chromium viewer page; each in its own network namespace",
        "freeze_definition": FREEZE_DEFINITION,
        "frames_pct_definition": "Chromium presentedFrames in the window / frames the studio composited in it",
        "recovery_definition": "network back -> first presented frame composited after it",
        "cpu_count": os.cpu_count(),
        "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],  # before, after: a busy machine
        "profiles": report_profiles,
    }


def _raise_interrupt(*_: object) -> None:
    raise KeyboardInterrupt


__all__ = ["PROFILES", "Profile", "format_table", "freezes", "measure", "run"]
