"""The viewer page's buy/details button in real headless Chromium against the real hub: shown
while the studio's product card is on, its click reaches the studio as a product click."""

from __future__ import annotations

import threading
from typing import Any

from test_viewer_page import WAIT_MS, open_chat, start_chat

from studio.interaction.messages import ProductCard, ProductClick
from studio.net import NetLoop

PRODUCT = "商品卡 Product"


def test_product_button_shows_with_the_card_and_its_click_reaches_the_studio(net: NetLoop, browser: Any) -> None:
    relay, service, adapter = start_chat(net)
    clicks: list[ProductClick] = []
    clicked = threading.Event()
    service.product_clicks.connect(lambda c: (clicks.append(c), clicked.set()))
    try:
        page = open_chat(browser, relay, adapter)
        assert not page.locator("#product").is_visible()
        net.run(adapter.send(ProductCard(product=PRODUCT, moment="card-live", state="show")))
        page.wait_for_selector("#product", state="visible", timeout=WAIT_MS)
        page.click("#product")
        assert clicked.wait(30), "the click never reached the studio"
        assert [(c.product, c.platform) for c in clicks] == [(PRODUCT, "hub")]
        net.run(adapter.send(ProductCard(product=PRODUCT, moment="card-live", state="hide")))
        page.wait_for_selector("#product", state="hidden", timeout=WAIT_MS)
        page.close()
    finally:
        service.stop()
        net.run(relay.stop())
