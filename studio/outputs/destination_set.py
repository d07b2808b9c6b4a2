"""The running destinations of one ``OutputPipeline``: start/stop each or all, their stats as events.

Renditions (see ``destinations``): the first WHIP destination is the pipeline's adaptive stream
(``start_streaming``: rate control, ladder, low layer for our own relay). Further WHIP destinations
and every RTMP/SRT destination take the main encode's packets; RTMP/SRT also take AAC (one AAC
encode for all of them and an .mp4 recording). While any of them runs, the main encode keeps going
at the user's bitrate when the WHIP stream steps down to its own rendition. On the ladder's top rung
the WHIP stream shares the main encode, whose rate then follows the WHIP receiver's estimate within
the stream's range; the ladder leaves the top rung when that estimate falls (below ~0.04 bit/pixel),
so the platforms see at most a moderate dip, never the WHIP link's worst moments.

Each destination is isolated: a ``MuxDestination`` has its own queue and thread, an extra WHIP
output its own asyncio task and bounded track queues. Stats are published on the engine's stats
tick (once a second) as ``DestinationStats`` events (``events.changed``).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from studio.outputs.destinations import (
    Destination,
    DestinationEvents,
    DestinationKind,
    DestinationStats,
)
from studio.outputs.mux_destination import Connector, MuxDestination, WriterConfig
from studio.outputs.rtmp import RtmpConnector
from studio.outputs.whip import WhipConfig, WhipOutput
from studio.outputs.whip_events import OutputState, OutputStatus, WhipStats
from studio.secrets import Secret

if TYPE_CHECKING:
    from studio.outputs.pipeline import OutputPipeline, StreamTarget

log = logging.getLogger(__name__)


class _Running:
    """One started destination and what it needs for its stats."""

    def __init__(self, dest: Destination, output: MuxDestination | WhipOutput, primary: bool) -> None:
        self.dest = dest
        self.output = output
        self.primary = primary  # the pipeline's own adaptive WHIP stream
        self.stats = DestinationStats(dest.id, dest.name, dest.kind or DestinationKind.WHIP, OutputStatus.IDLE)
        self.reconnects = 0
        self.whip: WhipStats | None = None
        self.last_status = OutputStatus.IDLE
        self.disconnects: list[Callable[[], None]] = []


class DestinationSet:
    def __init__(self, pipeline: OutputPipeline) -> None:
        self._pipeline = pipeline
        self._lock = threading.RLock()
        self._running: dict[str, _Running] = {}
        self.events = DestinationEvents()
        self.writer_config = WriterConfig()  # queue size, backoff, I/O timeout of RTMP/SRT writers

    # ---- what the pipeline asks -------------------------------------------------------------
    def needs_main_encode(self) -> bool:
        """Destinations that take the main encode (RTMP, SRT, extra WHIP)."""
        with self._lock:
            return any(not r.primary for r in self._running.values())

    def needs_aac(self) -> bool:
        with self._lock:
            return any(isinstance(r.output, MuxDestination) for r in self._running.values())

    def needs_opus(self) -> bool:
        with self._lock:
            return any(isinstance(r.output, WhipOutput) and not r.primary for r in self._running.values())

    @property
    def ids(self) -> list[str]:
        with self._lock:
            return list(self._running)

    # ---- start / stop (any thread but the clock's and the net loop's) -------------------------------
    def start(self, dest: Destination, key: Secret | None = None, passphrase: Secret | None = None) -> None:
        """Start one destination; ``key`` is its stream key or bearer token, ``passphrase`` SRT's."""
        p = self._pipeline
        with self._lock:
            if dest.id in self._running:
                raise ValueError(f"destination {dest.name} is already running")
            if dest.kind == DestinationKind.WHIP and p.stream is None:

                stream = p.start_streaming(self._target(dest, key))
                running = _Running(dest, stream, primary=True)
                self._running[dest.id] = running
                running.disconnects = [stream.state_changed.connect(functools.partial(self._on_state, running)),
                                       p.stream_stats.connect(functools.partial(self._on_whip_stats, running))]
                self._on_state(running, stream.state)
                return
            with p._lock:
                video = p._ensure_video()
                if dest.kind == DestinationKind.WHIP:
                    opus = p._ensure_opus()
                    output: MuxDestination | WhipOutput = WhipOutput(
                        WhipConfig(url=dest.url, token=key, video=video.stream_info, audio=opus.stream_info),
                        p._ensure_net(), on_keyframe_request=video.request_keyframe)
                    sinks = [(p.video_fanout, output), (p.opus_fanout, output)]
                else:
                    aac = p._ensure_aac()
                    output = MuxDestination(dest.id, self._connector(dest, key, passphrase), video.stream_info,
                                            aac.stream_info, describe=dest.display_url,
                                            config=self.writer_config, request_keyframe=video.request_keyframe)
                    sinks = [(p.video_fanout, output), (p.aac_fanout, output)]
                running = _Running(dest, output, primary=False)
                self._running[dest.id] = running
                output.state_changed.connect(functools.partial(self._on_state, running))
                if isinstance(output, WhipOutput):
                    output.stats_changed.connect(functools.partial(self._on_whip_stats, running))
                for fanout, sink in sinks:
                    fanout.add_sink(_sink_name(dest), sink)
                if p._rendition is not None:
                    p._rendition.recording_changed()  # the main encode must not pause now
        output.start()

    def stop(self, dest_id: str) -> None:
        p = self._pipeline
        with self._lock:
            running = self._running.pop(dest_id, None)
        if running is None:
            return
        for disconnect in running.disconnects:
            disconnect()
        if running.primary:
            p.stop_streaming()
        else:
            for fanout in (p.video_fanout, p.opus_fanout, p.aac_fanout):
                fanout.remove_sink(_sink_name(running.dest))
            running.output.stop()
            with p._lock:
                if p._rendition is not None:
                    p._rendition.recording_changed()
            p._release_unused()
        self._on_state(running, OutputState(OutputStatus.STOPPED, "stopped"))
        self.events.removed.emit(dest_id)

    def start_all(self, dests: list[tuple[Destination, Secret | None, Secret | None]]) -> list[str]:
        """Start every enabled destination; returns one message per one that could not start."""
        problems = []
        for dest, key, passphrase in dests:
            if not dest.enabled:
                continue
            try:
                self.start(dest, key, passphrase)
            except (ValueError, RuntimeError, OSError) as exc:
                problems.append(f"{dest.name}: {exc}")
        return problems

    def stop_all(self) -> None:
        for dest_id in self.ids:
            self.stop(dest_id)

    # ---- stats ---------------------------------------------------------------------------------------
    def snapshot(self) -> list[DestinationStats]:
        with self._lock:
            running = list(self._running.values())
        return [self._refresh(r) for r in running]

    def publish_stats(self) -> None:
        for stats in self.snapshot():
            self.events.changed.emit(stats)

    def _refresh(self, r: _Running) -> DestinationStats:
        out = r.output
        if isinstance(out, MuxDestination):
            r.stats = dataclasses.replace(r.stats, bitrate_kbps=out.bitrate_kbps(),
                                          dropped_frames=out.dropped_frames, reconnects=out.reconnects,
                                          sent_frames=out.sent_video)
        elif r.whip is not None:
            r.stats = dataclasses.replace(r.stats, bitrate_kbps=r.whip.bitrate_bps / 1000,
                                          dropped_frames=r.whip.packets_dropped, reconnects=r.reconnects,
                                          sent_frames=r.whip.keyframes_sent)
        return r.stats

    def _on_state(self, r: _Running, state: OutputState) -> None:
        if state.state is OutputStatus.RECONNECTING and r.last_status is not OutputStatus.RECONNECTING \
                and not isinstance(r.output, MuxDestination):
            r.reconnects += 1
        r.last_status = state.state
        r.stats = dataclasses.replace(r.stats, state=state.state, message=state.message,
                                      retry_in_s=state.retry_in_s)
        self.events.changed.emit(self._refresh(r))

    def _on_whip_stats(self, r: _Running, stats: WhipStats) -> None:
        r.whip = stats

    # ---- building ------------------------------------------------------------------------------------
    @staticmethod
    def _target(dest: Destination, key: Secret | None) -> StreamTarget:
        from studio.outputs.pipeline import StreamTarget

        return StreamTarget(dest.url, key)

    def _connector(self, dest: Destination, key: Secret | None, passphrase: Secret | None) -> Connector:
        if dest.kind == DestinationKind.RTMP:
            return RtmpConnector(dest.url, key, dest.display_url, self.writer_config.io_timeout_s)
        from studio.outputs.srt import SrtConnector

        return SrtConnector(dest, key, passphrase, self.writer_config.io_timeout_s)


def _sink_name(dest: Destination) -> str:
    return f"dest:{dest.id}"
