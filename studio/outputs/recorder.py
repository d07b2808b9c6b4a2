"""Crash-safe recording: the shared encoded packets muxed (never re-encoded) on the ``recorder`` thread.

Containers: MKV (default) or fragmented MP4 (``frag_keyframe+empty_moov+default_base_moof`` plus a
0.5 s fragment cap). Both write complete clusters/fragments at least every half second and flush
them to the OS at once (``flush_packets``), so a killed process leaves a file that plays up to
about the last half second. A clean ``stop`` finalises the file: MKV gets its Duration and Cues;
the MP4's empty moov gets its real duration patched into ``mvhd``.

Timestamps: recording starts at the first video keyframe (a decoder cannot start elsewhere). Video
pts come from the frame clock, audio pts from the mixer's sample count; both encoders count from
the same engine start, so subtracting the start time from each puts both at 0 together.

Free space is checked every second (``shutil.disk_usage``): under ``warn_free_bytes`` (5 GB) and
again under ``low_free_bytes`` (1 GB) a ``disk_low`` warning is emitted; low space never refuses
or stops a recording (the show matters more than a guess about the disk). A full disk (ENOSPC or a
quota while writing) stops the recording alone: one ``error`` event with a plain message, no
traceback, and the file is closed so that what was written plays. The encoders, the stream and
the show go on.
"""

from __future__ import annotations

import errno
import io
import logging
import shutil
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from fractions import Fraction
from pathlib import Path

import av

from encoders.fanout import QueueSink
from encoders.h264 import parameter_sets
from encoders.packets import EncodedPacket, StreamInfo
from scenes.events import Signal

log = logging.getLogger(__name__)

GB = 1_000_000_000
CONTAINERS = {".mkv": "matroska", ".mp4": "mp4"}
FRAGMENT_US = 500_000  # longest stretch a crash can lose once the muxer has the packets
# max_interleave_delta: never hold video back long waiting for audio (or the reverse).
_CONTAINER_OPTIONS = {
    "matroska": {
        "cluster_time_limit": str(FRAGMENT_US // 1000),
        "flush_packets": "1",
        "max_interleave_delta": str(FRAGMENT_US),
    },
    "mp4": {
        "movflags": "frag_keyframe+empty_moov+default_base_moof",
        "frag_duration": str(FRAGMENT_US),
        "flush_packets": "1",
        "max_interleave_delta": str(FRAGMENT_US),
    },
}
PREROLL_PACKETS = 150  # audio held while waiting for the first keyframe (3 s of AAC/Opus)
_IO_ERRNOS = {errno.EIO, errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EPIPE}
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


def _is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, (OSError, av.FFmpegError)) and getattr(exc, "errno", None) in _FULL_ERRNOS


class RecorderState(StrEnum):
    IDLE = "idle"
    WAITING_FOR_KEYFRAME = "waiting_for_keyframe"
    RECORDING = "recording"
    STOPPED = "stopped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RecorderEvent:
    kind: str  # "started", "disk_low", "stopped", "error"
    path: Path
    message: str = ""
    free_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class RecorderStats:
    state: RecorderState
    path: Path
    duration_s: float  # muxed so far (video clock, else audio)
    video_packets: int
    audio_packets: int
    bytes_written: int
    dropped: int  # refused by the queue (disk too slow) or before the first keyframe
    mux_errors: int


def recording_filename(when: datetime, container: str = "mkv") -> str:
    return f"recording_{when:%Y-%m-%d_%H-%M-%S}.{container}"


def _unique(path: Path) -> Path:
    candidate, n = path, 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}_{n}{path.suffix}")
        n += 1
    return candidate


def _check_stream(info: StreamInfo, kind: str, codecs: tuple[str, ...]) -> None:
    if info.kind != kind or info.codec not in codecs:
        raise ValueError(f"Recorder: {kind} stream must be one of {codecs}, got {info.kind}/{info.codec}")


