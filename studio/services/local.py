"""The show on one machine: the embedded relay (WHIP in, WHEP + viewer page out) and the
interaction hub, both on the ``net`` loop, on 127.0.0.1 unless the user opts in to the LAN."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import quote

from studio.interaction.hub import HubConfig, HubServer
from studio.net.loop import NetLoop
from studio.net.ports import choose_port
from studio.services.relay import RelayServer

log = logging.getLogger(__name__)

DEFAULT_RELAY_PORT = 8889
DEFAULT_HUB_PORT = 8890
STREAM_NAME = "live"


@dataclass(frozen=True)
class ServiceUrls:
    whip: str
    viewer: str
    hub_viewer: str
    hub_host: str
    hub_token: str


class LocalServices:
    """The relay and the hub. A port given as a number is used as given (0: any free port) or the
    constructor raises ``PortInUseError``; ``None`` (unspecified, what the GUI and a plain
    ``studio serve`` use) prefers the default port and falls back to a free one when another
    program holds it: the URLs then name the port really used."""

    def __init__(self, net: NetLoop, host: str = "127.0.0.1", relay_port: int | None = None,
                 hub_port: int | None = None, token: str | None = None, allow_lan: bool = False) -> None:
        self._net = net
        self.relay = RelayServer(
            host=host, port=choose_port("relay", host, relay_port, DEFAULT_RELAY_PORT, "--relay-port"),
            token=token, allow_lan=allow_lan)
        self.hub = HubServer(HubConfig(
            host=host, port=choose_port("hub", host, hub_port, DEFAULT_HUB_PORT, "--hub-port"),
            token=token, allow_remote=allow_lan))

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
