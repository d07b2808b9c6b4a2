"""SRT: MPEG-TS (PyAV's muxer) over an SRT caller connection (libsrt through ``srt_socket``).

``srt://host:port?latency=120&streamid=...`` -- latency (ms) and streamid come from the URL or the
destination's ``SrtOptions``; the passphrase is a secret (keyring / ``--key-env``), never in the URL
the studio shows or stores. A passphrase the listener does not share, or a streamid its access
control refuses, is a rejection that retrying cannot fix: the destination stops with that message.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import av

from studio.outputs.destinations import Destination
from studio.outputs.mux_destination import Connection, RefusedError
from studio.outputs.srt_socket import SrtError, SrtSocket
from studio.secrets import Secret

log = logging.getLogger(__name__)


class _SocketFile:
    """The file object the TS muxer writes into."""

    def __init__(self, sock: SrtSocket) -> None:
        self.sock = sock

    def write(self, data: bytes) -> int:
        return self.sock.send(data)


class TsConnection:
    def __init__(self, sock: SrtSocket) -> None:
        self.sock = sock
        # flush_packets: each muxed packet leaves at once (live); 1316-byte messages from srt_socket
        self.container = av.open(_SocketFile(sock), "w", format="mpegts", buffer_size=1316 * 8,
                                 options={"flush_packets": "1", "mpegts_flags": "resend_headers"})

    def close(self) -> None:
        try:
            self.container.close()
            self.sock.flush()
        except Exception as exc:
            log.debug("closing an SRT connection: %s", exc)
        finally:
            self.sock.close()

    def abort(self) -> None:
        self.sock.close()  # a send blocked on a full buffer returns with an error


class SrtConnector:
    def __init__(self, dest: Destination, key: Secret | None, passphrase: Secret | None, timeout_s: float) -> None:
        parts = urlsplit(dest.url)
        if not parts.hostname or not parts.port:
            raise ValueError(f"{dest.display_url}: an SRT URL needs a host and a port (srt://host:port)")
        self._host, self._port = parts.hostname, parts.port
        self._dest = dest
        # the key given for an SRT destination is its passphrase (one secret per destination)
        self._passphrase = passphrase or key
        if self._passphrase is not None and not 10 <= len(self._passphrase.reveal()) <= 79:
            raise ValueError("an SRT passphrase must be 10 to 79 characters long")
        self._timeout_s = timeout_s
        self._opening: SrtSocket | None = None

    def open(self) -> Connection:
        try:
            sock = SrtSocket.caller(self._host, self._port, latency_ms=self._dest.srt.latency_ms,
                                    timeout_s=self._timeout_s,
                                    passphrase=self._passphrase.reveal() if self._passphrase else None,
                                    streamid=self._dest.srt.streamid, created=self._remember)
        finally:
            self._opening = None
        return TsConnection(sock)

    def _remember(self, sock: SrtSocket) -> None:
        self._opening = sock

    def abort(self) -> None:
        sock = self._opening  # a connect in progress (bounded by SRTO_CONNTIMEO anyway) ends now
        if sock is not None:
            sock.close()

    def failed(self, exc: BaseException, went_live: bool) -> None:
        if isinstance(exc, SrtError) and exc.refused_for_good:
            raise RefusedError(f"{self._dest.display_url} rejected the connection (wrong passphrase or "
                               f"streamid not allowed: {exc.strerror}): stopped")
