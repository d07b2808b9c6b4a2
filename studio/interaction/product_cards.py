"""Product moments on the viewer page: when the rundown shows or hides a product card, viewers of
the hub page get a ``product_card`` frame and their page offers a buy/details button, whose click
comes back as a ``product_click`` (counted per product moment in the session report)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from studio.interaction.adapters import Adapter
from studio.interaction.messages import ProductCard
from studio.net.loop import NetLoop
from studio.rundown.events import MarkerFired, RundownEvents

log = logging.getLogger(__name__)


class ProductCardRelay:
    def __init__(self, adapter: Adapter, net: NetLoop, events: RundownEvents) -> None:
        self._adapter = adapter
        self._net = net
        self._disconnect: Callable[[], None] = events.marker_fired.connect(self._on_marker)

    def _on_marker(self, e: MarkerFired) -> None:
        # the clock thread only schedules the send: the net loop does the network work
        if e.kind != "product" or not e.detail or not self._net.running:
            return
        card = ProductCard(product=e.detail[:64], moment=e.marker[:64], state="show" if e.action == "show" else "hide")
        self._net.submit(self._adapter.send(card))

    def close(self) -> None:
        self._disconnect()
