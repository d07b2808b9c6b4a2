"""The show on one machine: the embedded relay (WHIP in, WHEP + viewer page out) and the
interaction hub, both on the ``net`` loop, on 127.0.0.1 unless the user opts in to the LAN."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import quote

from studio.interaction.hub import HubConfig, HubServer
from studio.interaction.identity import DEFAULT_NEW_PER_MINUTE
from studio.net.loop import NetLoop
from studio.net.ports import choose_port
from studio.services.access import AccessTokens, lan_address
from studio.services.guests import CoHost, GuestBook
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
    view_token: str | None = None  # LAN: what the viewer link carries (never publish or host rights)


class LocalServices:
    """The relay and the hub. A port given as a number is used as given (0: any free port) or the
    constructor raises ``PortInUseError``; ``None`` (unspecified, what the GUI and a plain
    ``studio serve`` use) prefers the default port and falls back to a free one when another
    program holds it: the URLs then name the port really used.

    On the LAN (``allow_lan``) ``token`` is the master secret: it is the publish token, and the host
    and view tokens are derived from it (``studio.services.access``), so the viewer link printed
    carries only the right to watch and chat. ``cors_origins``: browser players on other origins
    (WHIP/WHEP); ``chat_origins``: pages besides the relay's own that may join the chat;
    ``new_viewers_per_minute``: new viewer identities per address (a venue behind one NAT)."""

    def __init__(self, net: NetLoop, host: str = "127.0.0.1", relay_port: int | None = None,
                 hub_port: int | None = None, token: str | None = None, allow_lan: bool = False, *,
                 cors_origins: tuple[str, ...] = (), chat_origins: tuple[str, ...] = (),
                 new_viewers_per_minute: float = DEFAULT_NEW_PER_MINUTE) -> None:
        self._net = net
        access = AccessTokens.from_master(token) if allow_lan and token else AccessTokens(token, token)
        self.access = access
        # the address printed for viewers: 0.0.0.0 is where we listen, not where anyone connects
        self.public_host = lan_address() if host in ("0.0.0.0", "::") else host
        self.guests = GuestBook()  # co-hosts (issue 15): the relay's guest ingest and the dock share it
        self.relay = RelayServer(
            host=host, port=choose_port("relay", host, relay_port, DEFAULT_RELAY_PORT, "--relay-port"),
            token=access.publish, view_token=access.view, cors_origins=cors_origins, allow_lan=allow_lan,
            guest_book=self.guests)
        self.cohost: CoHost | None = None  # the co-host dock's model, once the relay listens
        self.hub = HubServer(HubConfig(
            host=host, port=choose_port("hub", host, hub_port, DEFAULT_HUB_PORT, "--hub-port"),
            token=access.host, allow_remote=allow_lan, viewer_token=access.view, allowed_origins=chat_origins,
            new_identities_per_minute=new_viewers_per_minute))

    def start(self) -> ServiceUrls:
        self._net.start()
        self._net.run(self.relay.start(), 30)
        guest_page = self._public(self.relay.url(f"/guest/{STREAM_NAME}"), self.relay.host)
        self.cohost = CoHost(self.guests, self._net, guest_page)
        self.hub.allow_page(self.relay.port)  # the relay's viewer page may join the chat
        self._net.run(self.hub.start(), 30)
        return self.urls

    def stop(self) -> None:
        if self._net.running:
            self._net.run(self.hub.stop(), 30)
            self._net.run(self.relay.stop(), 30)

    def _public(self, url: str, listening: str) -> str:
        return url.replace(f"//{listening}:", f"//{self.public_host}:", 1) if listening != self.public_host else url

    @property
    def urls(self) -> ServiceUrls:
        host = self.relay.host
        view = self.access.view
        hub = self._public(self.hub.viewer_url, host) + (f"?token={quote(view, safe='')}" if view else "")
        page = self._public(self.relay.url(f"/view/{STREAM_NAME}"), host)
        access = f"token={quote(view, safe='')}&" if view else ""
        return ServiceUrls(
            whip=self._public(self.relay.url(f"/whip/{STREAM_NAME}"), host),
            viewer=f"{page}?{access}hub={quote(hub, safe='')}",
            hub_viewer=hub,
            hub_host=self._public(self.hub.host_url, host),
            hub_token=self.hub.token,
            view_token=view,
        )
