"""Product moments on the viewer page: when the rundown shows or hides a product card, viewers of
the hub page get a ``product_card`` frame and their page offers a buy/details button, whose click
comes back as a ``product_click`` (counted per product moment in the session report). The frame
names the catalogue's product id (so clicks are counted by product, whichever card shows it) and
the product's link when it has a safe one."""

from __future__ import annotations

import logging
from collections.abc import Callable

from studio.interaction.adapters import Adapter
from studio.interaction.messages import ProductCard
from studio.interaction.protocol import safe_link
from studio.net.loop import NetLoop
from studio.rundown.events import MarkerFired, RundownEvents

log = logging.getLogger(__name__)


# (marker id, card source) -> (product id, link) of the product the moment shows, or None
ProductOf = Callable[[str, str], "tuple[str, str] | None"]


class ProductCardRelay:
    def __init__(self, adapter: Adapter, net: NetLoop, events: RundownEvents,
                 product_of: ProductOf = lambda _marker, _source: None) -> None:
        self._adapter = adapter
        self._net = net
        self._product_of = product_of
        self._disconnect: Callable[[], None] = events.marker_fired.connect(self._on_marker)

    def _on_marker(self, e: MarkerFired) -> None:
        # the clock thread only schedules the send: the net loop does the network work
        if e.kind != "product" or not e.detail or not self._net.running:
            return
        found = self._product_of(e.marker, e.detail)
        # a card with no catalogue product (an old show): its source name, as before
        product, link = found if found is not None else (e.detail, "")
        card = ProductCard(product=product[:64], moment=e.marker[:64], state="show" if e.action == "show" else "hide",
                           link=safe_link(link))
        self._net.submit(self._adapter.send(card))

    def close(self) -> None:
        self._disconnect()
