"""The processes of `studio bench network`, each started inside its own network namespace.

``python -m studio.bench._network_peers studio COLLECTION WHIP_URL --token-env VAR``
    The show as `studio headless --stream` runs it (``Show`` without local serving, the default
    ``StreamTarget`` bitrate range and rate control), plus one JSON line per WHIP stats poll on
    stdout (the product's ``WhipStats``; headless prints no stats yet). Stops on "stop" or EOF on stdin.

``python -m studio.bench._network_peers viewer PAGE_URL --program-height H``
    Headless Chromium on the relay's viewer page. It prints ``{"ready": ...}`` once the video plays,
    then records every presented frame (``requestVideoFrameCallback``: display time, the latency
    stamp's value, frame height, presented count, receive time of its last packet) and polls ``getStats`` every 500 ms; on "stop" it prints
    ``{"result": ...}`` and exits. The page is not changed: an init script keeps a reference to the
    page's RTCPeerConnection so ``getStats`` can be read.

Both print one JSON object per line; anything else they log goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from studio.bench.stamp_page import STAMP_READER_JS
from studio.chromium import CHROMIUM, CHROMIUM_ARGS

_out_lock = threading.Lock()


def emit(obj: dict[str, Any]) -> None:
    with _out_lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


# ---- the studio ----------------------------------------------------------------------------------


def run_studio(collection_path: Path, whip_url: str, token_env: str) -> int:
    from studio.display import use_offscreen_qt

    use_offscreen_qt()
    from studio.outputs.pipeline import StreamTarget
    from studio.outputs.whip_events import OutputState, WhipStats
    from studio.session import open_collection
    from studio.show import Show
    from studio.stream_token import resolve_token

    collection, _ = open_collection(collection_path)
    show = Show(collection, serve_locally=False)

    def on_stats(stats: WhipStats) -> None:
        emit({"t": time.time(), "frames": show.studio.frames, "stats": asdict(stats)})

    def on_state(state: OutputState) -> None:
        emit({"t": time.time(), "state": state.state.value, "message": state.message})

    show.pipeline.stream_stats.connect(on_stats)
    show.pipeline.stream_state.connect(on_state)
    try:
        show.start()
        show.start_streaming(StreamTarget(whip_url, resolve_token(whip_url, token_env)))
        sys.stdin.readline()  # "stop", or EOF when the bench goes away
    finally:
        show.stop()
    emit({"t": time.time(), "stopped": True, "frames": show.studio.frames})
    return 0


# ---- the viewer ----------------------------------------------------------------------------------

# Runs before the page's scripts: remember every RTCPeerConnection the page makes.
_PC_HOOK = """
(() => {
  const Native = window.RTCPeerConnection;
  window.__benchPcs = [];
  function Hooked(...args) { const pc = new Native(...args); window.__benchPcs.push(pc); return pc; }
  Hooked.prototype = Native.prototype;
  Object.setPrototypeOf(Hooked, Native);
  window.RTCPeerConnection = Hooked;
})();
"""

# --no-av-sync: each m-section of the answer in a media stream of its own (aiortc names one for all), so
# Chromium's A/V sync does not hold video back to the audio's jitter buffer (a latency A/B).
_SPLIT_STREAMS = """
(() => {
  const native = RTCPeerConnection.prototype.setRemoteDescription;
  RTCPeerConnection.prototype.setRemoteDescription = function (desc, ...rest) {
    if (desc && desc.sdp) {
      const parts = desc.sdp.split(/(?=^m=)/m);
      const sdp = parts.map((part, i) => part.replace(/^(a=msid:|a=ssrc:\\d+ msid:)(\\S+)/gm,
                                                      (m, head, id) => head + id + '-' + i)).join('');
      desc = { type: desc.type, sdp };
    }
    return native.call(this, desc, ...rest);
  };
})();
"""

# Every presented frame (requestVideoFrameCallback): display time, the stamp's value (scaled for a
# smaller picture from the rate ladder), height, presentedFrames; and a getStats poll every 500 ms.
_PROBE = """
(programHeight) => {
  const video = document.getElementById('video');
  const readStamp = (""" + STAMP_READER_JS + """)(video, programHeight);
  const frames = []; const stats = [];
  window.benchFrames = frames; window.benchStats = stats;
  const onFrame = (now, meta) => {
    // WebRTC frames also carry when their last packet arrived: upstream vs Chromium's own share
    frames.push([performance.timeOrigin + meta.expectedDisplayTime, readStamp(meta.height), meta.height,
                 meta.presentedFrames, meta.receiveTime ? performance.timeOrigin + meta.receiveTime : null]);
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  const pick = (s, keys) => Object.fromEntries(keys.filter((k) => k in s).map((k) => [k, s[k]]));
  const poll = async () => {
    const pcs = window.__benchPcs || [];
    if (!pcs.length) return;
    const report = await pcs[pcs.length - 1].getStats();
    const row = { t: Date.now() };
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      row[s.kind] = pick(s, ['bytesReceived', 'packetsReceived', 'packetsLost', 'framesDecoded',
        'framesDropped', 'framesReceived', 'keyFramesDecoded', 'frameHeight', 'freezeCount',
        'totalFreezesDuration', 'nackCount', 'pliCount', 'concealedSamples', 'totalSamplesReceived',
        'concealmentEvents', 'jitterBufferDelay', 'jitterBufferEmittedCount', 'jitterBufferTargetDelay',
        'jitterBufferMinimumDelay', 'totalDecodeTime', 'totalProcessingDelay', 'totalAssemblyTime',
        'framesAssembledFromMultiplePackets', 'jitter']);
    });
    stats.push(row);
  };
  setInterval(poll, 500);
  poll();
}
"""


def run_viewer(url: str, program_height: int, split_streams: bool = False) -> int:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # host candidates as plain addresses: mDNS names cannot be resolved across our namespaces
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            *CHROMIUM_ARGS, "--disable-features=WebRtcHideLocalIpsWithMdns"])
        try:
            page = browser.new_page()
            page.add_init_script(_PC_HOOK)
            if split_streams:
                page.add_init_script(_SPLIT_STREAMS)
            page.goto(url, wait_until="domcontentloaded")
            page.wait_for_function("document.getElementById('video').videoWidth > 0", timeout=60_000)
            page.evaluate(_PROBE, program_height)
            emit({"t": time.time(), "ready": True,
                  "video_height": page.evaluate("document.getElementById('video').videoHeight")})
            sys.stdin.readline()  # "stop", or EOF when the bench goes away
            result = page.evaluate("({frames: window.benchFrames, stats: window.benchStats,"
                                   " state: window.viewerState && window.viewerState.state})")
        finally:
            browser.close()
    emit({"t": time.time(), "result": result})
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="studio.bench._network_peers")
    sub = parser.add_subparsers(dest="role", required=True)
    studio = sub.add_parser("studio")
    studio.add_argument("collection", type=Path)
    studio.add_argument("whip_url")
    studio.add_argument("--token-env", required=True)
    viewer = sub.add_parser("viewer")
    viewer.add_argument("url")
    viewer.add_argument("--program-height", type=int, required=True)
    viewer.add_argument("--no-av-sync", action="store_true", help="audio and video in separate media streams")
    args = parser.parse_args(argv)
    if args.role == "studio":
        return run_studio(args.collection, args.whip_url, args.token_env)
    return run_viewer(args.url, args.program_height, args.no_av_sync)


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    raise SystemExit(main())
