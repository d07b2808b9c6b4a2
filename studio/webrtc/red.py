"""RFC 2198 redundant audio (RED) for Opus: packing, unpacking, recovery and how much to send.

Pure (no I/O, no aiortc): ``studio.webrtc.audio_red`` plugs it into aiortc's senders and receivers.

A RED payload is a run of 4-byte headers for the redundant blocks (F=1, block payload type, 14-bit
timestamp offset back from the packet's timestamp, 10-bit length), then a 1-byte header for the
primary (F=0, payload type), then the blocks' data in the same order: the oldest redundant block
first, the primary last. Each Opus packet (20 ms) goes out with copies of the previous 1-2, so a
receiver that lost a packet has it from the next one at full quality (Opus in-band FEC only gives
a coarse copy of one packet back).

Received payloads are hostile until parsed: :func:`unpack` refuses truncated headers, lengths past
the payload, more than :data:`MAX_BLOCKS` blocks, offsets beyond 14 bits or that do not shrink
towards the primary (a redundant block newer than the one after it, or at the primary's own time).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

MAX_TIMESTAMP_OFFSET = 0x3FFF  # 14 bits: 341 ms at 48 kHz
MAX_BLOCK_LENGTH = 0x3FF  # 10 bits
MAX_BLOCKS = 8  # we send at most 3; libwebrtc at most a handful: more is an attack or garbage
MAX_DISTANCE = 2  # redundant copies per packet, at most
DEFAULT_MAX_PAYLOAD = 1200  # bytes: one RTP packet under a 1500-byte MTU with SRTP and extensions
_WRAP = 1 << 32


class RedError(ValueError):
    """A RED payload that cannot be what a sender meant."""


@dataclass(frozen=True)
class RedBlock:
    payload_type: int
    timestamp_offset: int  # RTP ticks before the packet's timestamp (0 for the primary)
    data: bytes


def pack(primary_pt: int, primary: bytes, redundant: Sequence[RedBlock] = ()) -> bytes:
    """One RED payload: ``redundant`` (oldest first) then ``primary``."""
    if not 0 <= primary_pt <= 127:
        raise RedError(f"payload type {primary_pt} is not 0..127")
    headers = bytearray()
    previous = MAX_TIMESTAMP_OFFSET + 1
    for block in redundant:
        if not 0 <= block.payload_type <= 127:
            raise RedError(f"payload type {block.payload_type} is not 0..127")
        if not 0 < block.timestamp_offset < previous:
            raise RedError(f"redundant offsets must shrink towards the primary and stay within 1.."
                           f"{MAX_TIMESTAMP_OFFSET}, got {block.timestamp_offset}")
        if len(block.data) > MAX_BLOCK_LENGTH:
            raise RedError(f"a redundant block holds at most {MAX_BLOCK_LENGTH} bytes, got {len(block.data)}")
        previous = block.timestamp_offset
        word = (1 << 31) | (block.payload_type << 24) | (block.timestamp_offset << 10) | len(block.data)
        headers += word.to_bytes(4, "big")
    headers.append(primary_pt)
    return bytes(headers) + b"".join(b.data for b in redundant) + primary


def unpack(payload: bytes, max_blocks: int = MAX_BLOCKS) -> list[RedBlock]:
    """The blocks of a RED payload, oldest first, the primary (offset 0) last. RedError when hostile."""
    headers: list[tuple[int, int, int]] = []  # payload type, offset, length
    pos = 0
    while True:
        if pos >= len(payload):
            raise RedError("truncated RED header")
        first = payload[pos]
        if not first & 0x80:  # the primary's 1-byte header ends the list
            pos += 1
            break
        if len(headers) + 1 >= max_blocks:
            raise RedError(f"more than {max_blocks} RED blocks")
        if pos + 4 > len(payload):
            raise RedError("truncated RED block header")
        word = int.from_bytes(payload[pos : pos + 4], "big")
        offset, length = (word >> 10) & MAX_TIMESTAMP_OFFSET, word & MAX_BLOCK_LENGTH
        if offset == 0 or (headers and offset >= headers[-1][1]):
            raise RedError(f"RED timestamp offsets must shrink towards the primary, got {offset}")
        headers.append(((word >> 24) & 0x7F, offset, length))
        pos += 4
    blocks = []
    for pt, offset, length in headers:
        if pos + length > len(payload):
            raise RedError("a RED block runs past the end of the payload")
        blocks.append(RedBlock(pt, offset, bytes(payload[pos : pos + length])))
        pos += length
    blocks.append(RedBlock(first & 0x7F, 0, bytes(payload[pos:])))
    return blocks


def _ahead(a: int, b: int) -> int:
    """How many ticks ``a`` is after ``b`` in RTP's 32-bit clock (negative: before)."""
    d = (a - b) % _WRAP
    return d - _WRAP if d >= _WRAP // 2 else d


