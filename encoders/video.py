"""H.264 video encoding: one interface over PyAV's encoders, and the ``enc-video`` worker thread.

``VideoEncoder`` is single-threaded and synchronous: it owns the codec context, falls back to
libx264 when a hardware encoder fails (at open or mid-stream) and applies keyframe/bitrate requests
at frame boundaries. ``VideoEncoderWorker`` runs it on the ``enc-video`` thread behind a bounded
queue that never blocks the video clock.

Bitrate changes, per encoder:

- libx264: live, no IDR. FFmpeg's wrapper hands a changed ``AVCodecContext.bit_rate`` to
  ``x264_encoder_reconfig`` on the next frame. That works only without ``nal-hrd`` (x264 refuses to
  change VBV parameters under NAL HRD, which is why an earlier measurement saw no change) and only
  up to the VBV maxrate/bufsize set at open, which PyAV cannot change afterwards. So a change
  applies at once up to the rate the context was opened at, and the context is reopened with the
  new rate's VBV on the next frame that is an IDR anyway (the next scheduled or requested
  keyframe, <= 1 s): measured, a live cut alone shows only partly within that second (the 1 s VBV
  buffer still holds the old rate's allowance), and a rise above the opened rate not at all.
- h264_nvenc: live (FFmpeg nvenc's dynamic bitrate), no reopen.
- the others (QSV, AMF, VAAPI, VideoToolbox; their wrappers do not reconfigure, or not reliably):
  the context is reopened at a frame boundary and that frame is coded as an IDR; no frame is lost
  (the old context is flushed first; zerolatency holds none back). To avoid extra IDRs the change
  waits for the next scheduled keyframe, but never longer than one second of frames; a cut of more
  than 30 % (congestion) applies on the next frame.

Renditions: ``VideoEncoderWorker.submit_picture`` takes an I420 picture from another encoder's
thread and scales it to this worker's rendition (``set_rendition``: size and frame rate) there, so
a smaller stream rendition never costs the video clock's thread anything. A size or rate change
reopens the encoder on the next frame (an IDR).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction

import av
import numpy as np
from av.video.frame import PictureType

from encoders import probe
from encoders.colorspace import CanvasLike, I420Buffer, NV12Buffer
from encoders.packets import EncodedPacket, PacketSink, StreamInfo
from encoders.settings import SOFTWARE_ENCODER, VideoEncoderSettings
from encoders.worker import EncoderThread

log = logging.getLogger(__name__)

# Encoders whose FFmpeg wrapper retargets bitrate from AVCodecContext.bit_rate without a reopen.
LIVE_BITRATE_ENCODERS = frozenset({"h264_nvenc", "libx264"})
# Encoders whose live retarget is bounded by the VBV maxrate/bufsize they were opened with.
VBV_BOUND_ENCODERS = frozenset({"libx264"})
# A cut this large applies at once: it is congestion control, not a tweak.
URGENT_BITRATE_CUT = 0.7
KEYFRAME_REQUEST_HOLDOFF_S = 0.5  # a receiver's request this soon after an IDR is answered by it


@dataclass(frozen=True, slots=True)
class FallbackEvent:
    """An encoder could not be used and another took over (shown to the user as a warning)."""

    failed: str
    replacement: str
    reason: str
    mid_stream: bool
    pts: int | None = None

    @property
    def message(self) -> str:
        when = f"mid-stream at pts {self.pts}" if self.mid_stream else "at start"
        return (
            f"video encoder {self.failed} failed {when} ({self.reason}); continuing with {self.replacement}"
        )


FallbackListener = Callable[[FallbackEvent], None]


class VideoEncoder:
    """Encodes I420 pictures to Annex B H.264 ``EncodedPacket``s. Not thread-safe except for
    ``force_keyframe`` and ``set_bitrate``, which any thread may call."""

    def __init__(self, settings: VideoEncoderSettings, on_fallback: FallbackListener | None = None) -> None:
        self._requested = settings
        self._on_fallback = on_fallback
        self.fallbacks: list[FallbackEvent] = []
        self._lock = threading.Lock()
        self._keyframe_requested = False
        self._keyframe_deferred = False  # requested within the hold-off: made once it has passed
        self._pending_kbps: int | None = None
        self._pending_age = 0  # frames a pending bitrate change has waited
        self._frames_since_key = 0
        self._capture_ns: dict[int, int] = {}
        self._nv12: NV12Buffer | None = None
        self._ctx: av.VideoCodecContext | None = None
        self._settings = settings
        self._opened_kbps = settings.bitrate_kbps  # VBV maxrate/bufsize of the open context
        self.name = ""
        self.reopens = 0
        self.live_changes = 0  # bitrate changes applied without a reopen
        self._open_first_working(probe.choose_encoder(settings))

    # --- public ------------------------------------------------------------------------------

    @property
    def settings(self) -> VideoEncoderSettings:
        """The settings in effect (bound to the concrete encoder, current bitrate)."""
        return self._settings

    @property
    def time_base(self) -> Fraction:
        return Fraction(1, self._settings.fps)

    @property
    def stream_info(self) -> StreamInfo:
        s = self._settings
        return StreamInfo(
            kind="video",
            codec="h264",
            time_base=self.time_base,
            width=s.width,
            height=s.height,
            fps=s.fps,
            profile_level_id=s.profile_level_id,
        )

    def force_keyframe(self) -> None:
        """The next encoded frame will be an IDR (with SPS/PPS in front)."""
        with self._lock:
            self._keyframe_requested = True

    def request_keyframe(self) -> None:
        """A receiver's keyframe request (PLI/FIR), coalesced: one IDR answers every request made
        before it. One made within ``KEYFRAME_REQUEST_HOLDOFF_S`` of frames after an IDR waits until
        the hold-off has passed, and an IDR before then answers it: storms of PLIs under loss would
        otherwise cost an IDR each, and dropping it cost a whole GOP (a viewer moving down to the
        low layer, or a step's first IDR lost on a capped uplink, traced on up1m: 1.0 s frozen)."""
        with self._lock:
            if self._frames_since_key + 1 < self._holdoff_frames():  # the next frame is that far on
                self._keyframe_deferred = True
            else:
                self._keyframe_requested = True

    def _holdoff_frames(self) -> int:
        return math.ceil(self._settings.fps * KEYFRAME_REQUEST_HOLDOFF_S)

    def set_bitrate(self, kbps: int) -> None:
        """Retarget the bitrate; takes effect within one second of frames, dropping none."""
        self._settings.with_bitrate(kbps)  # validates
        with self._lock:
            self._pending_kbps = int(kbps)
            self._pending_age = 0

    @property
    def pix_fmt(self) -> str:
        """What the codec is fed: yuv420p straight from the queue slot, or nv12 converted here."""
        return "nv12" if self._nv12 is not None else "yuv420p"

    @property
    def target_bitrate_kbps(self) -> int:
        with self._lock:
            pending = self._pending_kbps
        return pending if pending is not None else self._settings.bitrate_kbps

    def reshape(self, width: int, height: int, fps: int) -> list[EncodedPacket]:
        """Reopen at another size/frame rate (the encoding thread only); the next frame is an IDR.
        Returns what the old context still held."""
        s = self._settings
        if (s.width, s.height, s.fps) == (width, height, fps):
            return []
        out = self.flush()
        self._requested = replace(self._requested, width=width, height=height, fps=fps)
        reshaped = replace(s, width=width, height=height, fps=fps)
        try:
            self._open(self.name, reshaped)
        except Exception as exc:
            if self.name == SOFTWARE_ENCODER:
                raise
            self._settings = reshaped
            self._fallback_to_software(f"{type(exc).__name__}: {exc}", mid_stream=True, pts=None)
        self.reopens += 1
        self._capture_ns.clear()
        return out

    def encode(self, picture: I420Buffer, pts: int, capture_ns: int = 0) -> list[EncodedPacket]:
        """Encode one picture at ``pts`` (frame-clock ticks, time base 1/fps)."""
        out: list[EncodedPacket] = []
        want_key = self._apply_requests(out)
        try:
            packets = self._encode_frame(picture, pts, capture_ns, want_key)
        except Exception as exc:
            if self.name == SOFTWARE_ENCODER:
                raise
            reason = f"{type(exc).__name__}: {exc}"
            self._fallback_to_software(reason, mid_stream=True, pts=pts)
            packets = self._encode_frame(picture, pts, capture_ns, True)
        out.extend(packets)
        return out

    def flush(self) -> list[EncodedPacket]:
        """Drain the encoder (end of stream)."""
        if self._ctx is None:
            return []
        try:
            return self._wrap(self._ctx.encode(None))
        except Exception:  # a failing flush at shutdown loses nothing we can still save
            log.exception("flushing %s failed", self.name)
            return []

    def close(self) -> None:
        self._ctx = None  # PyAV frees the context when collected

    # --- internals -----------------------------------------------------------------------------

    def _open_first_working(self, order: list[str]) -> None:
        errors: list[tuple[str, str]] = []
        for name in order:
            try:
                self._open(name, self._requested)
            except Exception as exc:
                errors.append((name, f"{type(exc).__name__}: {exc}"))
                log.debug("could not open %s: %s", name, exc)
                continue
            if errors and (self._requested.encoder != "auto" or name == SOFTWARE_ENCODER):
                failed, reason = errors[0]
                self._report(FallbackEvent(failed, name, reason, mid_stream=False))
            return
        detail = "; ".join(f"{n}: {e}" for n, e in errors)
        raise RuntimeError(f"no H.264 encoder could be opened ({detail})")

    def _open(self, name: str, settings: VideoEncoderSettings) -> None:
        bound = probe.settings_for(name, settings)
        ctx = probe.open_codec_context(name, bound)
        self._ctx = ctx
        self._settings = bound
        self._opened_kbps = bound.bitrate_kbps
        self.name = name
        self._nv12 = NV12Buffer(bound.width, bound.height) if ctx.pix_fmt == "nv12" else None

    def _fallback_to_software(self, reason: str, mid_stream: bool, pts: int | None) -> None:
        failed = self.name
        self._open(SOFTWARE_ENCODER, self._settings)
        self._report(FallbackEvent(failed, SOFTWARE_ENCODER, reason, mid_stream, pts))

    def _report(self, event: FallbackEvent) -> None:
        self.fallbacks.append(event)
        log.warning("%s", event.message)
        if self._on_fallback is not None:
            try:
                self._on_fallback(event)
            except Exception:  # a listener must not break the stream
                log.exception("fallback listener failed")

    def _apply_requests(self, out: list[EncodedPacket]) -> bool:
        """Apply pending keyframe/bitrate requests before a frame; True when it must be an IDR."""
        with self._lock:
            if self._keyframe_deferred and self._frames_since_key + 1 >= self._holdoff_frames():
                self._keyframe_deferred, self._keyframe_requested = False, True
            want_key = self._keyframe_requested
            self._keyframe_requested = False
            kbps = self._pending_kbps
            if kbps is not None:
                self._pending_age += 1
            age = self._pending_age
        if kbps is None:
            return want_key
        current = self._settings.bitrate_kbps
        key_due = self._frames_since_key + 1 >= self._settings.gop_frames
        if self.name in LIVE_BITRATE_ENCODERS and self._ctx is not None:
            live = kbps
            if self.name in VBV_BOUND_ENCODERS:
                live = min(kbps, self._opened_kbps)
            if live != current:
                self._settings = self._settings.with_bitrate(live)
                self._ctx.bit_rate = live * 1000
                self.live_changes += 1
            if self.name not in VBV_BOUND_ENCODERS or kbps == self._opened_kbps:
                self._clear_pending(kbps)
                return want_key
            # the VBV still holds a second of the old rate: reopen with the new one, but only on a
            # frame that is an IDR anyway (the next scheduled or requested keyframe)
            if not (want_key or key_due):
                return False
        else:
            urgent = kbps < current * URGENT_BITRATE_CUT
            if not (want_key or key_due or urgent or age >= self._settings.fps):
                return False
        self._clear_pending(kbps)
        if kbps == current and kbps == self._opened_kbps:
            return want_key
        if self._ctx is not None:
            out.extend(self.flush())
        retargeted = self._settings.with_bitrate(kbps)
        try:
            self._open(self.name, retargeted)
        except Exception as exc:
            if self.name == SOFTWARE_ENCODER:
                raise
            self._settings = retargeted  # a hardware encoder that will not reopen: libx264 takes over
            self._fallback_to_software(f"{type(exc).__name__}: {exc}", mid_stream=True, pts=None)
        self.reopens += 1
        return True

    def _clear_pending(self, kbps: int) -> None:
        with self._lock:
            if self._pending_kbps == kbps:
                self._pending_kbps = None
                self._pending_age = 0

    def _encode_frame(self, picture: I420Buffer, pts: int, capture_ns: int, key: bool) -> list[EncodedPacket]:
        assert self._ctx is not None
        frame = picture.frame
        if self._nv12 is not None:
            self._nv12.fill_from_i420(picture)
            frame = self._nv12.frame
        frame.pts = pts
        frame.time_base = self.time_base
        frame.pict_type = PictureType.I if key else PictureType.NONE
        self._capture_ns[pts] = capture_ns
        return self._wrap(self._ctx.encode(frame))

    def _wrap(self, packets: list[av.Packet]) -> list[EncodedPacket]:
        out = []
        tb = self.time_base
        for p in packets:
            pts = int(p.pts) if p.pts is not None else 0
            key = bool(p.is_keyframe)
            self._frames_since_key = 0 if key else self._frames_since_key + 1
            if key:
                with self._lock:
                    self._keyframe_deferred = False  # this IDR answers a request held in the hold-off
            out.append(EncodedPacket("video", bytes(p), pts, tb, key, self._capture_ns.pop(pts, 0)))
        if len(self._capture_ns) > 64:  # frames an encoder swallowed: do not grow forever
            for stale in sorted(self._capture_ns)[:-8]:
                del self._capture_ns[stale]
        return out


# --- the enc-video worker -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VideoEncoderStats:
    encoder: str
    encoded: int
    skipped: int
    errors: int
    queued: int
    encode_ms_p50: float
    encode_ms_p95: float
    target_bitrate_kbps: int
    measured_bitrate_kbps: float  # packet bytes over the last second of frames
    fallbacks: tuple[FallbackEvent, ...] = field(default_factory=tuple)


class _Slot:
    __slots__ = ("picture", "pts", "capture_ns", "fps")

    def __init__(self, width: int, height: int, fps: int) -> None:
        self.picture = I420Buffer(width, height)
        self.pts = 0
        self.capture_ns = 0
        self.fps = fps


PictureTap = Callable[[I420Buffer, int, int], object]


class VideoEncoderWorker(EncoderThread):
    """The ``enc-video`` thread. ``submit`` converts the canvas to I420 into a free queue slot
    (~1 ms at 1080p) and returns at once: the compositor may reuse its canvas immediately, and
    converting there is no more work than copying the 8 MB BGRA canvas would be. With no free slot
    the frame is counted as skipped. Packets go to ``sink`` (usually a ``PacketFanout``).

    A second worker can encode a smaller rendition of the same program: add its ``submit_picture``
    as a tap (``set_tap``), and it scales each I420 picture on this worker's thread."""

    def __init__(
        self,
        settings: VideoEncoderSettings,
        sink: PacketSink,
        *,
        queue_size: int = 3,
        on_fallback: FallbackListener | None = None,
        thread_name: str = "enc-video",
        source_fps: int | None = None,
        canvas_size: tuple[int, int] | None = None,
    ) -> None:
        if not 1 <= queue_size <= 8:
            raise ValueError(f"VideoEncoderWorker: queue_size {queue_size} must be 1..8")
        super().__init__(thread_name)
        self._settings = settings
        self._sink = sink
        self._on_fallback = on_fallback
        self._source_fps = source_fps or settings.fps  # the frame clock's rate (submit_picture's pts)
        self._rendition = (settings.width, settings.height, settings.fps)
        # called on this thread with each picture before it is encoded (scaled renditions' feeds)
        self._taps: tuple[tuple[str, PictureTap], ...] = ()  # copy-on-write: read without a lock
        self._paused = False
        # one slot more than the queue holds: the worker encodes from it while the queue is full
        # ``canvas_size`` other than the encode's (a 4K canvas recorded at 1080p): ``submit`` only
        # converts at the canvas size on the clock's thread; the scaling to the encode happens here
        slot_w, slot_h = canvas_size or (settings.width, settings.height)
        self._encode_picture = (
            I420Buffer(settings.width, settings.height) if (slot_w, slot_h) != (settings.width, settings.height)
            else None
        )
        self._free: deque[_Slot] = deque(_Slot(slot_w, slot_h, settings.fps) for _ in range(queue_size + 1))
        self._ready: deque[_Slot] = deque()
        self._queue_size = queue_size
        self._encoder: VideoEncoder | None = None
        self._encoded = 0
        self._skipped = 0
        self._errors = 0
        self._encode_ms: deque[float] = deque(maxlen=300)
        self._recent_bytes: deque[tuple[float, int]] = deque()  # (seconds, bytes) of the last second

    # --- lifecycle -------------------------------------------------------------------------------

    def _before_start(self) -> None:
        """Open the encoder (probing hardware once per process) before the thread starts."""
        self._encoder = VideoEncoder(self._settings, on_fallback=self._on_fallback)

    # --- any thread ------------------------------------------------------------------------------

    def submit(self, frame: CanvasLike, pts: int, capture_ns: int = 0) -> bool:
        """Queue a canvas frame; False (and a skipped count) when the queue is full. Never blocks."""
        with self._cond:
            if self._stopping or not self._free or len(self._ready) >= self._queue_size:
                self._skipped += 1
                return False
            slot = self._free.popleft()
        try:
            slot.picture.fill_from_bgra(frame)
        except Exception:
            with self._cond:
                self._free.append(slot)
            raise
        slot.pts = pts
        slot.fps = self._settings.fps
        slot.capture_ns = capture_ns or time.perf_counter_ns()
        with self._cond:
            self._ready.append(slot)
            self._cond.notify()
        return True

    def submit_picture(self, picture: I420Buffer, pts: int, capture_ns: int = 0) -> bool:
        """Queue this rendition of a source picture (``pts`` in source frames); scales it here, on
        the caller's thread (another encoder's). Frames the rendition's lower rate leaves out
        return False without counting as skipped. Never blocks."""
        with self._cond:
            width, height, fps = self._rendition
            step = max(1, self._source_fps // fps)
            if pts % step:
                return False
            if self._stopping or not self._free or len(self._ready) >= self._queue_size:
                self._skipped += 1
                return False
            slot = self._free.popleft()
        try:
            if (slot.picture.width, slot.picture.height) != (width, height):
                slot.picture = I420Buffer(width, height)
            slot.picture.fill_scaled_from(picture)
        except Exception:
            with self._cond:
                self._free.append(slot)
            raise
        slot.pts = pts // step
        slot.fps = fps
        slot.capture_ns = capture_ns or time.perf_counter_ns()
        with self._cond:
            self._ready.append(slot)
            self._cond.notify()
        return True

    def set_tap(self, name: str, tap: PictureTap | None) -> None:
        """Add, replace or (None) remove a named picture tap (e.g. ``other.submit_picture``)."""
        with self._cond:
            kept = tuple((n, t) for n, t in self._taps if n != name)
            self._taps = kept if tap is None else (*kept, (name, tap))

    @property
    def tap_names(self) -> list[str]:
        return [n for n, _ in self._taps]

    def set_paused(self, paused: bool) -> None:
        """Paused, pictures still reach the taps but are not encoded (no output needs this
        rendition just now: the stream has its own and nothing records). Resuming starts with an IDR."""
        if paused == self._paused:
            return
        if not paused:
            self.force_keyframe()  # before the flag: the first frame encoded again is a keyframe
        self._paused = paused

    @property
    def paused(self) -> bool:
        return self._paused

    def set_rendition(self, width: int, height: int, fps: int) -> None:
        """Size and frame rate for ``submit_picture`` from now on (the encoder reopens on the first
        frame of the new rendition: an IDR). ``fps`` must divide the source's frame rate."""
        if self._source_fps % fps:
            raise ValueError(f"rendition {fps} fps does not divide the source's {self._source_fps} fps")
        with self._cond:
            self._rendition = (width, height, fps)

    def force_keyframe(self) -> None:
        if self._encoder is not None:
            self._encoder.force_keyframe()

    def request_keyframe(self) -> None:
        if self._encoder is not None:
            self._encoder.request_keyframe()

    def set_bitrate(self, kbps: int) -> None:
        if self._encoder is None:
            self._settings = self._settings.with_bitrate(kbps)
        else:
            self._encoder.set_bitrate(kbps)

    @property
    def stream_info(self) -> StreamInfo:
        if self._encoder is None:
            raise RuntimeError("VideoEncoderWorker: start() first")
        return self._encoder.stream_info

    @property
    def encoder_name(self) -> str:
        return self._encoder.name if self._encoder is not None else ""

    def stats(self) -> VideoEncoderStats:
        with self._cond:
            times = np.array(self._encode_ms, dtype=np.float64)
            window = sum(size for _, size in self._recent_bytes)
            queued = len(self._ready)
            encoded, skipped, errors = self._encoded, self._skipped, self._errors
        enc = self._encoder
        return VideoEncoderStats(
            encoder=enc.name if enc else "",
            encoded=encoded,
            skipped=skipped,
            errors=errors,
            queued=queued,
            encode_ms_p50=float(np.percentile(times, 50)) if len(times) else 0.0,
            encode_ms_p95=float(np.percentile(times, 95)) if len(times) else 0.0,
            target_bitrate_kbps=enc.target_bitrate_kbps if enc else self._settings.bitrate_kbps,
            measured_bitrate_kbps=window * 8 / 1000,
            fallbacks=tuple(enc.fallbacks) if enc else (),
        )

    # --- enc-video thread ------------------------------------------------------------------------

    def _run(self) -> None:
        encoder = self._encoder
        assert encoder is not None
        while True:
            with self._cond:
                while not self._ready and not self._stopping:
                    self._cond.wait()
                if not self._ready:
                    break  # stopping and drained
                slot = self._ready.popleft()
            picture = slot.picture
            scaled = self._encode_picture
            if scaled is not None and (picture.width, picture.height) != (scaled.width, scaled.height):
                scaled.fill_scaled_from(picture)  # a canvas-sized picture for a smaller main encode
                picture = scaled
            for name, tap in self._taps:
                try:
                    tap(picture, slot.pts, slot.capture_ns)
                except Exception:
                    log.exception("picture tap %r failed", name)
            if self._paused:  # only the tap wants this picture
                with self._cond:
                    self._free.append(slot)
                continue
            started = time.perf_counter()
            try:
                packets = encoder.reshape(picture.width, picture.height, slot.fps)
                packets += encoder.encode(picture, slot.pts, slot.capture_ns)
            except Exception:
                log.exception("encoding frame pts=%d failed; frame dropped", slot.pts)
                packets = []
                with self._cond:
                    self._errors += 1
            elapsed_ms = (time.perf_counter() - started) * 1000
            with self._cond:
                self._free.append(slot)
                self._encode_ms.append(elapsed_ms)
                self._encoded += 1
            self._publish(packets)
        self._publish(encoder.flush())
        encoder.close()

    def _publish(self, packets: list[EncodedPacket]) -> None:
        for packet in packets:
            at = float(packet.pts * packet.time_base)  # renditions may differ in time base
            with self._cond:
                self._recent_bytes.append((at, len(packet.data)))
                while self._recent_bytes and self._recent_bytes[0][0] <= at - 1.0:
                    self._recent_bytes.popleft()
            try:
                self._sink.put(packet)
            except Exception:  # the fan-out shields us from sinks; this is belt and braces
                log.exception("packet sink failed")
