"""`studio bench cohost`: co-host guests on the studio side, as they run in the show.

Two guests send stamped 1280x720 30 fps H.264 (what a browser's camera sends, pre-encoded so the
bench's own encoding does not load the machine) and 20 ms Opus, packet by packet from the ``net``
loop at their real rate, through an in-process guest link into the product's path: the guest
stage, each guest's decoder worker, the guest sources side by side in the program (the engine's
real-time clock at 720p30), the mixer with their channels and their mix-minus return feeds (Opus
encoders). A reader thread reads each guest's stamp (its frame number) out of the published
program and times it against the moment that frame's packets were handed to the link:

- ``guest_to_program_ms_p50/p95``: packet delivered -> composited program frame (target p95 <= 150 ms
  at 720p30). A browser adds its camera capture and encode before that, the network after.
- ``guest_decode_cores``: CPU seconds of one guest's decoder thread (decode + scale + convert) per
  second of wall time (target <= 0.25 at 720p30).
- ``lagged_pct_2_guests``: the clock's lagged frames while both guests play, beside
  ``lagged_pct_no_guests`` for the same program without them, measured first in the same run;
  with the clock's own render time (``render_ms_*_no_guests_vs_2_guests``). These come from a phase
  in which the bench reads no stamps (that work would compete with the clock for the GIL); the
  latency figures from the phase after it.
- ``round_trip_ms_p50/p95``: the conversational delay, with a real guest page in headless
  Chromium: a program stamp -> WHIP -> relay -> the guest page's return feed -> the page sends what
  it displays back as its camera (canvas capture) -> the guest ingest -> the guest source ->
  program (``studio.bench._cohost_round_trip``; target p95 <= 400 ms). Null when Chromium is missing.

The machine is shared: compare the figures side by side, and run again before trusting one number.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import threading
import time
from typing import Any

import numpy as np

from scenes.model import SceneCollection, SceneItem, VideoFormat
from scenes.stamp import draw_stamp, read_stamp
from studio.audio.mixer import AudioMixer
from studio.chromium import CHROMIUM
from studio.engine import Studio
from studio.events import ProgramFrame
from studio.guests.layouts import guest_layout
from studio.guests.stage import GuestStage
from studio.guests.synthetic import InProcessGuestLink, SyntheticGuestAudio, SyntheticGuestVideo
from studio.net.loop import NetLoop
from studio.services.guest_link import GuestPacket

HELP = "co-host guests: guest -> program latency, decode cost, the clock with two guests"
TARGET_GUEST_TO_PROGRAM_P95_MS = 150.0
TARGET_ROUND_TRIP_P95_MS = 400.0
TARGET_DECODE_CORES = 0.25
TARGET_LAGGED_PCT = 0.5
WIDTH, HEIGHT, FPS = 1280, 720, 30
LOOP_FRAMES = 150  # five seconds of pre-encoded camera, played in a loop
# a camera's clock is not the studio's: at 29.7 fps the guest's frames drift through every phase of
# the program's 30 fps ticks every 3.3 s, so no lucky (or unlucky) fixed phase decides the figures
GUEST_FPS = 29.7


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=15.0,
                        help="seconds with two guests for the clock and decode cost (default 15)")
    parser.add_argument("--latency-seconds", type=float, default=10.0,
                        help="seconds with two guests reading their stamps off the program (default 10)")
    parser.add_argument("--baseline-seconds", type=float, default=8.0,
                        help="seconds of the same program without guests, first (default 8)")
    parser.add_argument("--codec", choices=("h264", "vp8"), default="h264", help="the guests' video codec")
    parser.add_argument("--round-trip-seconds", type=float, default=15.0,
                        help="seconds of the Chromium round trip, after the rest (default 15; 0 = skip)")


def _thread_cpu_s(prefix: str) -> dict[str, float]:
    out = {}
    for thread in threading.enumerate():
        if thread.name.startswith(prefix) and thread.ident is not None:
            with contextlib.suppress(OSError, AttributeError):
                out[thread.name] = time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
    return out


def _camera(codec: str, seed: int) -> list[list[GuestPacket]]:
    """LOOP_FRAMES stamped pictures (frame number = loop index), encoded once."""
    enc = SyntheticGuestVideo(codec, WIDTH, HEIGHT, FPS, bitrate=2_500_000, gop=LOOP_FRAMES)  # type: ignore[arg-type]
    rng = np.random.default_rng(seed)
    base = rng.integers(30, 220, (HEIGHT // 8, WIDTH // 8, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
    frames = []
    for i in range(LOOP_FRAMES):
        img = np.roll(base, i * 4, axis=1).copy()  # motion, as a camera has
        draw_stamp(img, i, i)
        frames.append(enc.encode(img))
    return frames


def _voice() -> list[GuestPacket]:
    t = np.arange(48000) / 48000
    tone = np.repeat((0.2 * np.sin(2 * np.pi * 220 * t))[:, None], 2, axis=1).astype(np.float32)
    return SyntheticGuestAudio().encode(tone)


class _Guest:
    """Plays one pre-encoded guest into its link from the net loop, at the real rate."""

    def __init__(self, index: int, link: InProcessGuestLink, video: list[list[GuestPacket]],
                 voice: list[GuestPacket], net: NetLoop) -> None:
        self.link, self.video, self.voice, self.net = link, video, voice, net
        self.sent_ns = [0] * LOOP_FRAMES
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"bench-guest:{index}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5.0)

    def _run(self) -> None:
        start = time.perf_counter_ns()
        frame_ns = int(1e9 / GUEST_FPS)
        n_video = n_audio = 0
        while not self._stop.is_set():
            now = time.perf_counter_ns()
            video_due = start + n_video * frame_ns
            audio_due = start + n_audio * 20_000_000
            if now >= video_due:
                i = n_video % LOOP_FRAMES
                self.sent_ns[i] = now
                self.net.call_soon(self.link.deliver, self.video[i])
                n_video += 1
            if now >= audio_due:
                self.net.call_soon(self.link.deliver, [self.voice[n_audio % len(self.voice)]])
                n_audio += 1
            wait = min(start + n_video * frame_ns, start + n_audio * 20_000_000) - time.perf_counter_ns()
            if wait > 0:
                self._stop.wait(wait / 1e9)


class _Reader:
    """Reads the guests' stamps from the program off the clock thread."""

    def __init__(self, studio: Studio, regions: list[tuple[int, int]], guests: list[_Guest]) -> None:
        self.studio, self.regions, self.guests = studio, regions, guests
        self.latencies_ms: list[float] = []
        self.unread = 0
        self._last_seen = [-1] * len(guests)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-reader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5.0)

    def _run(self) -> None:
        version = 0
        while not self._stop.is_set():
            frame, version = self.studio.program.wait_newer(version, 0.5)
            if frame is None:
                continue
            assert isinstance(frame, ProgramFrame)
            # copy the stamp corners at once: the canvas ring reuses these pixels a few frames on
            crops = [frame.pixels[y:y + 64, x:x + 240].copy() for x, y in self.regions]
            for k, (guest, crop) in enumerate(zip(self.guests, crops, strict=True)):
                stamp = read_stamp(crop)
                if stamp is None:
                    self.unread += 1
                    continue
                if stamp.frame_number == self._last_seen[k]:
                    continue  # the same guest picture again: only its first time on air is timed
                self._last_seen[k] = stamp.frame_number
                sent = guest.sent_ns[stamp.frame_number % LOOP_FRAMES]
                if sent:
                    self.latencies_ms.append((frame.composite_ns - sent) / 1e6)


