"""A second, low layer for the embedded relay: one extra small encode from the same pictures.

The relay switches each viewer between the main stream and this layer from that viewer's own
feedback (``studio.services.layers``), so one viewer on a weak link gets a fluent small picture
while the others keep the full one. The layer is published as its own WHIP session to
``<stream>.low`` (video only; viewers keep the main stream's sound), and only to our own relay:
third-party WHIP servers would show it as a second stream, so they get the main layer alone.
Its pictures are the main encoder's I420 pictures, scaled on the main encoder's thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace

from encoders.packets import EncodedPacket
from encoders.settings import VideoEncoderSettings
from encoders.video import FallbackListener, VideoEncoderWorker
from studio.net.loop import NetLoop
from studio.outputs.whip import WhipConfig, WhipOutput
from studio.secrets import Secret

log = logging.getLogger(__name__)

LOW_LAYER_HEIGHT = 360
LOW_LAYER_KBPS = 500
# The low layer shares the studio's uplink with the main stream. When the main stream's target falls
# below this the uplink cannot carry both (a 1 Mbit/s link: 300 + 500 + audio saturated it and froze
# the stream), and the main stream is then small enough for weak viewers itself: the low layer stops.
LOW_LAYER_MIN_MAIN_KBPS = 1500
# It comes back once the main target has stayed at or above this for LOW_LAYER_RESUME_S (one dip
# must not leave weak viewers without it for the rest of the show; the gap to the stop threshold and
# the wait keep a link near 1.5 Mbit/s from starting and stopping it over and over)
LOW_LAYER_RESUME_MAIN_KBPS = 2000
LOW_LAYER_RESUME_S = 10.0
LOW_SUFFIX = ".low"


def low_layer_url(whip_url: str) -> str:
    """``.../whip/live`` -> ``.../whip/live.low`` (the relay pairs the two by name)."""
    return whip_url.rstrip("/") + LOW_SUFFIX


def low_layer_size(width: int, height: int) -> tuple[int, int] | None:
    """The layer's size for a canvas (same aspect, 360 lines), or None when the canvas is that small."""
    if height <= LOW_LAYER_HEIGHT:
        return None
    return max(2, round(width * LOW_LAYER_HEIGHT / height / 2) * 2), LOW_LAYER_HEIGHT


class LowLayerGate:
    """Whether the uplink has room for the low layer beside the main stream, from the main
    stream's target: no as soon as it dips below ``LOW_LAYER_MIN_MAIN_KBPS``, yes again once it has
    stayed at or above ``LOW_LAYER_RESUME_MAIN_KBPS`` for ``LOW_LAYER_RESUME_S``. Not thread-safe
    (the pipeline calls it under its lock)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.allowed = True
        self._above_since: float | None = None

    def update(self, main_kbps: int, link_capped: bool = False) -> bool:
        """``link_capped``: the rate controller has measured the uplink's capacity (it is full). Its
        target then fits the main stream alone into that capacity — the low layer's own session is
        not in it — so the low layer would overflow the link: it stops, and the resume wait starts
        only once the link no longer measures full."""
        if main_kbps < LOW_LAYER_MIN_MAIN_KBPS or link_capped:
            self.allowed, self._above_since = False, None
        elif not self.allowed:
            now = self._clock()
            if main_kbps < LOW_LAYER_RESUME_MAIN_KBPS:
                self._above_since = None
            elif self._above_since is None:
                self._above_since = now
            elif now - self._above_since >= LOW_LAYER_RESUME_S:
                self.allowed, self._above_since = True, None
        return self.allowed


class LowLayer:
    """Owns the low layer's encoder and WHIP session. ``start``/``stop`` from a non-net thread."""

    def __init__(self, main: VideoEncoderWorker, canvas: VideoEncoderSettings, url: str,
                 token: Secret | None, net: NetLoop, on_fallback: FallbackListener | None = None) -> None:
        size = low_layer_size(canvas.width, canvas.height)
        if size is None:
            raise ValueError(f"a {canvas.width}x{canvas.height} canvas needs no low layer")
        self._main = main
        settings = replace(canvas, width=size[0], height=size[1], bitrate_kbps=LOW_LAYER_KBPS,
                           max_bitrate_kbps=0)
        self.worker = VideoEncoderWorker(settings, self, on_fallback=on_fallback, thread_name="enc-video-low",
                                         source_fps=canvas.fps)
        self._url, self._token, self._net = url, token, net
        self.output: WhipOutput | None = None

    def put(self, packet: EncodedPacket) -> None:  # the worker's sink
        output = self.output
        if output is not None:
            output.put(packet)

    def start(self) -> WhipOutput:
        self.worker.start()
        config = WhipConfig(url=self._url, token=self._token, video=self.worker.stream_info,
                            min_bitrate_bps=LOW_LAYER_KBPS * 1000, max_bitrate_bps=LOW_LAYER_KBPS * 1000)
        self.output = WhipOutput(config, self._net, on_keyframe_request=self.worker.request_keyframe)
        self._main.set_tap("low-layer", self.worker.submit_picture)
        self.output.start()
        log.info("low layer %dx%d at %d kbps -> %s", self.worker.stream_info.width,
                 self.worker.stream_info.height, LOW_LAYER_KBPS, self._url)
        return self.output

    def stop(self) -> None:
        self._main.set_tap("low-layer", None)
        output, self.output = self.output, None
        if output is not None:
            output.stop()
        self.worker.stop()
