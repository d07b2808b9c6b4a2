"""A MediaStreamTrack whose ``recv()`` returns already-encoded packets (``av.Packet``).

aiortc's ``RTCRtpSender`` packs an ``av.Packet`` with its codec's ``pack()`` (RTP packetisation
only) instead of ``encode()``, so our single encode feeds WebRTC untouched. The track is fed on
the loop thread with :meth:`EncodedPacketTrack.push`; the queue is bounded and a video track that
drops (queue full, or a fresh start) waits for the next keyframe and asks for one, because a
decoder cannot continue after a missing frame.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from studio.webrtc import trace


class EncodedPacketTrack(MediaStreamTrack):
    """Encoded packets for one aiortc sender. Use only on the event loop's thread."""

    def __init__(
        self,
        kind: str,
        *,
        max_queue: int = 16,
        on_keyframe_needed: Callable[[], None] | None = None,
    ) -> None:
        if kind not in ("audio", "video"):
            raise ValueError(f"EncodedPacketTrack kind must be 'audio' or 'video', got {kind!r}")
        if max_queue < 1:
            raise ValueError(f"EncodedPacketTrack max_queue must be >= 1, got {max_queue}")
        super().__init__()
        self.kind = kind
        self._queue: asyncio.Queue[av.Packet | None] = asyncio.Queue(maxsize=max_queue)
        self._on_keyframe_needed = on_keyframe_needed
        self._waiting_keyframe = kind == "video"
        self._asked_keyframe = False
        self.packets_sent = 0
        self.keyframes_sent = 0
        self.dropped = 0

    @property
    def waiting_for_keyframe(self) -> bool:
        return self._waiting_keyframe

    def push(self, packet: av.Packet) -> bool:
        """Queue ``packet``; returns False when it was dropped."""
        if self.readyState != "live":
            return False
        if self._waiting_keyframe:
            if not packet.is_keyframe:
                self.dropped += 1
                self._ask_keyframe()
                return False
            trace.event("track_keyframe_resume", kind=self.kind, dropped=self.dropped)
            self._waiting_keyframe = False
            self._asked_keyframe = False
        if self._queue.full():
            self._overflow()
            if self.kind == "video" and not packet.is_keyframe:
                self.dropped += 1
                return False
            self._waiting_keyframe = False
        self._queue.put_nowait(packet)
        return True

    def _overflow(self) -> None:
        # The receiver is behind: drop what is queued. Video must restart on a keyframe.
        trace.event("track_overflow", kind=self.kind, queued=self._queue.qsize())
        while not self._queue.empty():
            if self._queue.get_nowait() is not None:
                self.dropped += 1
        if self.kind == "video":
            self._waiting_keyframe = True
            self._asked_keyframe = False
            self._ask_keyframe()

    def _ask_keyframe(self) -> None:
        if not self._asked_keyframe and self._on_keyframe_needed is not None:
            self._asked_keyframe = True
            self._on_keyframe_needed()

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        packet = await self._queue.get()
        if packet is None:
            raise MediaStreamError
        self.packets_sent += 1
        if packet.is_keyframe:
            self.keyframes_sent += 1
        return packet

    def stop(self) -> None:
        if self.readyState == "live":
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(None)  # wake a pending recv()
        super().stop()
