"""The show on one machine: the embedded relay (WHIP in, WHEP + viewer page out) and the
interaction hub, both on the ``net`` loop, on 127.0.0.1 unless the user opts in to the LAN."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from urllib.parse import quote

from studio.interaction.hub import HubConfig, HubServer
from studio.net.loop import NetLoop
from studio.services.relay import RelayServer

log = logging.getLogger(__name__)

DEFAULT_RELAY_PORT = 8889
DEFAULT_HUB_PORT = 8890
STREAM_NAME = "live"


def _free_or_zero(host: str, port: int) -> int:
    """``port`` when it can be bound, else 0 (an ephemeral port): a second studio still starts."""
    if port == 0:
        return 0
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            log.info("port %d is busy; using a free one", port)
            return 0
    return port


@dataclass(frozen=True)
class ServiceUrls:
    whip: str
    viewer: str
    hub_viewer: str
    hub_host: str
    hub_token: str


class LocalServices:
    def __init__(self, net: NetLoop, host: str = "127.0.0.1", relay_port: int = DEFAULT_RELAY_PORT,
                 hub_port: int = DEFAULT_HUB_PORT, token: str | None = None, allow_lan: bool = False) -> None:
        self._net = net
        self.relay = RelayServer(host=host, port=_free_or_zero(host, relay_port), token=token,
                                 allow_lan=allow_lan)
        self.hub = HubServer(HubConfig(host=host, port=_free_or_zero(host, hub_port), token=token,
                                       allow_remote=allow_lan))

    def start(self) -> ServiceUrls:
        self._net.start()
        self._net.run(self.relay.start(), 30)
        self._net.run(self.hub.start(), 30)
        return self.urls

    def stop(self) -> None:
        if self._net.running:
            self._net.run(self.hub.stop(), 30)
            self._net.run(self.relay.stop(), 30)

    @property
    def urls(self) -> ServiceUrls:
        hub = self.hub.viewer_url
        return ServiceUrls(
            whip=self.relay.url(f"/whip/{STREAM_NAME}"),
            viewer=self.relay.url(f"/view/{STREAM_NAME}") + f"?hub={quote(hub, safe='')}",
            hub_viewer=hub,
            hub_host=self.hub.host_url,
            hub_token=self.hub.token,
        )