class Recorder:
    """Records packets from a ``PacketFanout`` (add the recorder as a sink: it has ``put``)."""

    def __init__(
        self,
        target: Path | str,
        video: StreamInfo | None,
        audio: StreamInfo | None = None,
        *,
        container: str = "mkv",
        warn_free_bytes: int = 5 * GB,
        low_free_bytes: int = 1 * GB,
        disk_check_interval_s: float = 1.0,
        queue_packets: int = 8192,
        disk_free: Callable[[Path], int] | None = None,
    ) -> None:
        if video is None and audio is None:
            raise ValueError("Recorder: needs a video or an audio stream")
        if video is not None:
            _check_stream(video, "video", ("h264",))
        if audio is not None:
            _check_stream(audio, "audio", ("aac", "opus"))
        if low_free_bytes > warn_free_bytes:
            raise ValueError("Recorder: low_free_bytes must not exceed warn_free_bytes")
        target = Path(target)
        if target.suffix:
            if target.suffix.lower() not in CONTAINERS:
                raise ValueError(f"Recorder: {target.name}: extension must be one of {sorted(CONTAINERS)}")
            self._explicit: Path | None = target
            self._folder = target.parent
        else:
            if f".{container}" not in CONTAINERS:
                raise ValueError(f"Recorder: container {container!r} must be mkv or mp4")
            self._explicit = None
            self._folder = target
        self._container_kind = container
        self.video = video
        self.audio = audio
        self.warn_free_bytes = warn_free_bytes
        self.low_free_bytes = low_free_bytes
        self._disk_interval = disk_check_interval_s
        self._disk_free = disk_free or (lambda p: shutil.disk_usage(p).free)
        self.queue = QueueSink(queue_packets, "buffer")
        self.events: Signal[RecorderEvent] = Signal()
        self.path = Path()
        self._state = RecorderState.IDLE
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._out: av.container.OutputContainer | None = None
        self._vstream: av.stream.Stream | None = None
        self._astream: av.stream.Stream | None = None
        self._start_s: Fraction | None = None  # engine time of the recording's first frame
        self._video_end = 0.0
        self._audio_end = 0.0
        self._video_packets = 0
        self._audio_packets = 0
        self._bytes = 0
        self._waiting_dropped = 0
        self._mux_errors = 0
        self._disk_warned = 0  # 0: not warned, 1: under warn_free_bytes, 2: under low_free_bytes
        self._disk_full = False
        self._preroll: deque[EncodedPacket] = deque(maxlen=PREROLL_PACKETS)

    # --- control (any thread) --------------------------------------------------------------------

    def put(self, packet: EncodedPacket) -> None:
        """PacketSink: never blocks (a full buffer counts overflow). Ignored until ``start``."""
        if self._state is not RecorderState.IDLE:
            self.queue.put(packet)

    def start(self, now: datetime | None = None) -> Path:
        """Pick the file name, start the ``recorder`` thread; returns the path. Low free space is a
        ``disk_low`` warning, never a refusal."""
        if self._thread is not None:
            raise RuntimeError("Recorder already started")
        self._folder.mkdir(parents=True, exist_ok=True)
        free = self._disk_free(self._folder)
        if self._explicit is not None:
            self.path = self._explicit
        else:
            name = recording_filename(now or datetime.now(), self._container_kind)
            self.path = _unique(self._folder / name)
        self._state = RecorderState.WAITING_FOR_KEYFRAME
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._thread.start()
        self._check_disk(free)
        return self.path

    def stop(self, timeout: float = 30.0) -> None:
        """Mux what is queued, finalise the file, join the thread."""
        self.queue.close()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("recorder did not stop within %.1f s", timeout)
            self._thread = None

    close = stop

    @property
    def state(self) -> RecorderState:
        return self._state

    def stats(self) -> RecorderStats:
        with self._lock:
            duration = self._video_end if self.video is not None else self._audio_end
            return RecorderStats(
                state=self._state,
                path=self.path,
                duration_s=duration,
                video_packets=self._video_packets,
                audio_packets=self._audio_packets,
                bytes_written=self._bytes,
                dropped=self.queue.dropped + self._waiting_dropped,
                mux_errors=self._mux_errors,
            )

    # --- recorder thread -------------------------------------------------------------------------

    def _run(self) -> None:
        next_check = time.monotonic() + self._disk_interval
        try:
            while True:
                packet = self.queue.get(timeout=min(0.25, self._disk_interval))
                if packet is None and self.queue.closed and not len(self.queue):
                    break
                if packet is not None:
                    self._handle(packet)
                if time.monotonic() >= next_check:
                    next_check = time.monotonic() + self._disk_interval
                    self._check_disk(self._disk_free(self._folder))
        except Exception as exc:  # a failing disk must end the recording, not the engine
            self._state = RecorderState.FAILED
            if _is_disk_full(exc):
                # a status, not a bug: one plain line, no traceback
                self._disk_full = True
                message = (f"the disk is full: recording stopped after {self.stats().duration_s:.1f} s; "
                           f"{self.path} plays up to there")
                log.error("recording %s: %s", self.path, message)
            else:
                log.exception("recording %s failed", self.path)
                message = f"recording failed: {exc}"
            self.events.emit(RecorderEvent("error", self.path, message))
        finally:
            self.queue.close()
            self._finalise()

    def _check_disk(self, free: int) -> None:
        """Warn once per level as free space falls (again after it recovered); never stops."""
        level = 2 if free < self.low_free_bytes else 1 if free < self.warn_free_bytes else 0
        if level > self._disk_warned:
            message = f"low disk space: {free / GB:.2f} GB free in {self._folder}"
            if level == 2:
                message += "; the recording stops if the disk fills up (the stream goes on)"
            log.warning("recording %s: %s", self.path, message)
            self.events.emit(RecorderEvent("disk_low", self.path, message, free))
        self._disk_warned = level

    def _handle(self, packet: EncodedPacket) -> None:
        if self._out is None:
            if not self._open_at(packet):
                if packet.kind == "audio":
                    # audio encodes faster than video: keep what may belong after the first keyframe
                    if len(self._preroll) == self._preroll.maxlen:
                        with self._lock:
                            self._waiting_dropped += 1
                    self._preroll.append(packet)
                else:
                    with self._lock:
                        self._waiting_dropped += 1
                return
            preroll, self._preroll = list(self._preroll), deque(maxlen=PREROLL_PACKETS)
            for early in preroll:
                self._mux(early)
        self._mux(packet)

    def _mux(self, packet: EncodedPacket) -> None:
        assert self._start_s is not None
        start = self._start_s / packet.time_base  # the recording's 0 in this stream's units
        pts = packet.pts - round(start)
        if pts < 0:  # from before the first keyframe (or codec priming): not part of the file
            with self._lock:
                self._waiting_dropped += 1
            return
        stream = self._vstream if packet.kind == "video" else self._astream
        if stream is None:
            return
        av_packet = av.Packet(packet.data)
        av_packet.pts = av_packet.dts = pts
        av_packet.time_base = packet.time_base
        av_packet.is_keyframe = packet.keyframe
        av_packet.stream = stream
        assert self._out is not None
        try:
            self._out.mux(av_packet)
        except av.FFmpegError as exc:  # e.g. a non-monotonic timestamp: skip the packet, keep going
            if exc.errno in _IO_ERRNOS:
                raise  # a real I/O error (disk full, device gone) ends the recording
            with self._lock:
                self._mux_errors += 1
            log.warning("recorder skipped a %s packet: %s", packet.kind, exc)
            return
        end = float((pts + 1) * packet.time_base)
        with self._lock:
            self._bytes += len(packet.data)
            if packet.kind == "video":
                self._video_packets += 1
                self._video_end = max(self._video_end, end)
            else:
                self._audio_packets += 1
                self._audio_end = max(self._audio_end, end)

    def _open_at(self, packet: EncodedPacket) -> bool:
        """Open the file at the first usable packet (a video keyframe, or audio when audio-only)."""
        extradata = None
        if self.video is not None:
            if packet.kind != "video" or not packet.keyframe:
                return False
            extradata = parameter_sets(packet.data)
            if extradata is None:
                log.warning("recorder: keyframe without SPS/PPS at pts %d, waiting for the next", packet.pts)
                return False
        elif packet.kind != "audio":
            return False
        fmt = CONTAINERS[self.path.suffix.lower()]
        out = av.open(str(self.path), "w", format=fmt, options=dict(_CONTAINER_OPTIONS[fmt]))
        template_box = av.open(io.BytesIO(), "w", format="matroska")  # only lends stream templates
        try:
            if self.video is not None:
                self._vstream = self._add_stream(out, template_box, self.video, extradata)
            if self.audio is not None:
                self._astream = self._add_stream(out, template_box, self.audio, self.audio.extradata)
        finally:
            template_box.close()
        self._out = out
        self._start_s = packet.pts * packet.time_base
        self._state = RecorderState.RECORDING
        self.events.emit(RecorderEvent("started", self.path, f"recording to {self.path}"))
        return True

    @staticmethod
    def _add_stream(
        out: av.container.OutputContainer,
        template_box: av.container.OutputContainer,
        info: StreamInfo,
        extradata: bytes | None,
    ) -> av.stream.Stream:
        # A stream copied from a template gets a codec context that is never opened: PyAV copies
        # its fields (extradata included) to the muxer as they are, without starting an encoder.
        if info.kind == "video":
            vtemplate = template_box.add_stream("h264", rate=info.fps or 30)
            vstream = out.add_stream_from_template(vtemplate, opaque=True)
            vstream.codec_context.width = info.width
            vstream.codec_context.height = info.height
            stream: av.stream.Stream = vstream
        else:
            codec = "libopus" if info.codec == "opus" else "aac"
            atemplate = template_box.add_stream(codec, rate=info.sample_rate)
            stream = out.add_stream_from_template(atemplate, opaque=True)
            actx = stream.codec_context
            assert isinstance(actx, av.AudioCodecContext)
            actx.sample_rate = info.sample_rate
            actx.layout = "stereo" if info.channels == 2 else "mono"
        if extradata and stream.codec_context is not None:
            stream.codec_context.extradata = extradata
        stream.time_base = info.time_base
        return stream

    add_copy_stream = _add_stream  # shared with the network muxers (studio.outputs.mux_destination)

    def _finalise(self) -> None:
        out, self._out = self._out, None
        if out is not None:
            try:
                out.close()
                if self.path.suffix.lower() == ".mp4":
                    _patch_mp4_duration(self.path, max(self._video_end, self._audio_end))
            except Exception as exc:
                if self._disk_full or _is_disk_full(exc):
                    # no room for the index: the clusters/fragments already written still play
                    log.info("recording %s: no room to finalise (%s)", self.path, exc)
                    if not self._disk_full:
                        self._disk_full = True
                        self.events.emit(RecorderEvent("error", self.path, (
                            f"the disk is full: the recording could not be finalised; {self.path} plays "
                            "without its index")))
                else:
                    log.exception("finalising %s failed", self.path)
                    self.events.emit(RecorderEvent("error", self.path, f"could not finalise: {exc}"))
                self._state = RecorderState.FAILED
        if self._state != RecorderState.FAILED:
            self._state = RecorderState.STOPPED
        self.events.emit(RecorderEvent("stopped", self.path, f"recorded {self.stats().duration_s:.1f} s"))


def _patch_mp4_duration(path: Path, seconds: float) -> None:
    """Write the real duration into a fragmented MP4's (empty) moov/mvhd, in place."""
    with path.open("r+b") as f:
        offset = 0
        while True:
            f.seek(offset)
            header = f.read(8)
            if len(header) < 8:
                return
            size, kind = struct.unpack(">I4s", header)
            if kind == b"moov":
                break
            if size < 8:
                return
            offset += size
        f.seek(offset + 8)
        mvhd_head = f.read(9)
        if len(mvhd_head) < 9 or mvhd_head[4:8] != b"mvhd":
            return
        version = mvhd_head[8]
        body = offset + 8 + 12  # mvhd box header (8) + version/flags (4)
        if version == 1:
            f.seek(body + 16)
            (timescale,) = struct.unpack(">I", f.read(4))
            f.write(struct.pack(">Q", round(seconds * timescale)))
        else:
            f.seek(body + 8)
            (timescale,) = struct.unpack(">I", f.read(4))
            f.write(struct.pack(">I", min(0xFFFFFFFF, round(seconds * timescale))))
