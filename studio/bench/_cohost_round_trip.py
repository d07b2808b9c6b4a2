"""The co-host round trip for `studio bench cohost`: program -> guest page -> back into the program.

The program is the test pattern, whose top-left stamp is the wall clock at composite time. It is
streamed (the product's pipeline, WHIP) to the embedded relay; a headless Chromium guest joins
through the relay's guest ingest and watches the program on its return feed; the page sends what it
displays back as its camera: an init script (bench only, the product page is unchanged) makes
``getUserMedia`` return a canvas that draws the page's program video, captured at 30 fps. The
studio's guest stage decodes it into a guest source laid in the bottom-right quarter of the program.
A reader thread reads the stamp inside that quarter: round trip = composite time of the program
frame - the wall clock stamped when the program it shows was composited.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from scenes.model import SceneCollection, SceneItem, VideoFormat
from scenes.stamp import age_ms, read_stamp
from studio.audio.mixer import AudioMixer
from studio.chromium import CHROMIUM, CHROMIUM_ARGS
from studio.engine import Studio
from studio.events import ProgramFrame
from studio.guests.stage import GuestStage
from studio.net.loop import NetLoop
from studio.outputs.pipeline import OutputPipeline, StreamTarget, default_video_settings
from studio.outputs.whip_events import OutputStatus
from studio.services.guests import CoHost, GuestBook
from studio.services.relay import RelayServer

WIDTH, HEIGHT, FPS = 1280, 720, 30

# The guest's camera is what the page displays: its program video drawn on a canvas, captured.
CANVAS_CAMERA_JS = """
(() => {
  const media = navigator.mediaDevices;
  media.getUserMedia = async (constraints) => {
    const canvas = document.createElement("canvas");
    canvas.width = WIDTH; canvas.height = HEIGHT;
    const ctx = canvas.getContext("2d");
    const draw = () => {
      const video = document.getElementById("program");
      if (video && video.videoWidth) ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    };
    setInterval(draw, 1000 / 60);
    const stream = canvas.captureStream(30);
    if (constraints && constraints.audio) {
      const audio = new AudioContext();
      const tone = audio.createOscillator();
      const out = audio.createMediaStreamDestination();
      tone.connect(out);
      tone.start();
      stream.addTrack(out.stream.getAudioTracks()[0]);
    }
    return stream;
  };
})();
""".replace("WIDTH", str(WIDTH)).replace("HEIGHT", str(HEIGHT))


def _collection() -> SceneCollection:
    col = SceneCollection("cohost round trip", VideoFormat(WIDTH, HEIGHT, FPS))
    col.add_source("pattern", "test_pattern", {"width": WIDTH, "height": HEIGHT})
    col.add_source("Guest 1", "guest", {"slot": 1, "width": WIDTH, "height": HEIGHT})
    scene = col.add_scene("Round trip")
    scene.add_item(SceneItem("pattern"))
    scene.add_item(SceneItem("Guest 1", x=WIDTH / 2, y=HEIGHT / 2, scale_x=0.5, scale_y=0.5))
    return col


class _Reader:
    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self.round_trips_ms: list[float] = []
        self.unread = 0
        self._last: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-round-trip-reader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5.0)

    def _run(self) -> None:
        version = 0
        offset_ms = time.time_ns() / 1e6 - time.perf_counter_ns() / 1e6  # perf -> wall clock
        while not self._stop.is_set():
            frame, version = self.studio.program.wait_newer(version, 0.5)
            if frame is None:
                continue
            assert isinstance(frame, ProgramFrame)
            crop = frame.pixels[HEIGHT // 2:HEIGHT // 2 + 64, WIDTH // 2:WIDTH // 2 + 240].copy()
            stamp = read_stamp(crop)
            if stamp is None:
                self.unread += 1
                continue
            if stamp.value == self._last:
                continue  # the same returned picture again: only its first arrival is timed
            self._last = stamp.value
            now_ms = int(frame.composite_ns / 1e6 + offset_ms)
            self.round_trips_ms.append(float(age_ms(stamp.value, now_ms)))


def round_trip(seconds: float) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    net = NetLoop("net-bench")
    net.start()
    book = GuestBook()
    relay = RelayServer(guest_book=book)
    net.run(relay.start())
    cohost = CoHost(book, net, relay.url("/guest/live"))
    studio = Studio(_collection())
    mixer = AudioMixer()
    stage = GuestStage(studio, mixer)
    stage.bind_cohost(cohost)
    pipeline = OutputPipeline(studio, mixer, default_video_settings(studio), net=net)
    live = threading.Event()
    pipeline.stream_state.connect(lambda s: live.set() if s.state is OutputStatus.LIVE else None)
    reader: _Reader | None = None
    try:
        studio.start()
        mixer.start()
        full = pipeline.video_settings.bitrate_kbps  # as the show streams to its own relay
        pipeline.start_streaming(StreamTarget(relay.url("/whip/live"), min_bitrate_kbps=full,
                                              max_bitrate_kbps=full, adaptive_resolution=False))
        if not live.wait(30):
            raise RuntimeError("the program did not go live on the relay within 30 s")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM,
                                        args=[*CHROMIUM_ARGS, "--use-fake-device-for-media-stream"])
            try:
                page = browser.new_page()
                page.add_init_script(CANVAS_CAMERA_JS)
                invite = cohost.create_invite("round trip")
                base, _, fragment = invite.url.partition("#")
                page.goto(f"{base}?codec=h264#{fragment}", wait_until="domcontentloaded")
                page.wait_for_function("!document.getElementById('join').disabled", timeout=30_000)
                page.click("#join")
                page.wait_for_function("window.guestState.state === 'waiting'", timeout=30_000)
                if not stage.feeds[1].frames.wait(30):
                    raise RuntimeError("no picture from the guest page within 30 s")
                reader = _Reader(studio)
                time.sleep(seconds)
                reader.stop()
                page.close()
            finally:
                browser.close()
    finally:
        if reader is not None:
            reader.stop()
        pipeline.close()
        mixer.stop()
        studio.stop()
        net.run(relay.stop())
        stage.close()
        net.stop()
        studio.sources.close()
    values = reader.round_trips_ms if reader is not None else []
    return {
        "round_trip_ms_p50": round(float(np.percentile(values, 50)), 1) if values else None,
        "round_trip_ms_p95": round(float(np.percentile(values, 95)), 1) if values else None,
        "round_trip_samples": len(values),
        "round_trip_unread": reader.unread if reader is not None else 0,
        "round_trip_note": "program stamp -> WHIP -> relay -> guest page (Chromium) -> canvas capture "
                           "-> guest WHIP -> relay -> guest source -> program; one machine, loopback",
    }
