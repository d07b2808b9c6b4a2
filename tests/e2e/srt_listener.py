"""An SRT listener for the tests and the bench: accepts one caller and writes what it receives
(MPEG-TS) to a file, until stopped or the caller leaves."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from studio.outputs.srt_socket import SRTO_STREAMID, SrtSocket


class SrtListener:
    def __init__(self, out: Path, passphrase: str | None = None) -> None:
        self.out = out
        self.socket = SrtSocket.listener(passphrase=passphrase)
        self.port = self.socket.port
        self.streamid = ""
        self.received = 0
        self.connections = 0
        self._stop = threading.Event()
        self.got_bytes = threading.Event()
        self._thread = threading.Thread(target=self._run, name="srt-listener")
        self._want = 0

    @property
    def url(self) -> str:
        return f"srt://127.0.0.1:{self.port}"

    def start(self, want_bytes: int = 1) -> SrtListener:
        self._want = want_bytes
        self._thread.start()
        return self

    def _run(self) -> None:
        with self.out.open("wb") as f:
            while not self._stop.is_set():
                peer = self.socket.accept()
                if peer is None:
                    continue
                self.connections += 1
                self.streamid = peer.get_str(SRTO_STREAMID)
                try:
                    while not self._stop.is_set():
                        message = peer.recv()
                        if message is None:
                            continue
                        if not message:
                            break
                        f.write(message)
                        self.received += len(message)
                        if self.received >= self._want:
                            self.got_bytes.set()
                finally:
                    peer.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.socket.close()


def _sockets() -> set[str]:
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:"):
                found.add(target)
    return found


@contextlib.contextmanager
def srt_sockets_released() -> Iterator[None]:
    """libsrt closes a closed socket's UDP multiplexer on its own garbage-collector thread (about a
    second later): wait for that, so the suite's leaked-socket check sees the truth."""
    before = _sockets()
    yield
    deadline = time.monotonic() + 10
    while _sockets() - before and time.monotonic() < deadline:
        time.sleep(0.1)
