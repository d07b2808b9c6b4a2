"""Product cards and rundown product moments pick products from the catalogue by id.

A product card source keeps a ``product_id``; its title, prices and image are filled from the
catalogue (``apply_catalogue`` when a show opens, ``CardBinder`` while it runs: a product moment
naming a product puts that product on its card as it shows, and a catalogue edit reaches the cards
showing that product). Files from before the catalogue keep loading: ``migrate_inline_cards``
turns a card's typed-in product into a catalogue product (or finds the one with its name) and
sets the card's id; ``migrate_rundown_products`` gives old product moments their card's product.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from scenes.model import SceneCollection
from studio.catalogue.model import Catalogue, CatalogueChanged, Product
from studio.commands import EditBatch, UpdateSource
from studio.rundown.events import MarkerFired, RundownEvents
from studio.rundown.markers import ProductMoment
from studio.rundown.model import Rundown

log = logging.getLogger(__name__)
CARD_TYPE = "product_card"


def card_settings(product: Product) -> dict[str, Any]:
    """What a product card shows of ``product``."""
    settings: dict[str, Any] = {"product_id": product.id, "title": product.name, "price": product.price,
                                "original_price": product.original_price}
    if product.image:
        settings["image"] = product.image
    return settings


def _cards(collection: SceneCollection) -> list[tuple[str, dict[str, Any]]]:
    with collection.lock:
        return [(name, dict(cfg.settings)) for name, cfg in collection.sources.items() if cfg.type_id == CARD_TYPE]


def apply_catalogue(collection: SceneCollection, catalogue: Catalogue) -> list[str]:
    """Fill every card that names a product from the catalogue; the problems (unknown ids) are
    returned, those cards keep what they show."""
    problems = []
    for name, settings in _cards(collection):
        pid = settings.get("product_id", "")
        if not pid:
            continue
        product = catalogue.get(pid)
        if product is None:
            problems.append(f"product card {name!r}: product {pid!r} is not in the catalogue")
            continue
        with collection.lock:
            collection.update_source(name, card_settings(product))
    return problems


@dataclass(frozen=True)
class CardMigration:
    source: str
    product: str
    created: bool  # a new catalogue product from the card's own fields (else found by name)


def migrate_inline_cards(collection: SceneCollection, catalogue: Catalogue) -> list[CardMigration]:
    """Cards with typed-in product data and no id get one: the catalogue product with the same
    name, else a new product made from the card's title, prices and image."""
    done = []
    for name, s in _cards(collection):
        if s.get("product_id"):
            continue
        title = str(s.get("title", "")).strip()
        if not title:
            continue
        product = catalogue.find_by_name(title)
        created = product is None
        if product is None:
            product = catalogue.add(Product(catalogue.new_id("card-product"), title, float(s.get("price", 0.0)),
                                            float(s.get("original_price", 0.0)), str(s.get("image", ""))))
        with collection.lock:
            collection.update_source(name, {"product_id": product.id})
        done.append(CardMigration(name, product.id, created))
    return done


def migrate_rundown_products(rundown: Rundown, collection: SceneCollection) -> int:
    """Product moments without a product take their card source's; returns how many changed."""
    ids = {name: s.get("product_id", "") for name, s in _cards(collection)}
    changed = 0
    with rundown.lock:
        segments = list(rundown.segments)
    for segment in segments:
        for m in list(segment.markers):
            if isinstance(m, ProductMoment) and not m.product and ids.get(m.source):
                segment.replace_marker(ProductMoment(m.at_s, m.scene, m.source, m.duration_s, id=m.id,
                                                     product=ids[m.source]))
                changed += 1
    return changed


class Submitter(Protocol):
    def submit(self, command: EditBatch) -> None: ...  # studio.engine.Studio.submit


class CardBinder:
    """While a show runs: cards follow the catalogue and the product moments' products, through the
    engine's commands (applied at the next tick, like every other scene edit)."""

    def __init__(self, studio: Submitter, collection: SceneCollection, catalogue: Catalogue,
                 events: RundownEvents | None = None, rundown: Rundown | None = None) -> None:
        self._studio, self._collection, self._catalogue = studio, collection, catalogue
        self._rundown: Rundown | None = None
        self._disconnects: list[Callable[[], None]] = [catalogue.changed.connect(self._on_catalogue)]
        self._rundown_disconnect: Callable[[], None] | None = None
        if events is not None and rundown is not None:
            self.bind_rundown(events, rundown)

    def bind_rundown(self, events: RundownEvents, rundown: Rundown) -> None:
        """Follow this rundown's product moments (instead of the previous rundown's)."""
        if self._rundown_disconnect is not None:
            self._rundown_disconnect()
        self._rundown = rundown
        self._rundown_disconnect = events.marker_fired.connect(self._on_marker)

    def _put(self, source: str, product: Product) -> None:
        # the show's automation, not the director's edit: no undo step (a Ctrl+Z right after a
        # moment switched the card must take back what the director did, not switch it back)
        self._studio.submit(EditBatch((UpdateSource(source, card_settings(product)),), record=False))

    def _on_catalogue(self, change: CatalogueChanged) -> None:
        for name, s in _cards(self._collection):
            pid = s.get("product_id", "")
            if pid and (change.kind == "reset" or pid == change.product):
                product = self._catalogue.get(pid)
                if product is not None:
                    self._put(name, product)

    def moment(self, marker_id: str) -> ProductMoment | None:
        if self._rundown is None:
            return None
        with self._rundown.lock:
            for segment in self._rundown.segments:
                for m in segment.markers:
                    if isinstance(m, ProductMoment) and m.id == marker_id:
                        return m
        return None

    def product_for(self, marker_id: str, source: str) -> Product | None:
        """The catalogue product a product moment shows: the moment's own, else its card source's
        (None: neither names a product the catalogue has). Any thread."""
        m = self.moment(marker_id)
        pid = m.product if m is not None else ""
        if not pid:
            with self._collection.lock:
                cfg = self._collection.sources.get(source)
                pid = str(cfg.settings.get("product_id") or "") if cfg is not None and cfg.type_id == CARD_TYPE else ""
        return self._catalogue.get(pid) if pid else None

    def _on_marker(self, e: MarkerFired) -> None:
        if e.kind != "product" or e.action != "show":
            return
        m = self.moment(e.marker)
        if m is None or not m.product:
            return
        product = self._catalogue.get(m.product)
        if product is None:
            log.warning("product moment %s: product %r is not in the catalogue", m.id, m.product)
            return
        self._put(m.source, product)

    def close(self) -> None:
        if self._rundown_disconnect is not None:
            self._rundown_disconnect()
            self._rundown_disconnect = None
        for disconnect in self._disconnects:
            disconnect()
        self._disconnects.clear()
