"""One encode, many outputs: ``PacketFanout`` hands each packet to every sink without waiting.

Sinks must not block (``PacketSink.put``). ``QueueSink`` is the standard one: a bounded queue the
output drains on its own thread. When it is full it drops the new packet and counts it; after a
dropped *video* packet it keeps dropping video until the next keyframe, because a decoder fed a
P-frame whose reference is missing shows corruption until the next IDR anyway.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Literal

from encoders.packets import EncodedPacket, PacketSink

log = logging.getLogger(__name__)

QueuePolicy = Literal["drop", "buffer"]


class PacketFanout:
    """Publishes packets to named sinks. Thread-safe; ``publish`` never blocks on a sink."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sinks: tuple[tuple[str, PacketSink], ...] = ()  # copy-on-write: publish takes no lock
        self.published = 0
        self.sink_errors = 0

    def add_sink(self, name: str, sink: PacketSink) -> None:
        if not name:
            raise ValueError("PacketFanout.add_sink: name must not be empty")
        with self._lock:
            if any(n == name for n, _ in self._sinks):
                raise ValueError(f"PacketFanout.add_sink: a sink named {name!r} already exists")
            self._sinks = (*self._sinks, (name, sink))

    def remove_sink(self, name: str) -> PacketSink | None:
        """Remove and return the sink (None when there was none by that name)."""
        with self._lock:
            found = next((s for n, s in self._sinks if n == name), None)
            self._sinks = tuple((n, s) for n, s in self._sinks if n != name)
        return found

    @property
    def sink_names(self) -> list[str]:
        return [n for n, _ in self._sinks]

    def publish(self, packet: EncodedPacket) -> None:
        """Hand ``packet`` to every sink (video and audio encoders may publish concurrently)."""
        errors = 0
        for name, sink in self._sinks:
            try:
                sink.put(packet)
            except Exception:  # one broken output must not starve the others or the encoder
                errors += 1
                log.exception("packet sink %r failed", name)
        with self._lock:
            self.published += 1
            self.sink_errors += errors

    # A fan-out is itself a sink, so encoders take either.
    put = publish


class QueueSink:
    """A bounded, non-blocking packet queue for one output.

    ``policy="drop"`` (stream outputs, small ``maxsize``): a full queue drops and counts ``dropped``.
    ``policy="buffer"`` (recorder, large ``maxsize``): the same bound, counted as ``overflowed`` —
    overflow there means the disk cannot keep up, which the recorder reports.
    Either way, video after a drop is held back until the next keyframe.
    """

    def __init__(self, maxsize: int = 64, policy: QueuePolicy = "drop") -> None:
        if maxsize < 1:
            raise ValueError(f"QueueSink: maxsize {maxsize} must be >= 1")
        if policy not in ("drop", "buffer"):
            raise ValueError(f"QueueSink: policy {policy!r} must be 'drop' or 'buffer'")
        self.maxsize = maxsize
        self.policy = policy
        self._queue: deque[EncodedPacket] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._video_needs_key = False
        self.accepted = 0
        self.dropped = 0  # all packets not queued (includes those held back for a keyframe)
        self.overflowed = 0  # packets refused because the queue was full ("buffer" policy name)

    def put(self, packet: EncodedPacket) -> None:
        with self._cond:
            if self._closed:
                return
            if packet.kind == "video" and self._video_needs_key:
                if not packet.keyframe:
                    self.dropped += 1
                    return
                self._video_needs_key = False
            if len(self._queue) >= self.maxsize:
                self.dropped += 1
                self.overflowed += 1
                if packet.kind == "video":
                    self._video_needs_key = True
                return
            self._queue.append(packet)
            self.accepted += 1
            self._cond.notify()

    def get(self, timeout: float | None = None) -> EncodedPacket | None:
        """The next packet; None on timeout or once closed and drained."""
        with self._cond:
            if not self._queue and not self._closed:
                self._cond.wait(timeout)
            return self._queue.popleft() if self._queue else None

    def get_nowait(self) -> EncodedPacket | None:
        with self._cond:
            return self._queue.popleft() if self._queue else None

    def close(self) -> None:
        """Refuse further packets and wake a waiting ``get`` (queued packets stay readable)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    def __len__(self) -> int:
        with self._cond:
            return len(self._queue)
