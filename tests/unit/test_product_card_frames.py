"""Product moments on the viewer page carry the catalogue's product id (so clicks count by product)
and the product's link when it is a plain http(s) one; any other link never reaches a page."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator

import pytest

from studio.interaction.adapters import Adapter
from studio.interaction.messages import HostFrame, Message, ProductCard
from studio.interaction.product_cards import ProductCardRelay
from studio.interaction.protocol import ProtocolError, encode_message, parse_host_frame, safe_link
from studio.net import NetLoop
from studio.rundown.events import MarkerFired, RundownEvents


@pytest.mark.parametrize(("url", "kept"), [
    ("https://shop.example.com/item/lipstick-666", True),
    ("http://shop.example.com:8080/a?b=1#c", True),
    ("javascript:alert(1)", False),
    ("data:text/html,<script>alert(1)</script>", False),
    ("https://user:pw@evil.example/", False),
    ("https://shop.example.com/a b", False),
    ('https://shop.example.com/"><img src=x onerror=alert(1)>', False),
    ("ftp://shop.example.com/x", False),
    ("//shop.example.com/x", False),
])
def test_only_plain_http_links_are_kept(url: str, kept: bool) -> None:
    assert safe_link(url) == (url if kept else "")


def test_a_card_frame_round_trips_its_link_and_refuses_another_scheme() -> None:
    card = ProductCard(product="lipstick-666", moment="card-live", link="https://shop.example.com/item/x")
    back = parse_host_frame(json.loads(encode_message(card)))
    assert isinstance(back, ProductCard) and (back.product, back.link) == ("lipstick-666", "https://shop.example.com/item/x")
    old = parse_host_frame({"type": "product_card", "product": "卡", "moment": "m", "state": "hide"})
    assert isinstance(old, ProductCard) and old.link == ""  # frames without a link still parse
    with pytest.raises(ProtocolError):
        parse_host_frame({"type": "product_card", "product": "x", "link": "javascript:alert(1)"})


class Sent(Adapter):
    def __init__(self) -> None:
        self.frames: list[HostFrame] = []
        self.got = threading.Event()

    async def __aiter__(self) -> AsyncIterator[Message]:  # type: ignore[override]
        return
        yield

    async def close(self) -> None:
        return None

    async def send(self, frame: HostFrame) -> bool:
        self.frames.append(frame)
        self.got.set()
        return True


def fire(relay_events: RundownEvents, adapter: Sent, marker: str, source: str) -> ProductCard:
    adapter.got.clear()
    relay_events.marker_fired.emit(MarkerFired("live", marker, "product", "show", 30, 30, source))
    assert adapter.got.wait(10)
    frame = adapter.frames[-1]
    assert isinstance(frame, ProductCard)
    return frame


def test_the_relay_names_the_product_id_and_its_safe_link() -> None:
    net = NetLoop()
    net.start()
    events, adapter = RundownEvents(), Sent()
    known = {"m-lipstick": ("lipstick-666", "https://shop.example.com/item/lipstick-666"),
             "m-bad-link": ("cup", "javascript:alert(1)")}
    relay = ProductCardRelay(adapter, net, events, lambda marker, _source: known.get(marker))
    try:
        card = fire(events, adapter, "m-lipstick", "商品卡 Product")
        assert (card.product, card.moment, card.link) == ("lipstick-666", "m-lipstick", "https://shop.example.com/item/lipstick-666")
        assert fire(events, adapter, "m-bad-link", "卡").link == ""  # never sent to a page
        assert fire(events, adapter, "m-old", "商品卡 Product").product == "商品卡 Product"  # no catalogue product
    finally:
        relay.close()
        net.stop()