class RedPacker:
    """The sender's side: each frame with up to ``distance`` previous frames as redundancy."""

    def __init__(self, primary_pt: int, max_payload: int = DEFAULT_MAX_PAYLOAD) -> None:
        if not 0 <= primary_pt <= 127:
            raise RedError(f"payload type {primary_pt} is not 0..127")
        self.primary_pt = primary_pt
        self._max_payload = max_payload
        self._history: deque[tuple[int, bytes]] = deque(maxlen=MAX_DISTANCE)
        self.redundant_bytes = 0  # what the redundancy cost, for stats

    def pack(self, timestamp: int, data: bytes, distance: int) -> bytes:
        distance = max(0, min(MAX_DISTANCE, distance))
        newest = self._history[-1][0] if self._history else None
        if newest is not None and _ahead(timestamp, newest) <= 0:
            # late or repeated: no redundancy for it, and the run of recent frames is unchanged
            return pack(self.primary_pt, data)
        blocks = []
        for ts, old in list(self._history)[-distance:] if distance else []:
            offset = _ahead(timestamp, ts)
            if 0 < offset <= MAX_TIMESTAMP_OFFSET and len(old) <= MAX_BLOCK_LENGTH:
                blocks.append(RedBlock(self.primary_pt, offset, old))
        while blocks and 1 + 4 * len(blocks) + sum(len(b.data) for b in blocks) + len(data) > self._max_payload:
            blocks.pop(0)  # the oldest copy goes first
        self._history.append((timestamp, data))
        self.redundant_bytes += sum(len(b.data) + 4 for b in blocks)
        return pack(self.primary_pt, data, blocks)


class RedRecovery:
    """The receiver's side: the Opus frames to release for each RED payload, in order, each once.

    A redundant block is released only when it is newer than everything released so far: its
    primary was lost (or is late, and then is not released twice). Timestamps are compared in
    RTP's 32-bit clock; the ones returned are ``timestamp - offset`` in the caller's own count.
    """

    def __init__(self, primary_pt: int | None, remember: int = 64) -> None:
        self.primary_pt = primary_pt  # None: take any block payload type (no fmtp to say which)
        self._newest: int | None = None
        self._released: deque[int] = deque(maxlen=remember)
        self._released_set: set[int] = set()
        self.recovered = 0  # frames that came back from redundancy
        self.malformed = 0  # payloads refused

    def frames(self, timestamp: int, payload: bytes) -> list[tuple[int, bytes]]:
        try:
            blocks = unpack(payload)
        except RedError:
            self.malformed += 1
            return []
        out: list[tuple[int, bytes]] = []
        for block in blocks:
            if not block.data or (self.primary_pt is not None and block.payload_type != self.primary_pt):
                continue
            ts = timestamp - block.timestamp_offset
            key = ts % _WRAP
            if key in self._released_set:
                continue
            if block.timestamp_offset:
                if self._newest is None or _ahead(ts, self._newest) <= 0:
                    continue  # nothing before the stream's start, and nothing behind what was played
                self.recovered += 1
            self._remember(key)
            if self._newest is None or _ahead(ts, self._newest) > 0:
                self._newest = ts
            out.append((ts, block.data))
        return out

    def _remember(self, key: int) -> None:
        if len(self._released) == self._released.maxlen:
            self._released_set.discard(self._released[0])
        self._released.append(key)
        self._released_set.add(key)


