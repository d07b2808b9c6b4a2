"""`studio bench latency`: glass-to-glass latency through WHIP and the embedded relay on loopback.

The real path: the engine composites a test-pattern scene whose frames carry their composite time
in the pixels (``scenes.stamp``), our encoder pipeline encodes it once, our WHIP output pushes it
to the embedded relay (the stream built as ``Show.start_streaming`` builds it: default encoder
settings, the product's bitrate range with rate control on; the figures show how the target moved), and one WHEP receiver reads the stamp when the frame is ready: an aiortc
peer (after decoding) or headless Chromium (``requestVideoFrameCallback``'s expected display
time). Variants run one after the other in the same process and are reported side by side; the
top-level figures are the default configuration's (``marker``):

- ``marker``: the relay releases frames on the RTP marker bit (default), playout delay 0 asked;
- ``stock``: aiortc's stock jitter buffer in the relay (one extra frame per hop);
- Chromium only, ``marker-no-playout-ext``: without the playout-delay header extension;
- ``marker-no-pacer``: the studio's and the relay's video senders without pacing (``--variants`` picks).

Each variant also reports where the time goes, per frame: composite -> encoded -> sent -> relay in
-> relay out -> displayed (``studio.bench._stages``; the stage means add up to the mean total).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
import time
from typing import Any

import aiohttp
import av
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from scenes.model import SceneCollection, SceneItem, VideoFormat
from scenes.stamp import age_ms, read_stamp, wall_clock_ms
from studio.audio.mixer import AudioMixer
from studio.bench._stages import StageProbe
from studio.bench.stamp_page import STAMP_READER_JS
from studio.chromium import CHROMIUM, CHROMIUM_ARGS
from studio.engine import Studio
from studio.net import NetLoop
from studio.outputs.pipeline import OutputPipeline, StreamTarget, default_video_settings
from studio.outputs.whip_events import OutputStatus
from studio.services.relay import RelayServer
from studio.webrtc import passthrough

HELP = "glass-to-glass latency via WHIP -> relay -> aiortc or Chromium, relay variants side by side"

RESOLUTIONS = {"720p": (1280, 720), "1080p": (1920, 1080)}
FREEZE_MS = 200.0  # a gap between shown frames longer than this is a visible freeze

# The stamp reader for the page (studio/bench/stamp_page.py), scaled to the frame's height: the
# rate control may give the stream a smaller rendition (a ladder step), the stamp shrinks with it.
_PAGE_PROBE = """
(programHeight) => {
  const video = document.getElementById('video');
  const readStamp = (""" + STAMP_READER_JS + """)(video, programHeight);
  window.latencies = []; window.unread = 0; window.shown = []; window.pairs = [];
  const onFrame = (now, meta) => {
    const value = readStamp(meta.height);
    window.shown.push(performance.timeOrigin + meta.expectedDisplayTime);
    if (value !== null) {
      window.latencies.push(performance.timeOrigin + meta.expectedDisplayTime - value);
      window.pairs.push([value, performance.timeOrigin + meta.expectedDisplayTime]);
    } else { window.unread++; }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--resolution", default="720p", help="720p, 1080p, 1280x720 or 1920x1080 (default 720p)")
    parser.add_argument("--receiver", choices=("aiortc", "chromium"), default="aiortc")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per variant")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--variants", default="",
                        help="comma-separated, from " + ", ".join(VARIANTS) + " (default: all that fit the receiver)")


def _resolution(text: str) -> tuple[int, int]:
    if text in RESOLUTIONS:
        return RESOLUTIONS[text]
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--resolution: expected 720p/1080p or WxH, got {text!r}") from None
    VideoFormat(w, h, 30)  # the canvas sizes the engine supports
    return w, h


def _summary(values: list[float], unread: int, shown_ms: list[float]) -> dict[str, Any]:
    gaps = np.diff(np.asarray(shown_ms, dtype=np.float64)) if len(shown_ms) > 1 else np.zeros(0)
    freezes = int((gaps > FREEZE_MS).sum())
    if not values:
        return {"frames": 0, "frames_unread": unread, "freezes": freezes}
    arr = np.asarray(values, dtype=np.float64)
    return {
        "frames": int(arr.size),
        "frames_unread": unread,
        "p50_ms": round(float(np.percentile(arr, 50)), 1),
        "p95_ms": round(float(np.percentile(arr, 95)), 1),
        "max_ms": round(float(arr.max()), 1),
        "freezes": freezes,
    }


async def _aiortc_receiver(url: str, seconds: float, warmup: float, fast_release: bool,
                           pairs: list[tuple[int, float]]) -> dict[str, Any]:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    transceiver = pc.addTransceiver("video", direction="recvonly")
    if fast_release:
        passthrough.use_fast_release(transceiver.receiver, "video")
    await pc.setLocalDescription(await pc.createOffer())
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=pc.localDescription.sdp, headers={"Content-Type": "application/sdp"}) as resp,
    ):
        if resp.status != 201:
            raise RuntimeError(f"WHEP answered {resp.status}: {await resp.text()}")
        answer = await resp.text()
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    track = transceiver.receiver.track
    loop = asyncio.get_running_loop()
    values: list[float] = []
    shown: list[float] = []
    unread = 0
    start = loop.time()
    try:
        while loop.time() - start < warmup + seconds:
            frame = await asyncio.wait_for(track.recv(), 10)
            now = wall_clock_ms()
            if loop.time() - start < warmup or not isinstance(frame, av.VideoFrame):
                continue
            shown.append(loop.time() * 1000)
            # reading the stamp is CPU work: do it off the loop, after taking the time
            stamp = await loop.run_in_executor(None, read_stamp, frame.to_ndarray(format="gray"))
            if stamp is None:
                unread += 1
            else:
                values.append(float(age_ms(stamp.value, now)))
                pairs.append((stamp.value, float(now)))
    except MediaStreamError:
        pass
    finally:
        await pc.close()
    return _summary(values, unread, shown)


