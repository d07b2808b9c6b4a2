"""Which port a local server listens on.

A port the user gave (``--relay-port 8889``) is used as given or the start fails with one clear
message; only an unspecified port (``None``: the default, preferred) may fall back to a free one,
so a second studio on the same machine still starts.

"Free" is decided the way the servers themselves bind: aiohttp and websockets go through asyncio's
``create_server``, which sets ``SO_REUSEADDR`` on POSIX. A probe without it fails on a port whose
old connections still sit in TIME_WAIT/FIN-WAIT after a crash, although the real bind would work.
"""

from __future__ import annotations

import errno
import logging
import os
import socket

log = logging.getLogger(__name__)


class PortInUseError(OSError):
    """An explicitly chosen port is taken by another listening socket (another process)."""

    def __init__(self, what: str, host: str, port: int, option: str | None = None) -> None:
        choose = f"; stop it or pass another {option}" if option else "; stop it or choose another port"
        super().__init__(errno.EADDRINUSE, f"{what} port {port} on {host} is in use by another process{choose}")
        self.what = what
        self.host = host
        self.port = port

    def __str__(self) -> str:  # the sentence alone, without "[Errno 98]"
        return str(self.strerror)


def can_listen(host: str, port: int) -> bool:
    """True when a server could bind ``host:port`` now (with SO_REUSEADDR, like asyncio's)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        if os.name == "posix":  # on Windows SO_REUSEADDR would let us steal a live port
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def choose_port(what: str, host: str, port: int | None, default: int, option: str | None = None) -> int:
    """``port`` as given (PortInUseError if another process listens there; 0 means any free port),
    or, when ``port`` is None, ``default`` if it is free, else 0 (a free port picked at bind)."""
    if port is None:
        if can_listen(host, default):
            return default
        log.info("%s: default port %d is busy; using a free one", what, default)
        return 0
    if not 0 <= port <= 65535:
        raise ValueError(f"{what} port must be 0-65535, got {port}")
    if port and not can_listen(host, port):
        raise PortInUseError(what, host, port, option)
    return port
