"""A small ctypes binding to Haivision's libsrt (Debian: libsrt1.5-openssl) for live-mode SRT.

PyAV's wheel has FFmpeg without libsrt (its protocols: rtmp, rtmps, tcp, tls, udp, ... no srt), so
the SRT destination muxes MPEG-TS with PyAV into this socket instead. Caller mode (the studio
connects) with latency, passphrase and streamid; listener mode for the tests and the bench. ctypes
releases the GIL during each call; connect and send are bounded by SRT's own timeouts.

Live mode sends messages of at most 1316 bytes (7 TS packets); ``send`` cuts and buffers to that.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import socket
import struct
from collections.abc import Callable
from functools import cache

LIVE_PAYLOAD = 1316  # 7 x 188-byte TS packets: SRT's live-mode message size
# SRT_SOCKOPT values (srt.h, stable since 1.3)
SRTO_SNDSYN, SRTO_RCVSYN = 1, 2
SRTO_SNDTIMEO, SRTO_RCVTIMEO = 13, 14
SRTO_LATENCY = 23
SRTO_PASSPHRASE = 26
SRTO_CONNTIMEO = 36
SRTO_STREAMID = 46
SRTO_TRANSTYPE = 50
SRTT_LIVE = 0
# rejection reasons that retrying cannot fix (srt.h SRT_REJECT_REASON; >= 1000: the server's own)
SRT_REJ_BADSECRET, SRT_REJ_UNSECURE = 10, 11
SRT_REJC_SERVER = 1000
_INVALID = -1


class SrtError(OSError):
    def __init__(self, code: int, message: str, reject_reason: int = 0) -> None:
        super().__init__(code, message)
        self.reject_reason = reject_reason

    @property
    def refused_for_good(self) -> bool:
        return self.reject_reason in (SRT_REJ_BADSECRET, SRT_REJ_UNSECURE) or self.reject_reason >= SRT_REJC_SERVER


@cache
def library() -> ctypes.CDLL:
    name = ctypes.util.find_library("srt") or "libsrt.so.1.5"
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise OSError(errno.ENOENT, "SRT needs libsrt (Debian: apt install libsrt1.5-openssl)") from exc
    lib.srt_startup.restype = ctypes.c_int
    lib.srt_create_socket.restype = ctypes.c_int
    lib.srt_setsockflag.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    lib.srt_getsockflag.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]
    lib.srt_connect.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    lib.srt_bind.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    lib.srt_listen.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.srt_accept.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]
    lib.srt_send.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.srt_recv.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.srt_close.argtypes = [ctypes.c_int]
    lib.srt_getlasterror_str.restype = ctypes.c_char_p
    lib.srt_getlasterror.argtypes = [ctypes.POINTER(ctypes.c_int)]
    lib.srt_getrejectreason.argtypes = [ctypes.c_int]
    lib.srt_getsockname.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]
    lib.srt_setloglevel.argtypes = [ctypes.c_int]
    lib.srt_setloglevel(2)  # LOG_CRIT: our own messages say what failed; libsrt's warnings are noise
    lib.srt_startup()  # once per process; srt_cleanup at exit is libsrt's own atexit
    return lib


def _sockaddr(host: str, port: int) -> bytes:
    """A sockaddr_in for ``host`` (IPv4: resolved here, blocking as any name lookup)."""
    try:
        address = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_DGRAM)[0][4][0]
    except socket.gaierror as exc:
        raise SrtError(errno.EIO, f"the host name {host!r} does not resolve ({exc.strerror})") from None
    return struct.pack("<H", socket.AF_INET) + struct.pack(">H", port) + socket.inet_aton(str(address)) + bytes(8)


def _error(what: str, sock: int = _INVALID) -> SrtError:
    lib = library()
    sys_errno = ctypes.c_int(0)
    code = lib.srt_getlasterror(ctypes.byref(sys_errno))
    text = (lib.srt_getlasterror_str() or b"").decode(errors="replace")
    reason = lib.srt_getrejectreason(sock) if sock != _INVALID else 0
    mapped = errno.ETIMEDOUT if "timed out" in text.lower() or code in (6003, 6004) else \
        errno.ECONNREFUSED if reason else errno.EIO
    return SrtError(mapped, f"{what}: {text}" + (f" (rejected: reason {reason})" if reason else ""), reason)


class SrtSocket:
    def __init__(self, handle: int | None = None) -> None:
        lib = library()
        self._lib = lib
        self.handle = lib.srt_create_socket() if handle is None else handle
        if self.handle == _INVALID:
            raise _error("could not create an SRT socket")
        self._pending = b""
        self.bytes_sent = 0

    def set_int(self, option: int, value: int) -> None:
        v = ctypes.c_int(value)
        if self._lib.srt_setsockflag(self.handle, option, ctypes.byref(v), ctypes.sizeof(v)) != 0:
            raise _error(f"SRT option {option}")

    def set_bytes(self, option: int, value: bytes) -> None:
        if self._lib.srt_setsockflag(self.handle, option, value, len(value)) != 0:
            raise _error(f"SRT option {option}")

    def get_str(self, option: int) -> str:
        buf = ctypes.create_string_buffer(1024)
        size = ctypes.c_int(len(buf))
        if self._lib.srt_getsockflag(self.handle, option, buf, ctypes.byref(size)) != 0:
            raise _error(f"SRT option {option}")
        return buf.raw[:size.value].decode(errors="replace")

    # ---- caller ------------------------------------------------------------------------------
    @staticmethod
    def caller(host: str, port: int, *, latency_ms: int, timeout_s: float, passphrase: str | None = None,
               streamid: str = "", created: Callable[[SrtSocket], None] | None = None) -> SrtSocket:
        """Connect (blocking up to ``timeout_s``); ``created`` sees the socket first, so another
        thread can ``close`` it to end the connect at once."""
        s = SrtSocket()
        if created is not None:
            created(s)
        try:
            s.set_int(SRTO_TRANSTYPE, SRTT_LIVE)
            s.set_int(SRTO_LATENCY, latency_ms)
            s.set_int(SRTO_CONNTIMEO, int(timeout_s * 1000))
            s.set_int(SRTO_SNDTIMEO, int(timeout_s * 1000))
            if passphrase:
                s.set_bytes(SRTO_PASSPHRASE, passphrase.encode())
            if streamid:
                s.set_bytes(SRTO_STREAMID, streamid.encode())
            addr = _sockaddr(host, port)
            if s._lib.srt_connect(s.handle, addr, len(addr)) == _INVALID:
                raise _error(f"SRT connect to {host}:{port}", s.handle)
        except BaseException:
            s.close()
            raise
        return s

    def send(self, data: bytes) -> int:
        """Send ``data`` in live-mode messages; a part short of a message waits for the next call."""
        self._pending += bytes(data)
        view = memoryview(self._pending)
        sent = 0
        while len(view) - sent >= LIVE_PAYLOAD:
            chunk = bytes(view[sent:sent + LIVE_PAYLOAD])
            if self._lib.srt_send(self.handle, chunk, len(chunk)) < 0:
                raise _error("SRT send")
            sent += LIVE_PAYLOAD
        self._pending = bytes(view[sent:])
        self.bytes_sent += sent
        return len(data)

    def flush(self) -> None:
        if self._pending:
            chunk, self._pending = self._pending, b""
            if self._lib.srt_send(self.handle, chunk, len(chunk)) < 0:
                raise _error("SRT send")
            self.bytes_sent += len(chunk)

    # ---- listener (tests, bench) ----------------------------------------------------------------------
    @staticmethod
    def listener(host: str = "127.0.0.1", port: int = 0, *, latency_ms: int = 120,
                 passphrase: str | None = None) -> SrtSocket:
        s = SrtSocket()
        try:
            s.set_int(SRTO_TRANSTYPE, SRTT_LIVE)
            s.set_int(SRTO_LATENCY, latency_ms)
            s.set_int(SRTO_RCVTIMEO, 500)  # accept/recv wake up to look at a stop flag
            if passphrase:
                s.set_bytes(SRTO_PASSPHRASE, passphrase.encode())
            addr = _sockaddr(host, port)
            if s._lib.srt_bind(s.handle, addr, len(addr)) != 0:
                raise _error(f"SRT bind {host}:{port}")
            if s._lib.srt_listen(s.handle, 4) != 0:
                raise _error("SRT listen")
        except BaseException:
            s.close()
            raise
        return s

    @property
    def port(self) -> int:
        buf = ctypes.create_string_buffer(16)
        size = ctypes.c_int(16)
        self._lib.srt_getsockname(self.handle, buf, ctypes.byref(size))
        return int(struct.unpack(">H", buf.raw[2:4])[0])

    def accept(self) -> SrtSocket | None:
        """A connected caller, or None when none came within the receive timeout."""
        handle = self._lib.srt_accept(self.handle, None, None)
        return None if handle == _INVALID else SrtSocket(handle)

    def recv(self) -> bytes | None:
        """One message; b"" when the peer closed; None on a timeout."""
        buf = ctypes.create_string_buffer(1500)
        n = self._lib.srt_recv(self.handle, buf, len(buf))
        if n < 0:
            err = _error("SRT recv")
            return None if err.errno == errno.ETIMEDOUT else b""
        return buf.raw[:n]

    def close(self) -> None:
        if self.handle != _INVALID:
            self._lib.srt_close(self.handle)
            self.handle = _INVALID