def _chromium_receiver(url: str, seconds: float, warmup: float, pairs: list[tuple[int, float]],
                       program_height: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page()
            page.goto(url, wait_until="domcontentloaded")
            page.wait_for_function("document.getElementById('video').videoWidth > 0", timeout=30_000)
            time.sleep(warmup)  # let the jitter buffer settle; a benchmark may wait on the clock
            page.evaluate(_PAGE_PROBE, program_height)
            time.sleep(seconds)
            values = page.evaluate("window.latencies")
            unread = int(page.evaluate("window.unread"))
            shown = page.evaluate("window.shown")
            pairs.extend((int(v), float(t)) for v, t in page.evaluate("window.pairs"))
        finally:
            browser.close()
    return _summary([float(v) for v in values], unread, [float(v) for v in shown])


def _test_pattern_show(size: tuple[int, int], fps: int) -> SceneCollection:
    col = SceneCollection("latency", VideoFormat(size[0], size[1], fps))
    col.add_source("pattern", "test_pattern", {"width": size[0], "height": size[1]})
    col.add_scene("Pattern").add_item(SceneItem("pattern"))
    return col


class _RateSampler:
    """The stream's rate control as it runs: target and sent bitrate and the ladder's rung,
    sampled every half second on a thread of its own."""

    def __init__(self, pipeline: OutputPipeline) -> None:
        self._pipeline = pipeline
        self._stop = threading.Event()
        self.rows: list[tuple[int, int, str]] = []  # (target bps, sent bps, ladder step)
        self._thread = threading.Thread(target=self._run, name="bench-rate-sampler", daemon=True)

    def __enter__(self) -> _RateSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            stream = self._pipeline.snapshot().stream
            if stream is not None:
                self.rows.append((stream.target_bitrate_bps, stream.bitrate_bps, stream.ladder_step))

    def figures(self, target: StreamTarget) -> dict[str, Any]:
        targets = [t for t, _, _ in self.rows if t > 0]
        changes = sum(1 for a, b in zip(targets, targets[1:], strict=False) if a != b)
        return {
            "range_kbps": [target.min_bitrate_kbps, target.max_bitrate_kbps],
            "target_kbps_min": round(min(targets) / 1000) if targets else None,
            "target_kbps_max": round(max(targets) / 1000) if targets else None,
            "target_changes": changes,
            "sent_kbps_median": round(float(np.median([b for _, b, _ in self.rows])) / 1000) if self.rows else None,
            "ladder_steps": sorted({step for _, _, step in self.rows if step}),
        }


# name -> (marker release, playout-delay extension, pacing)
VARIANTS: dict[str, tuple[bool, bool, bool]] = {
    "marker": (True, True, True),
    "stock": (False, True, True),
    "marker-no-playout-ext": (True, False, True),  # Chromium only
    "marker-no-pacer": (True, True, False),
}


def _variant(
    net: NetLoop, size: tuple[int, int], args: argparse.Namespace, marker: bool, playout_ext: bool,
    pace: bool = True,
) -> dict[str, Any]:
    from studio.webrtc.sender_setup import PACER_ENV

    # the studio's sender and the relay's viewer senders read it when they are set up
    previous = os.environ.get(PACER_ENV)
    os.environ[PACER_ENV] = "1" if pace else "0"
    try:
        return _run_variant(net, size, args, marker, playout_ext)
    finally:
        if previous is None:
            os.environ.pop(PACER_ENV, None)
        else:
            os.environ[PACER_ENV] = previous


def _run_variant(
    net: NetLoop, size: tuple[int, int], args: argparse.Namespace, marker: bool, playout_ext: bool
) -> dict[str, Any]:
    relay = RelayServer(marker_release=marker, playout_delay_zero=playout_ext)
    net.run(relay.start())
    studio = Studio(_test_pattern_show(size, args.fps))
    mixer = AudioMixer()
    # as Show.start_streaming builds it: the canvas's default encoder settings, the product's
    # default bitrate range, rate control on (REMB and loss steer the target within the range)
    pipeline = OutputPipeline(studio, mixer, default_video_settings(studio), net=net)
    target = StreamTarget(relay.url("/whip/bench"), playout_delay=playout_ext)
    live = threading.Event()
    pipeline.stream_state.connect(lambda state: live.set() if state.state is OutputStatus.LIVE else None)
    displayed: list[tuple[int, float]] = []
    try:
        with StageProbe() as probe:
            studio.start()
            mixer.start()
            pipeline.start_streaming(target)
            if not live.wait(30):
                raise RuntimeError("the WHIP output did not go live within 30 s")
            warmup = 2.0
            with _RateSampler(pipeline) as rates:
                if args.receiver == "chromium":
                    result = _chromium_receiver(relay.url("/view/bench"), args.seconds, warmup, displayed, size[1])
                else:
                    result = net.run(
                        _aiortc_receiver(relay.url("/whep/bench"), args.seconds, warmup, marker, displayed),
                        timeout=args.seconds + 60,
                    )
        result["breakdown"] = probe.breakdown(displayed)
        result["bitrate"] = rates.figures(target)
        result["lagged_frames"] = studio.lagged
        stats = pipeline.snapshot().video
        result["encoder_skipped"] = stats.skipped if stats else None
    finally:
        pipeline.close()
        mixer.stop()
        studio.stop()
        net.run(relay.stop())
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    size = _resolution(args.resolution)
    if args.receiver == "chromium" and not os.path.exists(CHROMIUM):
        raise ValueError(f"--receiver chromium needs {CHROMIUM}")
    chosen = [v.strip() for v in getattr(args, "variants", "").split(",") if v.strip()]
    unknown = [v for v in chosen if v not in VARIANTS]
    if unknown:
        raise ValueError(f"--variants: unknown {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    if not chosen:
        chosen = [v for v in VARIANTS if args.receiver == "chromium" or v != "marker-no-playout-ext"]
    if "marker" not in chosen:
        chosen.insert(0, "marker")  # the default configuration: the top-level figures
    variants = {name: VARIANTS[name] for name in chosen}
    net = NetLoop("net-bench")
    net.start()
    try:
        results = {name: _variant(net, size, args, m, p, pace) for name, (m, p, pace) in variants.items()}
    finally:
        net.stop()
    main = results["marker"]
    target = (60.0 if size[1] <= 720 else 80.0) if args.receiver == "chromium" else None
    return {
        "resolution": f"{size[0]}x{size[1]}",
        "fps": args.fps,
        "receiver": args.receiver,
        "frames": main.get("frames", 0),
        "p50_ms": main.get("p50_ms"),
        "p95_ms": main.get("p95_ms"),
        "max_ms": main.get("max_ms"),
        "freezes": main.get("freezes"),
        "breakdown": main.get("breakdown"),
        "bitrate": main.get("bitrate"),
        "target_p95_ms": target,
        "meets_target": None if target is None or main.get("p95_ms") is None else main["p95_ms"] <= target,
        "seconds_per_variant": args.seconds,
        "cpu_count": os.cpu_count(),
        "variants": results,
        "speedup_vs_stock_p95": round(results["stock"]["p95_ms"] / main["p95_ms"], 2)
        if main.get("p95_ms") and results.get("stock", {}).get("p95_ms") else None,
        "note": "latency = receiver time at frame ready/display - wall clock stamped at composite",
    }
