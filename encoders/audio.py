"""Audio encoding: Opus (WebRTC, 20 ms frames) and AAC (MP4) over PyAV, and the ``enc-audio`` thread.

Input is the engine's audio: 48 kHz stereo float32 blocks of shape (n, 2), any n. Blocks are cut
into the codec's frame size (960 samples = 20 ms for Opus, 1024 for AAC). Packet ``pts`` count
samples (time base 1/48000) on the caller's sample clock, minus the codec's priming delay as FFmpeg
reports it (so the first packets may have slightly negative pts).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
from av.codec.context import Flags

from encoders.packets import EncodedPacket, PacketSink, StreamInfo
from encoders.settings import AudioEncoderSettings
from encoders.worker import EncoderThread

log = logging.getLogger(__name__)

SAMPLE_RATE = 48_000
CHANNELS = 2
OPUS_FRAME = 960  # 20 ms
MAX_SILENCE_FILL = SAMPLE_RATE  # a gap up to 1 s is filled with silence, a longer one restarts the clock

_CODEC = {"opus": ("libopus", "flt"), "aac": ("aac", "fltp")}


def _check_block(samples: np.ndarray) -> np.ndarray:
    if samples.ndim != 2 or samples.shape[1] != CHANNELS:
        raise ValueError(f"audio block must have shape (n, {CHANNELS}), got {samples.shape}")
    return samples.astype(np.float32, copy=False)


class AudioEncoder:
    """Synchronous Opus/AAC encoder. Feed any block size; get whole-frame packets out."""

    def __init__(self, settings: AudioEncoderSettings | None = None) -> None:
        self.settings = settings or AudioEncoderSettings()
        codec_name, sample_fmt = _CODEC[self.settings.codec]
        ctx = av.CodecContext.create(codec_name, "w")
        if not isinstance(ctx, av.AudioCodecContext):
            raise ValueError(f"{codec_name!r} is not an audio encoder")
        ctx.sample_rate = SAMPLE_RATE
        ctx.layout = "stereo"
        ctx.format = sample_fmt
        ctx.time_base = Fraction(1, SAMPLE_RATE)
        ctx.bit_rate = self.settings.bitrate_kbps * 1000
        ctx.flags |= Flags.global_header  # AAC writes its AudioSpecificConfig only with this
        if self.settings.codec == "opus":
            ctx.options = {"frame_duration": "20", "application": "audio"}
        ctx.open()
        self._ctx = ctx
        self._planar = sample_fmt.endswith("p")
        self.frame_size = int(ctx.frame_size) or OPUS_FRAME
        self._pending = np.zeros((self.frame_size, CHANNELS), np.float32)
        self._filled = 0
        self._pending_pts = 0  # sample index of _pending[0]
        self._next_pts: int | None = None  # where the next input sample belongs
        self.silence_filled = 0

    @property
    def time_base(self) -> Fraction:
        return Fraction(1, SAMPLE_RATE)

    @property
    def stream_info(self) -> StreamInfo:
        return StreamInfo(
            kind="audio",
            codec=self.settings.codec,
            time_base=self.time_base,
            sample_rate=SAMPLE_RATE,
            channels=CHANNELS,
            extradata=self._ctx.extradata,
        )

    def encode(self, samples: np.ndarray, pts: int | None = None, capture_ns: int = 0) -> list[EncodedPacket]:
        """Encode a block whose first sample is at ``pts`` (None: right after the previous block)."""
        samples = _check_block(samples)
        out: list[EncodedPacket] = []
        if pts is not None and self._next_pts is not None and pts != self._next_pts:
            gap = pts - self._next_pts
            if abs(gap) > MAX_SILENCE_FILL:
                self._pad_pending(capture_ns, out)  # the clock jumped: restart at the new position
                self._next_pts = None
            elif gap > 0:
                self.silence_filled += gap
                self._push(np.zeros((gap, CHANNELS), np.float32), capture_ns, out)
            elif -gap >= len(samples):
                return out  # all of it was encoded already
            else:
                samples = samples[-gap:]  # overlap: skip what was encoded already
        if self._next_pts is None:
            start = 0 if pts is None else pts
            self._pending_pts = start - self._filled
            self._next_pts = start
        self._push(samples, capture_ns, out)
        return out

    def flush(self) -> list[EncodedPacket]:
        """Encode the partial last frame (padded with silence) and drain the codec."""
        out: list[EncodedPacket] = []
        self._pad_pending(0, out)
        out.extend(self._wrap(self._ctx.encode(None), 0))
        return out

    def _pad_pending(self, capture_ns: int, out: list[EncodedPacket]) -> None:
        if self._filled:
            self._pending[self._filled :] = 0.0
            self._filled = self.frame_size
            out.extend(self._encode_pending(capture_ns))

    def _push(self, samples: np.ndarray, capture_ns: int, out: list[EncodedPacket]) -> None:
        assert self._next_pts is not None
        self._next_pts += len(samples)
        pos = 0
        while pos < len(samples):
            take = min(self.frame_size - self._filled, len(samples) - pos)
            self._pending[self._filled : self._filled + take] = samples[pos : pos + take]
            self._filled += take
            pos += take
            if self._filled == self.frame_size:
                out.extend(self._encode_pending(capture_ns))

    def _encode_pending(self, capture_ns: int) -> list[EncodedPacket]:
        data = np.ascontiguousarray(self._pending.T) if self._planar else self._pending.reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(data, format=self._ctx.format.name, layout="stereo")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pending_pts
        frame.time_base = self.time_base
        self._pending_pts += self.frame_size
        self._filled = 0
        return self._wrap(self._ctx.encode(frame), capture_ns)

    def _wrap(self, packets: list[av.Packet], capture_ns: int) -> list[EncodedPacket]:
        tb = self.time_base
        return [
            EncodedPacket("audio", bytes(p), int(p.pts or 0), tb, True, capture_ns) for p in packets if p.size
        ]


@dataclass(frozen=True, slots=True)
class AudioEncoderStats:
    codec: str
    encoded_packets: int
    skipped_blocks: int
    errors: int
    encode_ms_p95: float


class AudioEncoderWorker(EncoderThread):
    """The ``enc-audio`` thread. ``submit`` copies the block into a bounded queue (never blocks; a
    full queue skips the block, which the encoder later fills with silence to keep the clock)."""

    def __init__(
        self,
        settings: AudioEncoderSettings,
        sink: PacketSink,
        *,
        queue_blocks: int = 50,
        thread_name: str = "enc-audio",
    ) -> None:
        if queue_blocks < 1:
            raise ValueError(f"AudioEncoderWorker: queue_blocks {queue_blocks} must be >= 1")
        super().__init__(thread_name)
        self._encoder = AudioEncoder(settings)
        self._sink = sink
        self._queue: deque[tuple[np.ndarray, int, int]] = deque()
        self._max = queue_blocks
        self._next_pts = 0
        self._packets = 0
        self._skipped = 0
        self._errors = 0
        self._encode_ms: deque[float] = deque(maxlen=500)

    @property
    def stream_info(self) -> StreamInfo:
        return self._encoder.stream_info


    def submit(self, samples: np.ndarray, pts: int | None = None, capture_ns: int = 0) -> bool:
        """Queue a (n, 2) float32 block starting at sample ``pts`` (None: follows the last block)."""
        samples = _check_block(samples)
        with self._cond:
            start = self._next_pts if pts is None else pts
            self._next_pts = start + len(samples)
            if self._stopping or len(self._queue) >= self._max:
                self._skipped += 1
                return False
            self._queue.append((samples.copy(), start, capture_ns or time.perf_counter_ns()))
            self._cond.notify()
        return True

    def stats(self) -> AudioEncoderStats:
        with self._cond:
            times = np.array(self._encode_ms, dtype=np.float64)
            return AudioEncoderStats(
                codec=self._encoder.settings.codec,
                encoded_packets=self._packets,
                skipped_blocks=self._skipped,
                errors=self._errors,
                encode_ms_p95=float(np.percentile(times, 95)) if len(times) else 0.0,
            )

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if not self._queue:
                    break
                samples, pts, capture_ns = self._queue.popleft()
            started = time.perf_counter()
            try:
                packets = self._encoder.encode(samples, pts, capture_ns)
            except Exception:
                log.exception("audio encode failed; block dropped")
                packets = []
                with self._cond:
                    self._errors += 1
            with self._cond:
                self._encode_ms.append((time.perf_counter() - started) * 1000)
            self._publish(packets)
        try:
            self._publish(self._encoder.flush())
        except Exception:
            log.exception("audio flush failed")

    def _publish(self, packets: list[EncodedPacket]) -> None:
        for packet in packets:
            with self._cond:
                self._packets += 1
            try:
                self._sink.put(packet)
            except Exception:
                log.exception("packet sink failed")
