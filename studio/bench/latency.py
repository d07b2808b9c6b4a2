"""`studio bench latency`: glass-to-glass latency through WHIP and the embedded relay on loopback.

The real path: the engine composites a test-pattern scene whose frames carry their composite time
in the pixels (``scenes.stamp``), our encoder pipeline encodes it once, our WHIP output pushes it
to the embedded relay, and one WHEP receiver reads the stamp when the frame is ready: an aiortc
peer (after decoding) or headless Chromium (``requestVideoFrameCallback``'s expected display
time). Variants run one after the other in the same process and are reported side by side; the
top-level figures are the default configuration's (``marker``):

- ``marker``: the relay releases frames on the RTP marker bit (default), playout delay 0 asked;
- ``stock``: aiortc's stock jitter buffer in the relay (one extra frame per hop);
- Chromium only, ``marker-no-playout-ext``: without the playout-delay header extension.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
import time
from dataclasses import replace
from typing import Any

import aiohttp
import av
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from scenes.model import SceneCollection, SceneItem, VideoFormat
from scenes.stamp import age_ms, read_stamp, wall_clock_ms
from studio.audio.mixer import AudioMixer
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

# The stamp reader for the page (studio/bench/stamp_page.py): no rescaling on this path.
_PAGE_PROBE = """
() => {
  const video = document.getElementById('video');
  const readStamp = (""" + STAMP_READER_JS + """)(video, 0);
  window.latencies = []; window.unread = 0; window.shown = [];
  const onFrame = (now, meta) => {
    const value = readStamp(meta.height);
    window.shown.push(performance.timeOrigin + meta.expectedDisplayTime);
    if (value !== null) {
      window.latencies.push(performance.timeOrigin + meta.expectedDisplayTime - value);
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


async def _aiortc_receiver(url: str, seconds: float, warmup: float, fast_release: bool) -> dict[str, Any]:
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
    except MediaStreamError:
        pass
    finally:
        await pc.close()
    return _summary(values, unread, shown)


def _chromium_receiver(url: str, seconds: float, warmup: float) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page()
            page.goto(url, wait_until="domcontentloaded")
            page.wait_for_function("document.getElementById('video').videoWidth > 0", timeout=30_000)
            time.sleep(warmup)  # let the jitter buffer settle; a benchmark may wait on the clock
            page.evaluate(_PAGE_PROBE)
            time.sleep(seconds)
            values = page.evaluate("window.latencies")
            unread = int(page.evaluate("window.unread"))
            shown = page.evaluate("window.shown")
        finally:
            browser.close()
    return _summary([float(v) for v in values], unread, [float(v) for v in shown])


def _test_pattern_show(size: tuple[int, int], fps: int) -> SceneCollection:
    col = SceneCollection("latency", VideoFormat(size[0], size[1], fps))
    col.add_source("pattern", "test_pattern", {"width": size[0], "height": size[1]})
    col.add_scene("Pattern").add_item(SceneItem("pattern"))
    return col


def _variant(
    net: NetLoop, size: tuple[int, int], args: argparse.Namespace, marker: bool, playout_ext: bool
) -> dict[str, Any]:
    relay = RelayServer(marker_release=marker, playout_delay_zero=playout_ext)
    net.run(relay.start())
    studio = Studio(_test_pattern_show(size, args.fps))
    mixer = AudioMixer()
    kbps = 3000 if size[1] <= 720 else 5000
    pipeline = OutputPipeline(studio, mixer, replace(default_video_settings(studio), bitrate_kbps=kbps), net=net)
    live = threading.Event()
    pipeline.stream_state.connect(lambda state: live.set() if state.state is OutputStatus.LIVE else None)
    try:
        studio.start()
        mixer.start()
        pipeline.start_streaming(StreamTarget(relay.url("/whip/bench"), min_bitrate_kbps=kbps,
                                              max_bitrate_kbps=kbps, playout_delay=playout_ext))
        if not live.wait(30):
            raise RuntimeError("the WHIP output did not go live within 30 s")
        warmup = 2.0
        if args.receiver == "chromium":
            result = _chromium_receiver(relay.url("/view/bench"), args.seconds, warmup)
        else:
            result = net.run(
                _aiortc_receiver(relay.url("/whep/bench"), args.seconds, warmup, marker),
                timeout=args.seconds + 60,
            )
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
    variants: dict[str, tuple[bool, bool]] = {"marker": (True, True), "stock": (False, True)}
    if args.receiver == "chromium":
        variants["marker-no-playout-ext"] = (True, False)
    net = NetLoop("net-bench")
    net.start()
    try:
        results = {name: _variant(net, size, args, m, p) for name, (m, p) in variants.items()}
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
        "target_p95_ms": target,
        "meets_target": None if target is None or main.get("p95_ms") is None else main["p95_ms"] <= target,
        "seconds_per_variant": args.seconds,
        "cpu_count": os.cpu_count(),
        "variants": results,
        "speedup_vs_stock_p95": round(results["stock"]["p95_ms"] / main["p95_ms"], 2)
        if main.get("p95_ms") and results["stock"].get("p95_ms") else None,
        "note": "latency = receiver time at frame ready/display - wall clock stamped at composite",
    }