def _collection() -> SceneCollection:
    col = SceneCollection("cohost bench", VideoFormat(WIDTH, HEIGHT, FPS))
    col.add_source("backdrop", "color", {"color": "#FF203040", "width": WIDTH, "height": HEIGHT})
    col.add_scene("Co-host").add_item(SceneItem("backdrop"))
    return col


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


def _median(rows: list[tuple[float, float]], column: int) -> float | None:
    """The median over the run's per-second figures (skipping the first, which holds the start)."""
    values = [row[column] for row in rows[1:]]
    return round(float(np.median(values)), 2) if values else None


def run(args: argparse.Namespace) -> dict[str, Any]:
    videos = [_camera(args.codec, seed) for seed in (1, 2)]
    voice = _voice()
    col = _collection()
    # the layout a director applies: two guests side by side, each 640x360 in the middle band
    studio = Studio(col)
    batch = guest_layout(col, "Co-host", "side_by_side", (1, 2))
    studio.submit(batch)
    mixer = AudioMixer()
    stage = GuestStage(studio, mixer)
    net = NetLoop()
    net.start()
    studio.start()
    mixer.start()
    result: dict[str, Any] = {"machine_note": "shared, noisy machine: compare side by side, rerun before trusting"}
    # the clock's own render time each second (ClockStats): what the guests cost the clock itself,
    # apart from lagged frames a loaded machine causes whatever the clock does
    render: list[tuple[float, float]] = []
    studio.events.stats.connect(lambda stats: render.append((stats.render_ms_p50, stats.render_ms_p95)))
    guests: list[_Guest] = []
    reader: _Reader | None = None
    try:
        f0, l0 = studio.frames, studio.lagged
        time.sleep(args.baseline_seconds)
        base_frames, base_lagged = studio.frames - f0, studio.lagged - l0
        base_render = list(render)

        links = [InProcessGuestLink(f"bench-{i}", f"guest {i}") for i in (1, 2)]
        for link in links:
            stage.join(link)
        guests = [_Guest(i, link, videos[i - 1], voice, net) for i, link in enumerate(links, 1)]
        for guest in guests:
            guest.start()
        for slot in (1, 2):
            stage.feeds[slot].frames.wait(10.0)
        # the cost phase: two guests and nothing of the bench's but their senders (reading stamps
        # is CPU work under the GIL, ~2 ms a read: it would count against the clock)
        f1, l1, r1 = studio.frames, studio.lagged, len(render)
        cpu0 = _thread_cpu_s("guest-video:")
        wall0 = time.perf_counter()
        time.sleep(args.seconds)
        wall = time.perf_counter() - wall0
        cpu1 = _thread_cpu_s("guest-video:")
        frames, lagged = studio.frames - f1, studio.lagged - l1
        guest_render = render[r1:]
        # the latency phase: each guest's picture is 640x360 at y=180 (side by side), its stamp at
        # its top-left, read off the published program by a thread of the bench's
        reader = _Reader(studio, [(0, 180), (640, 180)], guests)
        time.sleep(args.latency_seconds)
        reader.stop()
        decode = [(cpu1[name] - cpu0[name]) / wall for name in cpu1 if name in cpu0]
        latencies = reader.latencies_ms
        result.update({
            "codec": args.codec,
            "guest_resolution": f"{WIDTH}x{HEIGHT}@{GUEST_FPS}",
            "guest_to_program_ms_p50": _pct(latencies, 50),
            "guest_to_program_ms_p95": _pct(latencies, 95),
            "guest_to_program_samples": len(latencies),
            "stamps_unread": reader.unread,
            "target_guest_to_program_ms_p95": TARGET_GUEST_TO_PROGRAM_P95_MS,
            "guest_decode_cores": round(max(decode), 3) if decode else None,
            "guest_decode_cores_each": [round(d, 3) for d in decode],
            "target_guest_decode_cores": TARGET_DECODE_CORES,
            "lagged_pct_2_guests": round(100 * lagged / max(1, frames), 2),
            "lagged_pct_no_guests": round(100 * base_lagged / max(1, base_frames), 2),
            "frames_2_guests": frames,
            "frames_no_guests": base_frames,
            "target_lagged_pct": TARGET_LAGGED_PCT,
            "render_ms_p50_no_guests_vs_2_guests": [_median(base_render, 0), _median(guest_render, 0)],
            "render_ms_p95_no_guests_vs_2_guests": [_median(base_render, 1), _median(guest_render, 1)],
            "return_feed_packets": [len(link.returned) for link in links],
            "target_round_trip_ms_p95": TARGET_ROUND_TRIP_P95_MS,
        })
        channels = [stage.channel(link.guest_id) for link in links]
        result["video_packets_dropped"] = [c.video.packets_dropped if c and c.video else 0 for c in channels]
        result["audio_rebuffers"] = [c.audio.ring.rebuffers if c else 0 for c in channels]
    finally:
        if reader is not None:
            reader.stop()
        for guest in guests:
            guest.stop()
        studio.stop()
        mixer.stop()
        stage.close()
        net.stop()
        studio.sources.close()
    result.update(_round_trip(args.round_trip_seconds))
    return result


def _round_trip(seconds: float) -> dict[str, Any]:
    if seconds <= 0:
        return {"round_trip_ms_p95": None, "round_trip_note": "skipped (--round-trip-seconds 0)"}
    if not os.path.exists(CHROMIUM):
        return {"round_trip_ms_p95": None, "round_trip_note": f"needs {CHROMIUM} (the guest page)"}
    from studio.bench._cohost_round_trip import round_trip

    return round_trip(seconds)
