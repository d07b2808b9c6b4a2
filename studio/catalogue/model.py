"""Products and the catalogue that holds them.

A ``Product`` is an immutable, validated value (replace it to change it); the ``Catalogue`` owns
the ordered products, validates every change and emits ``changed``. Every text a viewer could see
(name, selling points, FAQ questions and answers) goes through the advertising-law checker:
``Catalogue.warnings()`` lists the hits per product, they never block an edit (the host decides).
"""

from __future__ import annotations

import dataclasses
import math
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from scenes.events import Signal
from studio.interaction.compliance import ComplianceChecker, ComplianceWarning, default_checker

MAX_ID = 64
MAX_NAME = 200
MAX_PATH = 1000
MAX_LINK = 2000
MAX_POINT = 200
MAX_POINTS = 20
MAX_QUESTION = 200
MAX_ANSWER = 200  # an answer is announced to viewers: the hub's announcement limit
MAX_FAQ = 100
MAX_PRICE = 1e9
MAX_STOCK = 10**9
_ID_RE = re.compile(r"^[A-Za-z0-9_\-.]+$")


def check_id(what: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what}: must be non-empty text")
    value = value.strip()
    if len(value) > MAX_ID or not _ID_RE.match(value):
        raise ValueError(f"{what}: {value[:20]!r} must be up to {MAX_ID} letters, digits, '-', '_' or '.'")
    return value


def check_text(what: str, value: Any, limit: int, *, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what}: expected text, got {type(value).__name__}")
    value = value.strip()
    if not value and not empty:
        raise ValueError(f"{what}: must not be empty")
    if len(value) > limit:
        raise ValueError(f"{what}: {value[:20]!r}... is longer than {limit} characters")
    return value


def check_price(what: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what}: expected a number, got {value!r}")
    if not 0 <= value <= MAX_PRICE:
        raise ValueError(f"{what}: {value:g} is outside 0-{MAX_PRICE:g}")
    return round(float(value), 2)


def check_link(what: str, value: Any) -> str:
    value = check_text(what, value, MAX_LINK, empty=True)
    if value and not re.match(r"^https?://\S+$", value, re.IGNORECASE):
        raise ValueError(f"{what}: {value[:40]!r} must be an http(s):// address without spaces")
    return value


@dataclass(frozen=True)
class FaqEntry:
    """One question a viewer may ask and the answer the host announces. ``id`` names the topic
    (e.g. ``price``, ``sample``), unique within a product."""

    id: str
    question: str
    answer: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", check_id("FAQ id", self.id))
        object.__setattr__(self, "question", check_text(f"FAQ {self.id} question", self.question, MAX_QUESTION))
        object.__setattr__(self, "answer", check_text(f"FAQ {self.id} answer", self.answer, MAX_ANSWER))


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    price: float
    original_price: float = 0.0  # 0: none (no struck-through price on the card)
    image: str = ""
    stock: int = 0
    link: str = ""
    selling_points: tuple[str, ...] = ()
    faq: tuple[FaqEntry, ...] = ()

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "id", check_id("product id", self.id))
        where = f"product {self.id}"
        set_(self, "name", check_text(f"{where} name", self.name, MAX_NAME))
        set_(self, "price", check_price(f"{where} price", self.price))
        set_(self, "original_price", check_price(f"{where} original price", self.original_price))
        set_(self, "image", check_text(f"{where} image", self.image, MAX_PATH, empty=True))
        stock = self.stock
        if isinstance(stock, bool) or not isinstance(stock, int) or not 0 <= stock <= MAX_STOCK:
            raise ValueError(f"{where} stock: expected a whole number 0-{MAX_STOCK}, got {stock!r}")
        set_(self, "link", check_link(f"{where} link", self.link))
        if isinstance(self.selling_points, str):
            raise ValueError(f"{where} selling points: expected a list of texts, got one text")
        points = tuple(check_text(f"{where} selling point {i + 1}", p, MAX_POINT)
                       for i, p in enumerate(self.selling_points))
        if len(points) > MAX_POINTS:
            raise ValueError(f"{where} selling points: at most {MAX_POINTS}, got {len(points)}")
        set_(self, "selling_points", points)
        faq = tuple(self.faq)
        if not all(isinstance(e, FaqEntry) for e in faq):
            raise ValueError(f"{where} FAQ: expected FAQ entries")
        if len(faq) > MAX_FAQ:
            raise ValueError(f"{where} FAQ: at most {MAX_FAQ} entries, got {len(faq)}")
        ids = [e.id for e in faq]
        dup = next((i for i in ids if ids.count(i) > 1), None)
        if dup is not None:
            raise ValueError(f"{where} FAQ: the id {dup!r} is used twice")
        set_(self, "faq", faq)

    def replace(self, **changes: Any) -> Product:
        """A copy with ``changes`` (validated like a new product)."""
        return dataclasses.replace(self, **changes)

    def faq_entry(self, faq_id: str) -> FaqEntry | None:
        return next((e for e in self.faq if e.id == faq_id), None)

    def texts(self) -> list[tuple[str, str]]:
        """(field, text) for every text viewers may see: what the advertising-law check reads."""
        out = [("name", self.name)]
        out += [(f"selling point {i + 1}", p) for i, p in enumerate(self.selling_points)]
        for e in self.faq:
            out += [(f"FAQ {e.id} question", e.question), (f"FAQ {e.id} answer", e.answer)]
        return out


