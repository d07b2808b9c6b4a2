"""The stream's own rendition when the ladder steps below the canvas; the recording keeps the main one.

    canvas --> enc-video (full size) --+--> recorder                       (always the full picture)
                     |                 +--> switch "main" --\\
                     | picture tap                          +--> WHIP output
                     v                                      |
               enc-video-stream (scaled, maybe half rate) --/  switch "scaled"

On the top rung the stream shares the main encode (one encode, as before) and follows the rate
controller's target. Below it a second worker encodes the main worker's I420 pictures scaled to
the rung (scaled on the main encoder's thread, never on the video clock's), and the main encode
goes back to the recording's own bitrate, or pauses (still converting and feeding the scaled one)
when nothing records. ``KeyframeSwitch``
hands over between the two at the newcomer's first keyframe, so a viewer never gets a P-frame
from a picture its decoder has not seen.

A receiver's keyframe request goes to the encoder it is (or is about to be) watching; one within the
encoder's hold-off after an IDR is kept until the hold-off has passed (``encoders.video``): on a
capped uplink a step's first IDR can be lost, and the relay's request for another came 0.25 s after it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace

from encoders.packets import EncodedPacket, PacketSink
from encoders.settings import VideoEncoderSettings
from encoders.video import FallbackListener, VideoEncoderWorker
from studio.outputs.ladder import Rung
from studio.webrtc import trace

log = logging.getLogger(__name__)

MAIN, SCALED = "main", "scaled"


class KeyframeSwitch:
    """Forwards the packets of one source at a time to ``sink``; a newly selected source takes
    over at its first keyframe (the old one keeps flowing until then, but not from a keyframe of
    its own on: a receiver's request for one comes just before a step down, and on a capped link
    that IDR is no use and crowds out the newcomer's: traced on up2m, the 1080p encode's 46 kB
    IDR left 21 ms before the 540p one's 8 kB, the 2 Mbit/s token bucket holds ~40 kB, and the
    picture came back only with the next periodic IDR 1.1 s later). Thread-safe."""

    def __init__(self, sink: PacketSink | None = None, active: str = MAIN,
                 on_switched: Callable[[str], None] | None = None,
                 on_switching: Callable[[str], None] | None = None) -> None:
        """``on_switching(name)``: called with the lock held right before the newcomer's first
        keyframe goes to the sink (the sink's ``new_picture`` moment); ``on_switched`` after it."""
        self._sink = sink
        self._lock = threading.Lock()
        self.active = active
        self.pending: str | None = None
        self._on_switched = on_switched
        self.on_switching = on_switching
        self._restarting: str | None = None  # its next keyframe starts a new picture (a new size)
        self._old_held = False  # the outgoing source sent a keyframe while a switch was pending
        self.switches = 0

    def set_sink(self, sink: PacketSink) -> None:
        with self._lock:
            self._sink = sink

    def select(self, name: str) -> None:
        with self._lock:
            # back to the active source after holding it at a keyframe: it resumes from its next one
            self.pending = None if name == self.active and not self._old_held else name

    def restart(self, name: str) -> None:
        """``name`` changes its picture (another size) at its next keyframe: that keyframe is
        announced to ``on_switching`` as a switch's is."""
        with self._lock:
            self._restarting = name

    def input(self, name: str) -> PacketSink:
        switch = self

        class _Input:
            def put(self, packet: EncodedPacket) -> None:
                switch._put(name, packet)

        return _Input()

    def _put(self, name: str, packet: EncodedPacket) -> None:
        switched = False
        with self._lock:
            if name == self.pending and packet.keyframe:
                self.active, self.pending = name, None
                self._old_held = False
                self.switches += 1
                switched = True
            if name == self.active and self.pending is not None and packet.keyframe:
                self._old_held = True  # from here on its frames need this IDR: none of them goes
            if name != self.active or self._sink is None or (self._old_held and self.pending is not None):
                return
            if packet.keyframe and (switched or name == self._restarting):
                self._restarting = None
                if self.on_switching is not None:
                    try:
                        self.on_switching(name)
                    except Exception:
                        log.exception("switch listener failed")
            if packet.keyframe:
                trace.event("stream_keyframe", source=name, bytes=len(packet.data), switched=switched)
            self._sink.put(packet)  # under the lock: two encoders' packets never interleave at a switch
        if switched and self._on_switched is not None:
            try:
                self._on_switched(name)
            except Exception:
                log.exception("switch listener failed")


class StreamRendition:
    """Applies (rung, bitrate) to the stream: shares the main encode on the top rung, runs a scaled
    one below it. Call ``apply`` under the pipeline's lock; ``close`` stops the scaled worker."""

    def __init__(
        self,
        main: VideoEncoderWorker,
        main_settings: VideoEncoderSettings,
        recording_kbps: Callable[[], int | None],
        on_fallback: FallbackListener | None = None,
    ) -> None:
        self._main = main
        self._main_settings = main_settings
        self._recording_kbps = recording_kbps  # the main encode's rate while the stream is elsewhere
        self._on_fallback = on_fallback
        self._lock = threading.RLock()  # pause decisions come from the net, encoder and UI threads
        self.switch = KeyframeSwitch(None, MAIN, on_switched=self._switched)  # set_sink: the stream
        self._scaled: VideoEncoderWorker | None = None
        self.rung: Rung | None = None
        self.kbps = main_settings.bitrate_kbps
        self._main_input = self.switch.input(MAIN)

    @property
    def main_input(self) -> PacketSink:
        return self._main_input

    @property
    def on_scaled(self) -> bool:
        return self.switch.pending == SCALED or (self.switch.active == SCALED and self.switch.pending is None)

    def apply(self, rung: Rung, top: bool, kbps: int) -> None:
        with self._lock:
            self._apply(rung, top, kbps)

    def _apply(self, rung: Rung, top: bool, kbps: int) -> None:
        self.kbps = kbps
        changed = rung != self.rung
        self.rung = rung
        if top:
            self._main.set_bitrate(kbps)
            self._main.set_paused(False)
            if self.on_scaled:
                self.switch.select(MAIN)
                if self.switch.active == MAIN:  # the scaled one never took over: nothing to wait for
                    self._main.set_tap("stream", None)
                if self.switch.pending == MAIN:  # a switch back, or the main one held at its keyframe
                    self._main.force_keyframe()
                log.info("stream back on the main encode (%s, %d kbps)", rung.label, kbps)
            return
        scaled = self._ensure_scaled(rung, kbps)
        scaled.set_bitrate(kbps)
        if changed:
            scaled.set_rendition(rung.width, rung.height, rung.fps)  # reopens: an IDR
            if self.switch.active == SCALED:
                self.switch.restart(SCALED)  # a new picture on the same source
        if not self.on_scaled:
            scaled.force_keyframe()  # it may have idled on this rung before: start on a keyframe
            self._main.set_tap("stream", scaled.submit_picture)
            self.switch.select(SCALED)
            recording = self._recording_kbps()
            if recording is not None:
                self._main.set_bitrate(recording)
            log.info("stream on its own rendition %s at %d kbps", rung.label, kbps)

    def recording_changed(self) -> None:
        """A recording started or stopped: while the stream has its own rendition, the main
        encode runs at the recording's rate."""
        with self._lock:
            self._recording_changed()

    def _recording_changed(self) -> None:
        recording = self._recording_kbps()
        if self.on_scaled and recording is not None:
            self._main.set_bitrate(recording)
            self._main.set_paused(False)
        elif self.switch.active == SCALED and recording is None:
            self._main.set_paused(True)

    def request_keyframe(self) -> None:
        """A receiver asked for a keyframe: the encoder it is (or is about to be) watching."""
        if (self.switch.pending or self.switch.active) == MAIN:
            self._main.request_keyframe()
        elif (scaled := self._scaled) is not None:
            scaled.request_keyframe()

    def close(self) -> None:
        with self._lock:
            self._main.set_paused(False)
            self._main.set_tap("stream", None)
        scaled, self._scaled = self._scaled, None
        if scaled is not None:
            scaled.stop()

    def _ensure_scaled(self, rung: Rung, kbps: int) -> VideoEncoderWorker:
        if self._scaled is None:
            settings = replace(self._main_settings, width=rung.width, height=rung.height, fps=rung.fps,
                               bitrate_kbps=kbps, max_bitrate_kbps=0)
            worker = VideoEncoderWorker(settings, self.switch.input(SCALED),
                                        on_fallback=self._on_fallback, thread_name="enc-video-stream",
                                        source_fps=self._main_settings.fps)
            worker.start()
            self._scaled = worker
        return self._scaled

    def _switched(self, name: str) -> None:
        if name == MAIN:
            self._main.set_tap("stream", None)  # the scaled worker idles until the next step down
        else:
            with self._lock:
                if self._recording_kbps() is None and self.switch.active == SCALED:
                    self._main.set_paused(True)  # nothing else wants the full-size encode: save the CPU
