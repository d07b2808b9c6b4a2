"""Audio encoding: Opus (WebRTC, 20 ms frames) and AAC (MP4) over PyAV, and the ``enc-audio`` thread.

Input is the engine's audio: 48 kHz stereo float32 blocks of shape (n, 2), any n. Blocks are cut
into the codec's frame size (960 samples = 20 ms for Opus, 1024 for AAC). Packet ``pts`` count
samples (time base 1/48000) on the caller's sample clock, minus the codec's priming delay as FFmpeg
reports it (so the first packets may have slightly negative pts).
"""

from __future__ import annotations

import logging
import threading
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


FEC_LOSS_STEPS = (0, 5, 10, 20, 30)  # % loss the Opus encoder is told to expect


def fec_step(loss_pct: float, current: int) -> int:
    """The expected-loss step for a reported loss: the smallest step that covers it, taken at once
    when higher; a lower one only once the loss is below half the current step (hysteresis)."""
    wanted = next((s for s in FEC_LOSS_STEPS if s >= loss_pct), FEC_LOSS_STEPS[-1]) if loss_pct >= 1 else 0
    if wanted >= current or loss_pct < current / 2:
        return wanted
    return current


def _check_block(samples: np.ndarray) -> np.ndarray:
    if samples.ndim != 2 or samples.shape[1] != CHANNELS:
        raise ValueError(f"audio block must have shape (n, {CHANNELS}), got {samples.shape}")
    return samples.astype(np.float32, copy=False)


class AudioEncoder:
    """Synchronous Opus/AAC encoder. Feed any block size; get whole-frame packets out."""

    def __init__(self, settings: AudioEncoderSettings | None = None) -> None:
        self.settings = settings or AudioEncoderSettings()
        self._lock = threading.Lock()
        self._expected_loss = 0  # % the Opus encoder protects against (in-band FEC)
        self._pending_loss: int | None = None
        self.fec_reopens = 0
        ctx = self._open(self._expected_loss)
        self._ctx = ctx
        self._planar = ctx.format.name.endswith("p")
        self.frame_size = int(ctx.frame_size) or OPUS_FRAME
        self._pending = np.zeros((self.frame_size, CHANNELS), np.float32)
        self._filled = 0
        self._pending_pts = 0  # sample index of _pending[0]
        self._next_pts: int | None = None  # where the next input sample belongs
        self.silence_filled = 0

    def _open(self, expected_loss_pct: int) -> av.AudioCodecContext:
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
            # in-band FEC (LBRR): each packet also carries a coarse copy of the previous one, which
            # the receiver decodes when that one is lost; libopus adds it only when told to expect
            # loss, so a clean link pays nothing
            ctx.options = {
                "frame_duration": "20",
                "application": "audio",
                "fec": "1",
                "packet_loss": str(expected_loss_pct),
            }
        ctx.open()
        return ctx

    @property
    def expected_loss_pct(self) -> int:
        return self._expected_loss

    def set_expected_loss(self, loss_pct: float) -> None:
        """The loss the receiver reports (RTCP fraction lost, in %); any thread. Opus only: the
        encoder's FEC follows it in steps (up at once, down when the loss falls below half the
        step), since libopus takes the value only when opened and each reopen costs a few ms of
        sound at the joint."""
        if self.settings.codec != "opus":
            return
        with self._lock:
            current = self._pending_loss if self._pending_loss is not None else self._expected_loss
            step = fec_step(loss_pct, current)
            self._pending_loss = None if step == self._expected_loss else step

    def _apply_expected_loss(self) -> None:
        with self._lock:
            step, self._pending_loss = self._pending_loss, None
        if step is None or step == self._expected_loss:
            return
        self._ctx = self._open(step)  # packet pts keep following frame pts: the stream stays continuous
        self._expected_loss = step
        self.fec_reopens += 1

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
        self._apply_expected_loss()
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
    expected_loss_pct: int = 0  # what Opus FEC protects against


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


    def set_expected_loss(self, loss_pct: float) -> None:
        """The receiver's reported loss in % (any thread): Opus FEC follows it."""
        self._encoder.set_expected_loss(loss_pct)

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
                expected_loss_pct=self._encoder.expected_loss_pct,
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
