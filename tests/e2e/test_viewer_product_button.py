"""The viewer page's buy/details button in real headless Chromium against the real hub: shown
while the studio's product card is on (with the product's link as text), its click reaches the
studio as a product click for the catalogue's product id."""

from __future__ import annotations

import threading
from typing import Any

from test_viewer_page import WAIT_MS, open_chat, start_chat

from studio.interaction.messages import ProductCard, ProductClick
from studio.net import NetLoop

PRODUCT = "lipstick-666"  # the catalogue's product id (ProductCardRelay)
LINK = "https://shop.example.com/item/lipstick-666"


def test_product_button_shows_with_the_card_and_its_click_reaches_the_studio(net: NetLoop, browser: Any) -> None:
    relay, service, adapter = start_chat(net)
    clicks: list[ProductClick] = []
    clicked = threading.Event()

    def on_click(click: ProductClick) -> None:
        clicks.append(click)
        clicked.set()

    service.product_clicks.connect(on_click)
    try:
        page = open_chat(browser, relay, adapter)
        assert not page.locator("#product").is_visible()
        net.run(adapter.send(ProductCard(product=PRODUCT, moment="card-live", state="show", link=LINK)))
        page.wait_for_selector("#product", state="visible", timeout=WAIT_MS)
        # the product's page as plain text and an http(s) link
        link = page.wait_for_selector("#product-link", state="visible", timeout=WAIT_MS)
        assert link is not None and link.text_content() == LINK and link.get_attribute("href") == LINK
        assert link.get_attribute("rel") == "noopener noreferrer"
        page.click("#product")
        assert clicked.wait(30), "the click never reached the studio"
        assert [(c.product, c.platform) for c in clicks] == [(PRODUCT, "hub")]  # the id, not the card's name
        net.run(adapter.send(ProductCard(product=PRODUCT, moment="card-live", state="hide")))
        page.wait_for_selector("#product", state="hidden", timeout=WAIT_MS)
        page.wait_for_selector("#product-link", state="hidden", timeout=WAIT_MS)
        page.close()
    finally:
        service.stop()
        net.run(relay.stop())