@dataclass(frozen=True)
class TextWarning:
    product: str
    field: str
    text: str
    warning: ComplianceWarning

    def describe(self) -> str:
        return f"{self.product} · {self.field}: {self.warning.describe(self.text)}"


@dataclass(frozen=True)
class CatalogueChanged:
    kind: str  # added | replaced | removed | reset
    product: str = ""  # the product id ("" for reset)


@dataclass(eq=False)  # a live model: two catalogues are the same only if they are one object
class Catalogue:
    """The ordered products of a show; thread-safe; ``changed`` fires after each edit."""

    name: str = "Catalogue"
    checker: ComplianceChecker = field(default_factory=default_checker, repr=False)

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self._products: dict[str, Product] = {}
        self.changed: Signal[CatalogueChanged] = Signal()

    # ---- reading ----

    @property
    def products(self) -> tuple[Product, ...]:
        with self.lock:
            return tuple(self._products.values())

    def ids(self) -> tuple[str, ...]:
        with self.lock:
            return tuple(self._products)

    def get(self, product_id: str) -> Product | None:
        with self.lock:
            return self._products.get(product_id)

    def product(self, product_id: str) -> Product:
        found = self.get(product_id)
        if found is None:
            raise ValueError(f"no product with id {product_id!r} in the catalogue")
        return found

    def __len__(self) -> int:
        with self.lock:
            return len(self._products)

    def find_by_name(self, name: str) -> Product | None:
        name = name.strip()
        return next((p for p in self.products if p.name == name), None)

    def new_id(self, base: str = "product") -> str:
        """An id not used yet: ``base``, ``base-2``, ..."""
        base = re.sub(r"[^A-Za-z0-9_\-.]+", "-", base).strip("-")[:MAX_ID - 6] or "product"
        with self.lock:
            if base not in self._products:
                return base
            n = 2
            while f"{base}-{n}" in self._products:
                n += 1
            return f"{base}-{n}"

    # ---- editing ----

    def add(self, product: Product) -> Product:
        if not isinstance(product, Product):
            raise ValueError(f"expected a Product, got {type(product).__name__}")
        with self.lock:
            if product.id in self._products:
                raise ValueError(f"a product with id {product.id!r} is already in the catalogue")
            self._products[product.id] = product
        self.changed.emit(CatalogueChanged("added", product.id))
        return product

    def replace(self, product: Product) -> Product:
        """Put ``product`` in place of the one with its id (which must exist)."""
        with self.lock:
            if product.id not in self._products:
                raise ValueError(f"no product with id {product.id!r} in the catalogue")
            self._products[product.id] = product
        self.changed.emit(CatalogueChanged("replaced", product.id))
        return product

    def update(self, product_id: str, **changes: Any) -> Product:
        """Change fields of one product (validated; the id itself cannot change)."""
        if "id" in changes:
            raise ValueError("a product's id cannot change (cards and rundowns refer to it)")
        return self.replace(self.product(product_id).replace(**changes))

    def remove(self, product_id: str) -> None:
        with self.lock:
            if self._products.pop(product_id, None) is None:
                raise ValueError(f"no product with id {product_id!r} in the catalogue")
        self.changed.emit(CatalogueChanged("removed", product_id))

    def set_products(self, products: Iterable[Product]) -> None:
        """Replace everything at once (load, CSV import); ids must be unique."""
        table: dict[str, Product] = {}
        for p in products:
            if p.id in table:
                raise ValueError(f"product id {p.id!r} is used twice")
            table[p.id] = p
        with self.lock:
            self._products = table
        self.changed.emit(CatalogueChanged("reset"))

    # ---- advertising law ----

    def warnings(self, product_id: str | None = None) -> list[TextWarning]:
        """Extreme-word hits in the texts of one product, or of all products in order."""
        products = [self.product(product_id)] if product_id is not None else list(self.products)
        return [TextWarning(p.id, name, text, w)
                for p in products for name, text in p.texts() for w in self.checker.check(text)]
