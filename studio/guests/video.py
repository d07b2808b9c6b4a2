"""A guest's video decoder: packets from the net loop -> a worker thread -> the guest feed's slot.

``submit`` runs on the ``net`` loop: it appends to a bounded queue (dropping the oldest) and returns.
The worker (``guest-video:<slot>``) decodes H.264 or VP8 with PyAV and converts and scales in one
libswscale pass straight to the feed's size (a 4K guest costs the worker, never the clock), keeping
the guest's aspect (transparent bars). After a dropped packet or a decoder error the worker skips
to the next keyframe and asks the guest's browser for one (at most every ``KEYFRAME_GAP_S``).
No packet for ``STALL_S`` while live marks the feed dropped; the next picture makes it live again.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import cast

import av
import numpy as np

from scenes.frame import VideoFrame
from scenes.sources.guest import GuestFeed, GuestFeedStatus
from studio.services.guest_link import GuestPacket

log = logging.getLogger(__name__)

QUEUE_PACKETS = 8  # about a quarter second at 30 fps; more would only be stale pictures
KEYFRAME_GAP_S = 0.5
STALL_S = 2.0
JOIN_TIMEOUT_S = 5.0
_H264_IDR = 5


def is_keyframe(codec: str, packet: av.Packet) -> bool:
    """Whether decoding can start at ``packet`` (the depayloader may not flag it, so look)."""
    if packet.is_keyframe:
        return True
    data = bytes(packet)
    if codec == "vp8":
        return len(data) > 0 and data[0] & 0x01 == 0  # VP8 frame tag: bit 0 clear = key frame
    # H.264 Annex B: any IDR NAL unit in the access unit
    i = data.find(b"\x00\x00\x01")
    while 0 <= i < len(data) - 3:
        if data[i + 3] & 0x1F == _H264_IDR:
            return True
        i = data.find(b"\x00\x00\x01", i + 3)
    return False


def fitted_size(src: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """``src`` scaled to fit inside ``box`` with its aspect kept (even sizes, for swscale)."""
    scale = min(box[0] / src[0], box[1] / src[1])
    w = min(box[0], max(2, round(src[0] * scale / 2) * 2))
    h = min(box[1], max(2, round(src[1] * scale / 2) * 2))
    return w, h


class GuestVideoDecoder:
    """Decodes one guest's video into ``feed``. ``request_keyframe`` reaches the guest's browser."""

    def __init__(self, feed: GuestFeed, name: str, request_keyframe: Callable[[], None]) -> None:
        self._feed = feed
        self._name = name
        self._request_keyframe = request_keyframe
        self._queue: collections.deque[GuestPacket] = collections.deque(maxlen=QUEUE_PACKETS)
        self._cond = threading.Condition(threading.Lock())
        self._stop = False
        self._codec: av.VideoCodecContext | None = None
        self._codec_name = ""
        self._need_key = True
        self._last_key_request = 0.0
        self.packets_dropped = 0  # queue overflow (the worker fell behind)
        self.decode_errors = 0
        self.frames_decoded = 0
        self.keyframes_requested = 0
        self._thread = threading.Thread(target=self._run, name=f"guest-video:{feed.slot}", daemon=True)
        self._thread.start()

    # ---- net loop -------------------------------------------------------------------------------

    def submit(self, packet: GuestPacket) -> None:
        with self._cond:
            if len(self._queue) == self._queue.maxlen:
                self.packets_dropped += 1
                self._need_key = True  # the dropped picture was a reference: resync at a keyframe
            self._queue.append(packet)
            self._cond.notify()

    def stop(self) -> None:
        """Signal the worker to end (never joins: the caller may be the net loop). Once this
        returns, the worker writes nothing more to the feed."""
        with self._cond:
            self._stop = True
            self._cond.notify()

    def join(self, timeout_s: float = JOIN_TIMEOUT_S) -> None:
        self.stop()
        self._thread.join(timeout_s)

    # ---- worker ---------------------------------------------------------------------------------

    def _next(self) -> GuestPacket | None:
        """The next packet, or None on a stall or stop."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._stop or bool(self._queue), STALL_S):
                return None
            if self._stop:
                return None
            return self._queue.popleft()

    def _run(self) -> None:
        while True:
            packet = self._next()
            if self._stop:
                break
            if packet is None:
                self._stalled()
                continue
            try:
                self._decode(packet)
            except (av.error.FFmpegError, ValueError) as exc:
                self.decode_errors += 1
                log.debug("guest %d: decode failed: %s", self._feed.slot, exc)
                self._resync()
        self._codec = None

    def _stalled(self) -> None:
        with self._cond:  # never after stop(): the stage owns the feed's state from then on
            status = self._feed.status
            if not self._stop and status.state == "live" and status.has_video:
                self._feed.set_status(GuestFeedStatus("dropped", self._name, True, "no picture from the guest"))
                self._need_key = True

    def _resync(self) -> None:
        with self._cond:
            self._need_key = True
        now = time.monotonic()
        if now - self._last_key_request >= KEYFRAME_GAP_S:
            self._last_key_request = now
            self.keyframes_requested += 1
            self._request_keyframe()

    def _decode(self, item: GuestPacket) -> None:
        with self._cond:
            need_key = self._need_key
        if need_key:
            if not is_keyframe(item.codec, item.packet):
                self._resync()
                return
            with self._cond:
                self._need_key = False
        if self._codec is None or self._codec_name != item.codec:
            self._codec = cast(av.VideoCodecContext, av.CodecContext.create(item.codec, "r"))
            self._codec.thread_count = 1  # frame threads would add a frame of delay per thread
            self._codec_name = item.codec
        for frame in self._codec.decode(item.packet):
            self._publish(frame)

    def _publish(self, frame: av.VideoFrame) -> None:
        box = self._feed.size
        w, h = fitted_size((frame.width, frame.height), box)
        # one swscale pass: YUV -> BGRA and the scale (a 4K guest shrinks here, on the worker)
        bgra = frame.reformat(width=w, height=h, format="bgra").to_ndarray()
        if bgra.shape[1] != w:  # swscale pads rows to its alignment
            bgra = bgra[:, :w]
        bgra[:, :, 3] = 255
        opaque = (w, h) == box
        if not opaque:  # letterbox: transparent around the guest's picture
            out = np.zeros((box[1], box[0], 4), np.uint8)
            x, y = (box[0] - w) // 2, (box[1] - h) // 2
            out[y:y + h, x:x + w] = bgra
            bgra = out
        picture = VideoFrame(np.ascontiguousarray(bgra), opaque=opaque,
                             pts_ns=int(frame.time * 1e9) if frame.time is not None else 0)
        with self._cond:  # a guest who left meanwhile must not come back on air with this picture
            if self._stop:
                return
            self.frames_decoded += 1
            if self._feed.status.state != "live":
                self._feed.set_status(GuestFeedStatus("live", self._name, True))
            self._feed.frames.put(picture)
