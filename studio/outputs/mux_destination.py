"""A muxed destination (RTMP/FLV, SRT/MPEG-TS): its own bounded queue and its own writer thread.

    enc-video (main encode) --\\
                               +--> put() (never blocks) --> bounded queue --> dest-<name> thread --> muxer --> network
    enc-audio-aac ------------/

Isolation (as OBS does per output): ``put`` only appends to this destination's queue. A full queue
(a slow or dead server) drops the packet and then every video packet up to the next keyframe,
counted in ``dropped_frames``; nothing upstream ever waits. All blocking network I/O (connect,
handshake, writes) happens on this destination's thread, without the GIL and with a timeout
(``avio_network``), so a dead host ties up only this thread, for at most ``io_timeout_s``. A lost connection is retried with backoff (2 s x 1.5, at most 30 s), counting
``reconnects``; while away, packets are discarded and a new connection starts at a keyframe (one is
asked for). A ``RefusedError`` from the connector (a refused key) stops the destination for good with
its message.

Timestamps: each connection starts at its first keyframe, which becomes 0 (both streams' pts count
from one engine clock, so subtracting the same start keeps them in sync).
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

import av

from encoders.h264 import parameter_sets
from encoders.packets import EncodedPacket, StreamInfo
from scenes.events import Signal
from studio.outputs.recorder import Recorder
from studio.outputs.whip_events import OutputState, OutputStatus
from studio.secrets import redact

log = logging.getLogger(__name__)


class RefusedError(Exception):
    """The server refused us for good (bad key, not allowed): retrying will not help."""


class Connection(Protocol):
    """An open muxer on the network; ``close`` must not raise; ``abort`` (any thread) makes the
    blocking call in progress fail at once."""

    container: av.container.OutputContainer

    def close(self) -> None: ...

    def abort(self) -> None: ...


class Connector(Protocol):
    """Opens connections for one destination and judges how they ended."""

    def open(self) -> Connection:
        """Connect (blocking, bounded by a timeout) and return a muxer writing into the connection."""
        ...

    def abort(self) -> None:
        """End an ``open`` in progress at once (any thread)."""
        ...

    def failed(self, exc: BaseException, went_live: bool) -> None:
        """A connection ended with ``exc``; raise ``RefusedError`` when retrying cannot help."""
        ...


@dataclass(frozen=True)
class WriterConfig:
    queue_packets: int = 300  # ~3 s of 30 fps video with its AAC: a short stall is ridden out
    backoff_initial_s: float = 2.0
    backoff_factor: float = 1.5
    backoff_max_s: float = 30.0
    stats_interval_s: float = 1.0
    io_timeout_s: float = 10.0  # a connect, handshake or write blocked longer than this ends the connection


class DropQueue:
    """Bounded and non-blocking; after a dropped video packet, video is dropped until a keyframe."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: deque[EncodedPacket] = deque()
        self._cond = threading.Condition()
        self._needs_key = True  # a connection starts at a keyframe
        self._after_drop = False  # waiting for a keyframe because of a drop (counted) or a (re)start (not)
        self._closed = False
        self.dropped_video = 0
        self.dropped_audio = 0

    def put(self, packet: EncodedPacket) -> None:
        with self._cond:
            if self._closed:
                return
            if packet.kind == "video":
                if self._needs_key and not packet.keyframe:
                    self.dropped_video += self._after_drop
                    return
                if len(self._items) >= self.maxsize:
                    self.dropped_video += 1
                    self._needs_key = self._after_drop = True
                    return
                self._needs_key = self._after_drop = False
            elif len(self._items) >= self.maxsize:
                self.dropped_audio += 1
                return
            self._items.append(packet)
            self._cond.notify()

    def get(self, timeout: float) -> EncodedPacket | None:
        with self._cond:
            if not self._items and not self._closed:
                self._cond.wait(timeout)
            return self._items.popleft() if self._items else None

    def discard(self, count_video: bool = True) -> None:
        """Throw away what is queued and wait for a keyframe again (a connection was lost: what was
        queued for it counts as dropped; what arrives while away does not -- nothing was sending)."""
        with self._cond:
            if count_video:
                self.dropped_video += sum(1 for p in self._items if p.kind == "video")
            self._items.clear()
            self._needs_key, self._after_drop = True, False

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class MuxDestination:
    """One RTMP or SRT destination. Implements ``encoders.packets.PacketSink``."""

    def __init__(self, name: str, connector: Connector, video: StreamInfo, audio: StreamInfo | None, *,
                 describe: str, config: WriterConfig | None = None,
                 request_keyframe: Callable[[], None] | None = None) -> None:
        self.name = name
        self.describe = describe  # shown in messages: never carries the key
        self.config = config or WriterConfig()
        self._connector = connector
        self.video = video
        self.audio = audio
        self._request_keyframe = request_keyframe or (lambda: None)
        self.queue = DropQueue(self.config.queue_packets)
        self.state_changed: Signal[OutputState] = Signal()
        self.state = OutputState(OutputStatus.IDLE)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection: Connection | None = None
        self._live = False
        self._lock = threading.Lock()
        self.reconnects = 0
        self.sent_video = 0
        self.sent_audio = 0
        self.bytes_sent = 0
        self._rate_bytes = 0
        self._rate_t = time.monotonic()
        self._bitrate_kbps = 0.0

    # ---- any thread ---------------------------------------------------------------------------
    def put(self, packet: EncodedPacket) -> None:
        if packet.kind == "audio" and self.audio is None:
            return
        self.queue.put(packet)

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"destination {self.name} already started")
        self._thread = threading.Thread(target=self._run, name=f"dest-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self.queue.close()
        self._connector.abort()  # a connect in progress ends now
        connection = self._connection
        if connection is not None:
            connection.abort()  # so does a write waiting on a stuck server
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.error("destination %s did not stop within %.0f s", self.describe, timeout)

    @property
    def dropped_frames(self) -> int:
        return self.queue.dropped_video

    def bitrate_kbps(self) -> float:
        """Sent over the last ``stats_interval_s`` (a rolling figure for the stats dock)."""
        with self._lock:
            now = time.monotonic()
            span = now - self._rate_t
            if span >= self.config.stats_interval_s:
                self._bitrate_kbps = self._rate_bytes * 8 / span / 1000
                self._rate_bytes, self._rate_t = 0, now
            elif self.state.state is not OutputStatus.LIVE:
                self._bitrate_kbps = 0.0
            return self._bitrate_kbps

    # ---- the destination's thread ---------------------------------------------------------------
    def _emit(self, status: OutputStatus, message: str = "", retry_in_s: float | None = None) -> None:
        previous, self.state = self.state, OutputState(status, redact(message), retry_in_s)
        if status in (OutputStatus.FAILED, OutputStatus.RECONNECTING, OutputStatus.LIVE) and \
                (previous.state, previous.message) != (status, self.state.message):  # not each countdown tick
            log.info("%s %s: %s", self.describe, status.value, self.state.message)
        self.state_changed.emit(self.state)

    def _run(self) -> None:
        cfg = self.config
        delay = cfg.backoff_initial_s
        first = True
        while not self._stop.is_set():
            if not first:
                self.reconnects += 1
            first = False
            self._emit(OutputStatus.CONNECTING, f"connecting to {self.describe}")
            went_live = False
            try:
                try:
                    self._session()
                    message = "the server closed the connection"
                except (av.FFmpegError, OSError) as exc:
                    message = describe_error(exc)
                    if not self._stop.is_set():
                        self._connector.failed(exc, self._live)
                went_live = self._live
            except RefusedError as exc:
                self._emit(OutputStatus.FAILED, str(exc))
                self._close_connection()
                self.queue.discard(count_video=False)
                return
            except Exception as exc:  # a muxer bug must not end the engine; retry
                log.exception("destination %s failed", self.describe)
                message = f"unexpected error: {exc}"
            finally:
                self._close_connection()
                self.queue.discard(count_video=not self._stop.is_set())
            if self._stop.is_set():
                break
            if went_live:
                delay = cfg.backoff_initial_s
            self._countdown(delay, message)
            delay = min(delay * cfg.backoff_factor, cfg.backoff_max_s)
        self._emit(OutputStatus.STOPPED, "stopped")

    def _countdown(self, wait: float, message: str) -> None:
        end = time.monotonic() + wait
        while not self._stop.is_set():
            remaining = end - time.monotonic()
            if remaining <= 0:
                return
            self._emit(OutputStatus.RECONNECTING, message, round(remaining, 1))
            self.queue.discard(count_video=False)  # nothing old is sent after a reconnect
            self._stop.wait(min(1.0, remaining))

    def _close_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _session(self) -> None:
        """Connect, wait for a keyframe, mux until the connection fails or we stop."""
        self._live = False
        self.queue.discard(count_video=False)
        self._connection = connection = self._connector.open()
        self._request_keyframe()
        key = self._next_keyframe()
        if key is None:
            return
        extradata = parameter_sets(key.data)
        out = connection.container
        template_box = av.open(io.BytesIO(), "w", format="matroska")  # only lends stream templates
        try:
            vstream = Recorder.add_copy_stream(out, template_box, self.video, extradata)
            astream = Recorder.add_copy_stream(out, template_box, self.audio, self.audio.extradata) \
                if self.audio is not None else None
        finally:
            template_box.close()
        start = key.pts * key.time_base
        self._mux(out, vstream, key, start)  # the header goes out with the first packet
        self._live = True
        self._emit(OutputStatus.LIVE, f"live on {self.describe}")
        while not self._stop.is_set():
            packet = self.queue.get(0.25)
            if packet is None:
                continue
            stream = vstream if packet.kind == "video" else astream
            if stream is not None:
                self._mux(out, stream, packet, start)

    def _next_keyframe(self) -> EncodedPacket | None:
        """The first video keyframe with SPS/PPS (the queue already holds video back until one)."""
        asked = time.monotonic()
        while not self._stop.is_set():
            packet = self.queue.get(0.25)
            if packet is not None and packet.kind == "video" and packet.keyframe \
                    and parameter_sets(packet.data) is not None:
                return packet
            if time.monotonic() - asked > 2.0:
                self._request_keyframe()
                asked = time.monotonic()
        return None

    def _mux(self, out: av.container.OutputContainer, stream: av.stream.Stream, packet: EncodedPacket,
             start: Fraction) -> None:
        pts = packet.pts - round(start / packet.time_base)
        if pts < 0:
            return  # from before this connection's first keyframe
        av_packet = av.Packet(packet.data)
        av_packet.pts = av_packet.dts = pts
        av_packet.time_base = packet.time_base
        av_packet.is_keyframe = packet.keyframe
        av_packet.stream = stream
        out.mux(av_packet)  # blocking network write: this thread only
        with self._lock:
            self.bytes_sent += len(packet.data)
            self._rate_bytes += len(packet.data)
            if packet.kind == "video":
                self.sent_video += 1
            else:
                self.sent_audio += 1


def describe_error(exc: BaseException) -> str:
    """A plain sentence for a network failure (FFmpeg's own words are terse)."""
    code = getattr(exc, "errno", None)
    text = getattr(exc, "strerror", None) or str(exc)
    plain = {
        111: "connection refused (nothing listens there)",
        104: "the server reset the connection",
        32: "the server closed the connection",
        5: "the server closed the connection (a refused stream key?)",
    }
    return redact(plain.get(code, text) if code is not None else text)
