"""`studio bench liveness`: how fast the studio notices a dead WHIP server and is back on air.

The real path: the engine (a test pattern) -> our encoder -> WHIP -> `studio serve` in a child
process on a fixed port, recording meanwhile. Each round SIGKILLs the server, waits until the
stream leaves LIVE, restarts the server on the same port and waits for LIVE again. Reports per
round and as median/max: ``kill_to_detect_s`` (SIGKILL -> not LIVE), ``ready_to_live_s`` (the new
server printed its URL -> LIVE) and ``spawn_to_live_s`` (the new server's process started -> LIVE),
the reason the stream gave, and the largest gap in the recording (it never stops).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av

from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.audio.mixer import AudioMixer
from studio.bench._relay_process import RelayProcess
from studio.engine import Studio
from studio.net.loop import NetLoop
from studio.outputs.pipeline import OutputPipeline, StreamTarget
from studio.outputs.whip_events import OutputState, OutputStatus, WhipStats

HELP = "seconds from a killed WHIP server to 'not live', and from its return to live again"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, default=3, help="kill/restart rounds (default 3)")
    parser.add_argument("--height", type=int, default=720, help="canvas height, 16:9 (default 720)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PushingStudio:
    """Engine + mixer + pipeline: records to ``recording`` and streams to ``url``; notes each state."""

    def __init__(self, url: str, recording: Path, height: int = 720) -> None:
        width = height * 16 // 9
        col = SceneCollection("liveness", VideoFormat(width, height, 30))
        col.add_source("pattern", "test_pattern", {"width": width, "height": height})
        col.add_scene("Show").add_item(SceneItem("pattern"))
        self.url, self.recording = url, recording
        self.studio = Studio(col)
        self.mixer = AudioMixer()
        self.net = NetLoop()
        self.net.start()
        self.pipeline = OutputPipeline(self.studio, self.mixer, net=self.net)
        self.states: list[tuple[float, OutputState]] = []
        self.feedback_age_s: float | None = None  # from the stream's last stats
        self._changed = threading.Condition()
        self.pipeline.stream_state.connect(self._on_state)
        self.pipeline.stream_stats.connect(self._on_stream_stats)
        self.pipeline.stats.connect(lambda _p: self._notify())  # about once a second

    def _on_state(self, state: OutputState) -> None:
        with self._changed:
            self.states.append((time.monotonic(), state))
            self._changed.notify_all()

    def _on_stream_stats(self, stats: WhipStats) -> None:
        self.feedback_age_s = stats.feedback_age_s
        self._notify()

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def wait_until(self, condition: Callable[[], bool], timeout: float = 120.0) -> None:
        """Wait (woken by each state and stats event) until ``condition()`` holds."""
        with self._changed:
            if not self._changed.wait_for(condition, timeout):
                raise TimeoutError(f"not reached within {timeout:g} s: {condition}")

    def start(self) -> None:
        self.studio.start()
        self.mixer.start()
        self.pipeline.start_recording(self.recording)
        self.pipeline.start_streaming(StreamTarget(self.url, min_bitrate_kbps=300, max_bitrate_kbps=2000))

    def wait_for(self, accept: Callable[[OutputState], bool], after: int = 0,
                 timeout: float = 120.0) -> tuple[int, float, OutputState]:
        """The first state from index ``after`` on that ``accept``s: (index, when, state)."""
        def found() -> tuple[int, float, OutputState] | None:
            for i in range(after, len(self.states)):
                when, state = self.states[i]
                if accept(state):
                    return i, when, state
            return None

        with self._changed:
            self._changed.wait_for(lambda: found() is not None, timeout)
            result = found()
        if result is None:
            raise TimeoutError(f"no such stream state within {timeout:g} s: {[s for _, s in self.states]}")
        return result

    def recorded_bytes(self) -> int:
        recorder = self.pipeline.recorder
        return recorder.stats().bytes_written if recorder is not None else 0

    def close(self) -> None:
        self.pipeline.close()
        self.mixer.stop()
        self.studio.stop()
        self.net.stop()


def is_live(state: OutputState) -> bool:
    return state.state is OutputStatus.LIVE


def not_live(state: OutputState) -> bool:
    return state.state is not OutputStatus.LIVE


def restart_on(port: int, home: Path, timeout: float = 120.0) -> RelayProcess:
    """`studio serve` on exactly ``port``; a relay that moved to another port is retried."""
    deadline = time.monotonic() + timeout
    while True:
        relay = RelayProcess(port, home)
        url = relay.start()
        if f":{port}/" in url:
            return relay
        relay.stop()  # the old socket still holds the port (fixed by reuse-address binding)
        if time.monotonic() > deadline:
            raise RuntimeError(f"`studio serve --relay-port {port}` keeps moving to another port: {url}")
        time.sleep(1.0)


def recording_gap_s(path: Path) -> tuple[int, float]:
    """(frames, the largest gap between frame times) of a recording."""
    with av.open(str(path)) as container:
        times = [float(f.time) for f in container.decode(video=0) if f.time is not None]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    return len(times), max(gaps, default=0.0)


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-liveness-"))
    port = free_port()
    relay = RelayProcess(port, work)
    url = relay.start()
    pusher = PushingStudio(url, work / "rec.mkv", args.height)
    rounds: list[dict[str, Any]] = []
    try:
        pusher.start()
        seen, _, _ = pusher.wait_for(is_live)
        for _ in range(args.rounds):
            time.sleep(3.0)  # on air for a while: receiver reports are flowing
            killed = time.monotonic()
            relay.kill()
            seen, left, state = pusher.wait_for(not_live, seen + 1)
            time.sleep(2.0)  # the server stays away a little
            relay = restart_on(port, work)
            seen, back, _ = pusher.wait_for(is_live, seen + 1)
            rounds.append({"kill_to_detect_s": round(left - killed, 2),
                           "ready_to_live_s": round(back - relay.ready_at, 2),
                           "spawn_to_live_s": round(back - relay.spawned_at, 2),
                           "reason": state.message})
        time.sleep(2.0)
    finally:
        pusher.close()
        relay.stop()
    frames, gap = recording_gap_s(pusher.recording)

    def summary(key: str) -> dict[str, float]:
        values = [r[key] for r in rounds]
        return {"median": round(statistics.median(values), 2), "max": max(values)} if values else {}

    return {"bench": "liveness", "rounds": rounds, "kill_to_detect_s": summary("kill_to_detect_s"),
            "ready_to_live_s": summary("ready_to_live_s"), "spawn_to_live_s": summary("spawn_to_live_s"),
            "recording_frames": frames, "recording_max_gap_s": round(gap, 3),
            "targets": {"kill_to_detect_s": 5.0, "ready_to_live_s": 10.0}}
