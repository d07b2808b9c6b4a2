"""A guest's sound: their voice as a mixer channel, and their return feed (mix-minus).

- :class:`GuestAudioInput` is an ``AudioInput``: the net loop queues the guest's Opus packets
  (bounded, dropping the oldest) and the mixer's own ``audio`` thread decodes them when it reads the
  channel's ring (Opus decodes in microseconds; no thread of its own). The ring is a small jitter
  buffer: it starts playing once ``PREBUFFER_MS`` are there, starts over after an underrun, and
  trims itself back when the network delivered a burst, so the guest's delay stays bounded.
- :class:`ReturnFeed` takes the program mix minus this guest's channel (``AudioMixer.add_mix_minus``)
  on the audio thread, hands it to its worker (``guest-return:<slot>``), which encodes 20 ms Opus
  packets and sends them with ``GuestLink.push_return_audio``. The guest hears everyone but
  themselves: no echo of their own voice.
"""

from __future__ import annotations

import collections
import fractions
import logging
import threading
from collections.abc import Callable
from typing import cast

import av
import numpy as np

from scenes.audio import CHANNELS, SAMPLE_RATE, AudioRing
from studio.services.guest_link import GuestPacket

log = logging.getLogger(__name__)

PREBUFFER_MS = 60  # network jitter the guest's voice absorbs before it plays
MAX_BUFFER_MS = 200  # more than this (a burst after a stall) is trimmed back to the prebuffer
QUEUE_PACKETS = 50  # one second of 20 ms packets waiting for the mixer
OPUS_FRAME = 960  # 20 ms at 48 kHz
RETURN_QUEUE_BLOCKS = 16
JOIN_TIMEOUT_S = 5.0


class _JitterRing(AudioRing):
    """A FIFO ring that decodes pending packets when read and plays only once enough is there."""

    def __init__(self, pump: Callable[[], np.ndarray | None]) -> None:
        super().__init__(SAMPLE_RATE // 2)
        self._pump = pump
        self._playing = False
        self._prebuffer = SAMPLE_RATE * PREBUFFER_MS // 1000
        self._max = SAMPLE_RATE * MAX_BUFFER_MS // 1000
        self.rebuffers = 0
        self.trimmed_samples = 0

    def _fill(self) -> None:
        samples = self._pump()
        if samples is not None and len(samples):
            super().write(samples)

    @property
    def available(self) -> int:
        self._fill()
        return super().available

    def read(self, n: int, out: np.ndarray | None = None, at: int | None = None) -> np.ndarray:
        self._fill()
        have = super().available
        if not self._playing:
            if have < self._prebuffer:
                if out is None:
                    out = np.empty((n, CHANNELS), np.float32)
                out[:] = 0.0
                return out
            self._playing = True
        if have > self._max:  # a burst: drop the oldest, keep the delay conversational
            drop = have - self._prebuffer
            super().read(drop)
            self.trimmed_samples += drop
        elif have < n:
            self._playing = False  # an underrun: wait for the prebuffer again
            self.rebuffers += 1
        return super().read(n, out)


class GuestAudioInput:
    """The guest's voice as a mixer input named ``name`` (48 kHz stereo float32 in ``ring``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._packets: collections.deque[av.Packet] = collections.deque(maxlen=QUEUE_PACKETS)
        self._lock = threading.Lock()
        self._decoder: av.AudioCodecContext | None = None
        self._resampler = av.AudioResampler(format="flt", layout="stereo", rate=SAMPLE_RATE)
        self.ring = _JitterRing(self._decode_pending)
        self.error: str | None = None
        self.packets_dropped = 0
        self.decode_errors = 0

    def submit(self, packet: GuestPacket) -> None:
        """Net loop: queue one Opus packet (never decodes here)."""
        with self._lock:
            if len(self._packets) == self._packets.maxlen:
                self.packets_dropped += 1
            self._packets.append(packet.packet)

    def start(self) -> None:
        """Packets arrive from the relay; nothing to open."""

    def stop(self) -> None:
        with self._lock:
            self._packets.clear()

    def _decode_pending(self) -> np.ndarray | None:
        """Audio thread: decode what arrived since the last read."""
        with self._lock:
            packets = list(self._packets)
            self._packets.clear()
        if not packets:
            return None
        if self._decoder is None:
            self._decoder = cast(av.AudioCodecContext, av.CodecContext.create("opus", "r"))
            self._decoder.sample_rate = SAMPLE_RATE
            self._decoder.layout = "stereo"
        parts: list[np.ndarray] = []
        for packet in packets:
            try:
                frames = self._decoder.decode(packet)
            except (av.error.FFmpegError, ValueError) as exc:
                self.decode_errors += 1
                log.debug("guest audio %s: decode failed: %s", self.name, exc)
                continue
            for frame in frames:
                frame.pts = None  # the resampler follows its own count, not the RTP clock
                for out in self._resampler.resample(frame):
                    parts.append(out.to_ndarray().reshape(-1, CHANNELS))
        return np.concatenate(parts) if parts else None


class ReturnFeed:
    """Encodes one guest's mix-minus to 20 ms Opus packets and sends them with ``send``."""

    def __init__(self, slot: int, send: Callable[[av.Packet], None]) -> None:
        self._send = send
        self._blocks: collections.deque[np.ndarray] = collections.deque(maxlen=RETURN_QUEUE_BLOCKS)
        self._cond = threading.Condition(threading.Lock())
        self._stop = False
        self.blocks_dropped = 0
        self.packets_sent = 0
        self.send_errors = 0
        self._thread = threading.Thread(target=self._run, name=f"guest-return:{slot}", daemon=True)
        self._thread.start()

    def submit(self, samples: np.ndarray, pts: int) -> None:
        """Audio thread: queue one block of the mix-minus (read-only, never reused)."""
        with self._cond:
            if len(self._blocks) == self._blocks.maxlen:
                self.blocks_dropped += 1
            self._blocks.append(samples)
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()

    def join(self, timeout_s: float = JOIN_TIMEOUT_S) -> None:
        self.stop()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        encoder = cast(av.AudioCodecContext, av.CodecContext.create("libopus", "w"))
        encoder.sample_rate = SAMPLE_RATE
        encoder.layout = "stereo"
        encoder.format = "flt"
        encoder.time_base = fractions.Fraction(1, SAMPLE_RATE)
        # lowdelay: no speech/music analysis lookahead; a conversation needs the milliseconds
        encoder.options = {"application": "lowdelay", "frame_duration": "20"}
        encoder.open()
        fifo = av.AudioFifo()
        pts = 0
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stop or bool(self._blocks))
                if self._stop:
                    break
                blocks = list(self._blocks)
                self._blocks.clear()
            for block in blocks:
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(block, np.float32).reshape(1, -1), format="flt", layout="stereo")
                frame.sample_rate = SAMPLE_RATE
                frame.pts = None
                fifo.write(frame)
            while fifo.samples >= OPUS_FRAME:
                chunk = fifo.read(OPUS_FRAME)
                if chunk is None:
                    break
                chunk.pts = pts
                pts += OPUS_FRAME
                for packet in encoder.encode(chunk):
                    self._deliver(packet)

    def _deliver(self, packet: av.Packet) -> None:
        try:
            self._send(packet)
            self.packets_sent += 1
        except Exception as exc:  # a link closing under us must not end the worker's loop
            self.send_errors += 1
            log.debug("guest return feed: send failed: %s", exc)
