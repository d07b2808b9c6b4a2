"""The demo show as it runs on air, for the pipeline and soak benchmarks.

A real :class:`studio.show.Show` (engine, mixer, output pipeline, the local relay and hub, the
interaction service and overlay binding) on the demo collection, recording and streaming to its
own relay the way the window's controls start them. Optionally a small clap-and-flash clip in a
corner of the program, so the recording's A/V offset can be measured. ``sample()`` reads the
figures a director watches: frames, lagged frames, the encoder's skipped frames, and the
process's resident memory.
"""

from __future__ import annotations

import contextlib
import resource
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scenes.model import SceneItem
from studio.outputs.whip_events import OutputStatus
from studio.session import open_collection
from studio.show import Show
from studio.sync_clip import write_sync_clip

SYNC_BOX = (0, 980, 100, 100)  # where the clap-and-flash clip sits on the 1080p canvas


def rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(frozen=True)
class Sample:
    t_s: float  # since the show started
    rss_mb: float
    frames: int
    lagged: int
    skipped: int  # frames the video encoder dropped (queue full)
    cpu_s: float  # process CPU time

    def as_row(self) -> list[float]:
        return [round(self.t_s, 1), round(self.rss_mb, 1), self.frames, self.lagged, self.skipped]


class ShowRun:
    def __init__(self, work: Path, *, sync_seconds: float | None = None, stream: bool = True,
                 record: bool = True, warm: bool = True) -> None:
        with contextlib.redirect_stdout(sys.stderr):  # demo progress must not corrupt the JSON on stdout
            collection, _ = open_collection(None)
        if sync_seconds is not None:
            scene = collection.program_scene or collection.scenes[0].name
            self.flashes = [1.0 + i * 1.0 for i in range(int(sync_seconds) + 2)]
            clip = work / "sync.mp4"
            write_sync_clip(clip, self.flashes, seconds=self.flashes[-1] + 1.0, size=(160, 160))
            collection.add_source("sync", "media", {"path": str(clip), "loop": False})
            x, y, w, h = SYNC_BOX
            collection.scene(scene).add_item(SceneItem("sync", x=x, y=y, scale_x=w / 160, scale_y=h / 160))
        self.show = Show(collection, relay_port=0, hub_port=0)
        if not warm:
            # cold start, as before the clock warmed its sources: for side-by-side figures only
            self.show.studio._clock._prepare = None
        self.stream, self.record = stream, record
        self.recording = work / "bench.mkv"
        self.live = threading.Event()
        self.show.pipeline.stream_state.connect(
            lambda s: self.live.set() if s.state is OutputStatus.LIVE else None)
        self.started = 0.0

    def start(self, live_timeout: float = 20.0) -> None:
        self.started = time.perf_counter()
        self.show.start()
        if self.record:
            self.show.start_recording(self.recording)
        if self.stream:
            self.show.start_streaming()
            self.live.wait(live_timeout)

    def sample(self) -> Sample:
        studio = self.show.studio
        video = self.show.pipeline.snapshot().video
        return Sample(time.perf_counter() - self.started, rss_mb(), studio.frames, studio.lagged,
                      video.skipped if video else 0, time.process_time())

    def stats(self) -> Any:
        return self.show.pipeline.snapshot()

    @property
    def whep_url(self) -> str:
        assert self.show.services is not None
        return self.show.services.relay.url("/whep/live")

    def stop(self) -> None:
        self.show.stop()


def lagged_in_first(seconds: float, work: Path, warm: bool) -> dict[str, Any]:
    """Start the show (recording and streaming, as a director starts it), wait ``seconds`` and
    count the frames the clock lagged meanwhile."""
    run = ShowRun(work, warm=warm)
    try:
        run.start(live_timeout=0)  # do not wait for the stream: the clock runs meanwhile
        time.sleep(seconds)  # a benchmark runs for wall-clock time on purpose
        sample = run.sample()
    finally:
        run.stop()
        run.recording.unlink(missing_ok=True)
    return {"lagged": sample.lagged, "frames": sample.frames}