# ---- how much redundancy ---------------------------------------------------------------------

# (reported loss % from which this distance is wanted, distance); held until the loss has stayed
# below half the threshold for ``hold_s``: receiver reports (about 50 audio packets each) are noisy
DISTANCE_STEPS = ((1.0, 1), (5.0, 2))
DEFAULT_HOLD_S = 10.0
CONGESTED_RTT_FACTOR = 2.0
CONGESTED_RTT_EXTRA_S = 0.05


class RedDistance:
    """Redundant copies per packet from the receiver's reported loss: none on a clean link (Opus at
    128 kbit/s: each copy costs as much again), one from 1 %, two from 5 %. Independent random loss
    p leaves about p^(d+1) per leg (10 %: 1 % with one copy, 0.1 % with two), but a copy only
    helps when it arrives before the receiver's (small: the viewer page asks for none) jitter
    buffer has concealed the gap, and the next packet's copy is 20 ms late: at 5 % per leg one
    copy still left 2.8 % concealed in the network bench, two copies 1-2 % at 10-20 %.
    Up at once; down a step only after ``hold_s`` below half its threshold.

    Loss on a congested link is no case for copies: they add to the queue that drops the packets
    (a 1 Mbit/s uplink went from 1 % to 18 % loss with two copies of 128 kbit/s Opus). A report whose
    round trip stands well above the path's floor (:data:`CONGESTED_RTT_FACTOR` and
    :data:`CONGESTED_RTT_EXTRA_S`) takes a copy away at once and holds the distance from growing for
    ``hold_s``."""

    def __init__(self, hold_s: float = DEFAULT_HOLD_S, initial: int = 0) -> None:
        self.distance = initial
        self._hold_s = hold_s
        self._below_since: float | None = None
        self._rtt_floor: float | None = None
        self._no_raise_until = -1e18
        self.congested_reports = 0

    def update(self, loss_pct: float, now: float, rtt_s: float | None = None) -> int:
        if rtt_s is not None and rtt_s > 0:
            floor = self._rtt_floor = rtt_s if self._rtt_floor is None else min(self._rtt_floor, rtt_s)
            if loss_pct > 0 and rtt_s > max(floor * CONGESTED_RTT_FACTOR, floor + CONGESTED_RTT_EXTRA_S):
                self.congested_reports += 1
                self.distance = max(0, self.distance - 1)
                self._no_raise_until, self._below_since = now + self._hold_s, None
                return self.distance
        wanted = 0
        for threshold, distance in DISTANCE_STEPS:
            if loss_pct >= threshold:
                wanted = distance
        if now < self._no_raise_until:
            wanted = min(wanted, self.distance)
        if wanted >= self.distance:
            self.distance, self._below_since = wanted, None
            return self.distance
        threshold = next(t for t, d in DISTANCE_STEPS if d == self.distance)
        if loss_pct >= threshold / 2:
            self._below_since = None
        elif self._below_since is None:
            self._below_since = now
        elif now - self._below_since >= self._hold_s:
            self.distance -= 1
            self._below_since = None
        return self.distance


__all__ = [
    "DISTANCE_STEPS",
    "MAX_BLOCKS",
    "MAX_BLOCK_LENGTH",
    "MAX_DISTANCE",
    "MAX_TIMESTAMP_OFFSET",
    "RedBlock",
    "RedDistance",
    "RedError",
    "RedPacker",
    "RedRecovery",
    "pack",
    "unpack",
]
