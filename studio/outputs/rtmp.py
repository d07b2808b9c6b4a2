"""RTMP/RTMPS: FLV over FFmpeg's rtmp/rtmps protocols (in the PyAV wheel), opened with timeouts.

The stream key is the last path segment of the publish URL (``rtmp://host/app/<key>``); the user may
paste it into the URL or keep it in the keyring (``key``). It is joined here, on the destination's
thread, and never shown: messages use ``Destination.display_url``.

Timeouts: the connection is FFmpeg's rtmp/rtmps protocol driven through ``avio_network`` (every
connect, handshake and write bounded by the destination's ``io_timeout_s``, without the GIL held);
the FLV muxer writes into it as into a file (``flvflags=no_duration_filesize``: nothing to seek
back to on a live connection).

A refused publish (a wrong or expired key: nginx-rtmp's ``on_publish`` answering 403, the platforms'
``NetStream.Publish.BadName``) shows up in FFmpeg as the server closing the connection or an error
right after the handshake, which looks like a server hiccup. So: a connection that reached the
server (not refused, not timed out) but was closed before the first packet went out, three times in
a row, is taken as a refused key and stops the destination with that message.
"""

from __future__ import annotations

import errno
import logging
import socket
from urllib.parse import urlsplit

import av

from studio.outputs.avio_network import AvioWriter
from studio.outputs.mux_destination import Connection, RefusedError
from studio.secrets import Secret

log = logging.getLogger(__name__)

REFUSALS_FOR_GOOD = 3
# errors that mean the server was never reached (a retry may well work later)
_UNREACHED = {errno.ECONNREFUSED, errno.ETIMEDOUT, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EAGAIN,
              errno.ECANCELED}


def publish_url(url: str, key: Secret | None) -> str:
    """The URL FFmpeg publishes to: ``url`` with ``key`` appended as the stream name when given."""
    if key is None:
        return url
    return url.rstrip("/") + "/" + key.reveal()


class FlvConnection:
    """An FLV muxer writing into one network connection."""

    def __init__(self, writer: AvioWriter) -> None:
        self.writer = writer
        self.container = av.open(writer, "w", format="flv", options={"flvflags": "no_duration_filesize"})

    def close(self) -> None:
        try:
            self.container.close()  # the FLV trailer: a goodbye, bounded by the writer's timeout
        except Exception as exc:  # the server is gone already: nothing left to flush
            log.debug("closing an RTMP connection: %s", exc)
        finally:
            self.writer.close()

    def abort(self) -> None:
        self.writer.abort()


class RtmpConnector:
    """Opens FLV publishing connections for one destination (on the destination's thread)."""

    def __init__(self, url: str, key: Secret | None, describe: str, timeout_s: float) -> None:
        self._url = url
        self._key = key
        self._describe = describe
        self._timeout_s = timeout_s
        self._refusals = 0
        self._opening: AvioWriter | None = None
        self.port = urlsplit(url).port or (443 if urlsplit(url).scheme == "rtmps" else 1935)

    def open(self) -> Connection:
        host = urlsplit(self._url).hostname or ""
        try:  # FFmpeg says EIO both for a name that does not resolve and for a refused publish
            socket.getaddrinfo(host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise OSError(errno.EHOSTUNREACH, f"the host name {host!r} does not resolve ({exc.strerror})") from None
        writer = self._opening = AvioWriter(publish_url(self._url, self._key), self._timeout_s,
                                            {"tcp_nodelay": "1"})
        try:
            writer.connect()  # handshake, connect, publish: a refused key fails here
        finally:
            self._opening = None
        return FlvConnection(writer)

    def abort(self) -> None:
        writer = self._opening
        if writer is not None:
            writer.abort()

    def failed(self, exc: BaseException, went_live: bool) -> None:
        code = getattr(exc, "errno", None)
        if went_live or code in _UNREACHED:
            self._refusals = 0  # a live stream that ended, or a server not reached: not a refusal
            return
        self._refusals += 1
        if self._refusals >= REFUSALS_FOR_GOOD:
            raise RefusedError(f"{self._describe} refused to let us publish {self._refusals} times in a row "
                               "(the stream key is probably wrong or expired): stopped")
