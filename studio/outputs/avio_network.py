"""FFmpeg's network protocols (rtmp, rtmps, ...) as a plain byte writer, opened with timeouts and
without holding Python's GIL.

Why not ``av.open(url, "w")``: PyAV opens an output URL with ``avio_open`` -- no options (so no
``timeout``/``rw_timeout``) and with the GIL held -- and writes the header under the GIL too. An
RTMP handshake with a silent server would then freeze *every* Python thread (the encoders, the
clock, the other destinations) for as long as the server stays silent. Here the muxer writes into
a Python file object (PyAV's custom I/O) and this class hands the bytes to FFmpeg's protocol through
ctypes (``avio_open2`` with options, ``avio_write``, ``avio_flush``); ctypes releases the GIL for
each call, and ``timeout`` (microseconds; TCP connect and every read/write) bounds each one.

Only documented API of the libavformat/libavutil bundled with PyAV is used; the ``AVIOContext``
fields read (``error``) are the public ones at the head of the struct.
"""

from __future__ import annotations

import ctypes
import errno
import glob
import os
import time
from functools import cache

import av

_AVIO_FLAG_WRITE = 2
_AVERROR_EXIT = -0x54495845  # FFERRTAG('E','X','I','T'): the interrupt callback said stop


_INTERRUPT = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)


class _InterruptCB(ctypes.Structure):
    _fields_ = [("callback", _INTERRUPT), ("opaque", ctypes.c_void_p)]


class _AVIOContext(ctypes.Structure):
    # the public head of AVIOContext (libavformat/avio.h), up to ``error``
    _fields_ = [
        ("av_class", ctypes.c_void_p),
        ("buffer", ctypes.c_void_p),
        ("buffer_size", ctypes.c_int),
        ("buf_ptr", ctypes.c_void_p),
        ("buf_end", ctypes.c_void_p),
        ("opaque", ctypes.c_void_p),
        ("read_packet", ctypes.c_void_p),
        ("write_packet", ctypes.c_void_p),
        ("seek", ctypes.c_void_p),
        ("pos", ctypes.c_int64),
        ("eof_reached", ctypes.c_int),
        ("error", ctypes.c_int),
    ]


def _library(stem: str) -> ctypes.CDLL:
    libs = os.path.join(os.path.dirname(av.__file__), os.pardir, "av.libs")
    found = sorted(glob.glob(os.path.join(libs, f"{stem}-*.so*"))) or sorted(glob.glob(os.path.join(libs, f"{stem}*")))
    if not found:
        raise OSError(f"PyAV's {stem} was not found (looked in {os.path.normpath(libs)})")
    return ctypes.CDLL(found[0])


@cache
def _libs() -> tuple[ctypes.CDLL, ctypes.CDLL]:
    fmt, util = _library("libavformat"), _library("libavutil")
    fmt.avio_open2.argtypes = [ctypes.POINTER(ctypes.POINTER(_AVIOContext)), ctypes.c_char_p, ctypes.c_int,
                               ctypes.POINTER(_InterruptCB), ctypes.POINTER(ctypes.c_void_p)]
    fmt.avio_open2.restype = ctypes.c_int
    fmt.avio_write.argtypes = [ctypes.POINTER(_AVIOContext), ctypes.c_char_p, ctypes.c_int]
    fmt.avio_write.restype = None
    fmt.avio_flush.argtypes = [ctypes.POINTER(_AVIOContext)]
    fmt.avio_flush.restype = None
    fmt.avio_closep.argtypes = [ctypes.POINTER(ctypes.POINTER(_AVIOContext))]
    fmt.avio_closep.restype = ctypes.c_int
    util.av_dict_set.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
    util.av_dict_set.restype = ctypes.c_int
    util.av_dict_free.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
    util.av_dict_free.restype = None
    util.av_strerror.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
    util.av_strerror.restype = ctypes.c_int
    return fmt, util


def protocol_error(code: int, what: str) -> OSError:
    """An OSError for an FFmpeg error code (negative errno for system errors)."""
    _, util = _libs()
    buf = ctypes.create_string_buffer(256)
    util.av_strerror(code, buf, len(buf))
    text = buf.value.decode(errors="replace") or f"error {code}"
    return OSError(-code if -code in errno.errorcode else errno.EIO, f"{what}: {text}")


class AvioWriter:
    """A write-only file object on an FFmpeg protocol URL. Every call may block up to the timeout."""

    def __init__(self, url: str, timeout_s: float, options: dict[str, str] | None = None) -> None:
        self.timeout_s = timeout_s
        self._deadline = time.monotonic() + timeout_s
        self._aborted = False
        # FFmpeg polls this (about every 100 ms) while it waits on the network: our clock for every
        # call, and ``abort`` for a prompt stop. (rtmp takes ``timeout`` as its *listen* timeout, and
        # ``rw_timeout`` does not reach the inner TCP socket, so the callback is the timeout.)
        self._callback = _INTERRUPT(self._interrupted)
        self._interrupt = _InterruptCB(self._callback, None)
        self._url = url
        self._options = dict(options or {})
        self._ctx = ctypes.POINTER(_AVIOContext)()
        self.bytes_written = 0

    def connect(self) -> None:
        """Open the connection (blocks up to the timeout; ``abort`` from another thread ends it)."""
        fmt, util = _libs()
        timeout_s = self.timeout_s
        self._deadline = time.monotonic() + timeout_s
        opts = ctypes.c_void_p()
        for key, value in self._options.items():
            util.av_dict_set(ctypes.byref(opts), key.encode(), value.encode(), 0)
        try:
            code = fmt.avio_open2(ctypes.byref(self._ctx), self._url.encode(), _AVIO_FLAG_WRITE,
                                  ctypes.byref(self._interrupt), ctypes.byref(opts))
        finally:
            util.av_dict_free(ctypes.byref(opts))
        if code < 0:
            self._ctx = ctypes.POINTER(_AVIOContext)()
            if code == _AVERROR_EXIT:
                raise OSError(errno.ETIMEDOUT, f"no answer within {timeout_s:g} s") if not self._aborted \
                    else OSError(errno.ECANCELED, "stopped")
            raise protocol_error(code, "could not connect")

    def _interrupted(self, _opaque: int | None) -> int:
        return 1 if self._aborted or time.monotonic() > self._deadline else 0

    def abort(self) -> None:
        """Make the blocking call in progress (and any later one) fail at once (any thread)."""
        self._aborted = True

    def write(self, data: bytes) -> int:
        if not self._ctx:
            raise OSError(errno.EPIPE, "the connection is closed")
        fmt, _ = _libs()
        self._deadline = time.monotonic() + self.timeout_s
        fmt.avio_write(self._ctx, bytes(data), len(data))
        fmt.avio_flush(self._ctx)  # live: send now, and learn of a failed write now
        error = self._ctx.contents.error
        if error < 0:
            if error == _AVERROR_EXIT:
                raise OSError(errno.ETIMEDOUT, f"the server took no data for {self.timeout_s:g} s")
            raise protocol_error(error, "sending failed")
        self.bytes_written += len(data)
        return len(data)

    def close(self) -> None:
        if self._ctx:
            fmt, _ = _libs()
            self._deadline = time.monotonic() + min(self.timeout_s, 2.0)  # a goodbye, not a wait
            fmt.avio_closep(ctypes.byref(self._ctx))
