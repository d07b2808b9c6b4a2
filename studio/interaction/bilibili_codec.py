"""The Bilibili live message stream's packet format, written from its public description.

Every packet starts with a 16-byte big-endian header::

    u32 packet length (header included)   u16 header length (16)   u16 protocol version
    u32 operation                         u32 sequence

Versions: 0 = JSON body, 1 = heartbeat/auth (the heartbeat reply's body is a u32 popularity),
2 = zlib and 3 = brotli, whose inflated body is itself one or more packets with their own headers.
Operations: 2 heartbeat, 3 heartbeat reply, 5 message, 7 auth, 8 auth reply.

The input is hostile until proven otherwise: a header's length is checked against the bytes really
received before anything is sliced (a 100 MB claim allocates nothing), packets are capped, inflation
is bounded (a decompression bomb stops at ``max_inflated``), nested compression is refused, and a
bad packet is reported without losing the good packets before it.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

import brotli

HEADER = struct.Struct(">IHHII")
HEADER_LEN = HEADER.size  # 16
VER_JSON, VER_INT, VER_ZLIB, VER_BROTLI = 0, 1, 2, 3
OP_HEARTBEAT, OP_HEARTBEAT_REPLY, OP_MESSAGE, OP_AUTH, OP_AUTH_REPLY = 2, 3, 5, 7, 8
MAX_PACKET = 1 << 20  # one packet on the wire (Bilibili's are a few KiB; batches tens of KiB)
MAX_INFLATED = 4 << 20  # a compressed batch inflated
HEARTBEAT_BODY = b"[object Object]"  # what the web client sends; the server ignores the body


class CodecError(ValueError):
    """A packet that breaks the format; ``code`` is a short stable name for counters."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Packet:
    version: int
    op: int
    seq: int
    body: bytes


@dataclass
class Decoded:
    """What one frame held: the packets that decoded, and what was wrong with the rest."""

    packets: list[Packet] = field(default_factory=list)
    errors: list[CodecError] = field(default_factory=list)


def encode_packet(op: int, body: bytes = b"", *, version: int = VER_INT, seq: int = 1) -> bytes:
    return HEADER.pack(HEADER_LEN + len(body), HEADER_LEN, version, op, seq) + body


def inflate_zlib(data: bytes, limit: int = MAX_INFLATED) -> bytes:
    d = zlib.decompressobj()
    try:
        out = d.decompress(data, limit + 1)
    except zlib.error as exc:
        raise CodecError("bad_zlib", f"zlib batch does not inflate: {exc}") from None
    if len(out) > limit:
        raise CodecError("too_large", f"zlib batch inflates past {limit} bytes")
    if not d.eof:
        raise CodecError("truncated", "zlib batch is truncated")
    return out


def inflate_brotli(data: bytes, limit: int = MAX_INFLATED) -> bytes:
    d = brotli.Decompressor()
    parts: list[bytes] = []
    total = 0
    try:
        # output_buffer_limit stops a bomb after about ``limit`` bytes, not after all of it
        chunk = d.process(data, output_buffer_limit=limit + 1)
        while True:
            total += len(chunk)
            if total > limit:
                raise CodecError("too_large", f"brotli batch inflates past {limit} bytes")
            parts.append(chunk)
            if d.is_finished() or d.can_accept_more_data() or not chunk:
                break  # done, or every input byte used (finished or truncated: checked below)
            chunk = d.process(b"", output_buffer_limit=limit + 1 - total)
    except brotli.error as exc:
        raise CodecError("bad_brotli", f"brotli batch does not inflate: {exc}") from None
    if not d.is_finished():
        raise CodecError("truncated", "brotli batch is truncated")
    return b"".join(parts)


def decode(data: bytes, *, max_packet: int = MAX_PACKET, max_inflated: int = MAX_INFLATED) -> Decoded:
    """Every packet in one WebSocket frame (compressed batches opened, one level deep)."""
    out = Decoded()
    _decode_into(memoryview(data), out, max_packet, max_inflated, nested=False)
    return out


def _decode_into(view: memoryview, out: Decoded, max_packet: int, max_inflated: int, *, nested: bool) -> None:
    offset, end = 0, len(view)
    while offset < end:
        if end - offset < HEADER_LEN:
            out.errors.append(CodecError("short", f"{end - offset} bytes left: not a whole header"))
            return
        length, header_len, version, op, seq = HEADER.unpack_from(view, offset)
        if length < HEADER_LEN or not HEADER_LEN <= header_len <= length:
            out.errors.append(CodecError("bad_length", f"packet length {length} / header length {header_len}"))
            return  # the next packet's start is unknown: the rest of the frame is lost
        if length > end - offset:
            out.errors.append(CodecError("bad_length", f"packet claims {length} bytes, {end - offset} arrived"))
            return
        body = view[offset + header_len:offset + length]
        offset += length
        if length > max_packet:
            out.errors.append(CodecError("too_large", f"packet of {length} bytes is over {max_packet}"))
            continue
        if version in (VER_JSON, VER_INT):
            out.packets.append(Packet(version, op, seq, bytes(body)))
        elif version in (VER_ZLIB, VER_BROTLI):
            if nested:
                out.errors.append(CodecError("nested", "a compressed batch inside a compressed batch"))
                continue
            try:
                inner = inflate_zlib(bytes(body), max_inflated) if version == VER_ZLIB \
                    else inflate_brotli(bytes(body), max_inflated)
            except CodecError as exc:
                out.errors.append(exc)
                continue
            _decode_into(memoryview(inner), out, max_packet, max_inflated, nested=True)
        else:
            out.errors.append(CodecError("bad_version", f"unknown protocol version {version}"))


def batch(packets: list[bytes], version: int) -> bytes:
    """Packets compressed into one batch packet (what servers send; the tests' fake server uses it)."""
    inner = b"".join(packets)
    if version == VER_ZLIB:
        body = zlib.compress(inner)
    elif version == VER_BROTLI:
        body = brotli.compress(inner, quality=5)  # servers favour speed too
    else:
        raise ValueError(f"batch version must be {VER_ZLIB} (zlib) or {VER_BROTLI} (brotli), got {version}")
    return encode_packet(OP_MESSAGE, body, version=version, seq=0)


def popularity(packet: Packet) -> int | None:
    """The heartbeat reply's popularity count (a u32 body), None when malformed."""
    if packet.op != OP_HEARTBEAT_REPLY or len(packet.body) < 4:
        return None
    return int.from_bytes(packet.body[:4], "big")


__all__ = [
    "HEADER_LEN", "HEARTBEAT_BODY", "MAX_INFLATED", "MAX_PACKET", "OP_AUTH", "OP_AUTH_REPLY", "OP_HEARTBEAT",
    "OP_HEARTBEAT_REPLY", "OP_MESSAGE", "VER_BROTLI", "VER_INT", "VER_JSON", "VER_ZLIB", "CodecError",
    "Decoded", "Packet", "batch", "decode", "encode_packet", "inflate_brotli", "inflate_zlib", "popularity",
]  # fmt: skip
