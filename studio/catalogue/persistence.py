"""Catalogues on disk: JSON with a schema_version, atomic write with a .bak, clear errors
(like rundowns and scene collections: studio/storage.py). Image paths inside the catalogue's
folder are stored relative to it, so a show folder moves as a whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.catalogue.model import Catalogue, FaqEntry, Product
from studio.storage import (
    DamagedFileError,
    backup_path,
    keep_known_good,
    path_for_file,
    path_from_file,
    read_json_bytes,
    write_json_atomic,
)

SCHEMA_VERSION = 1
KIND = "drama-live-studio/catalogue"


def product_to_dict(p: Product, base: Path | None = None) -> dict[str, Any]:
    return {
        "id": p.id, "name": p.name, "price": p.price, "original_price": p.original_price,
        "image": path_for_file(p.image, base), "stock": p.stock, "link": p.link,
        "selling_points": list(p.selling_points),
        "faq": [{"id": e.id, "question": e.question, "answer": e.answer} for e in p.faq],
    }


def catalogue_to_dict(catalogue: Catalogue, base: Path | None = None) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "kind": KIND, "name": catalogue.name,
            "products": [product_to_dict(p, base) for p in catalogue.products]}


def product_from_dict(data: Any, where: str, base: Path | None = None) -> Product:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
    faq_data = data.get("faq", [])
    points = data.get("selling_points", [])
    if not isinstance(faq_data, list) or not isinstance(points, list):
        raise ValueError(f"{where}: faq and selling_points must be lists")
    try:
        faq = []
        for i, e in enumerate(faq_data):
            if not isinstance(e, dict):
                raise ValueError(f"FAQ entry {i + 1}: expected an object")
            faq.append(FaqEntry(e.get("id", f"faq-{i + 1}"), e.get("question", ""), e.get("answer", "")))
        if "id" not in data or "name" not in data:
            raise ValueError("missing field 'id' or 'name'")
        return Product(data["id"], data["name"], data.get("price", 0.0), data.get("original_price", 0.0),
                       path_from_file(data.get("image", ""), base), data.get("stock", 0), data.get("link", ""),
                       tuple(points), tuple(faq))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def catalogue_from_dict(data: Any, base: Path | None = None) -> Catalogue:
    if not isinstance(data, dict):
        raise ValueError("catalogue: expected an object")
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError("catalogue: missing or bad schema_version")
    if version > SCHEMA_VERSION:
        raise ValueError(f"schema_version {version} is newer than this studio understands ({SCHEMA_VERSION})")
    if data.get("kind", KIND) != KIND:
        raise ValueError(f"this is not a product catalogue (kind {data.get('kind')!r})")
    products = data.get("products", [])
    if not isinstance(products, list):
        raise ValueError("catalogue: products must be a list")
    name = data.get("name", "Catalogue")
    catalogue = Catalogue(name if isinstance(name, str) and name.strip() else "Catalogue")
    catalogue.set_products(product_from_dict(p, f"product {i + 1}", base) for i, p in enumerate(products))
    return catalogue


def _validate(data: Any) -> object:
    return catalogue_from_dict(data)


def save_catalogue(catalogue: Catalogue, path: Path) -> None:
    path = Path(path)
    write_json_atomic(path, catalogue_to_dict(catalogue, path.parent), validate=_validate)


def load_catalogue(path: Path) -> Catalogue:
    """Load a catalogue or raise DamagedFileError naming the file, the problem and any backup."""
    path = Path(path)
    data, raw = read_json_bytes(path)
    try:
        catalogue = catalogue_from_dict(data, path.parent)
    except ValueError as exc:
        bak = backup_path(path)
        raise DamagedFileError(path, str(exc), bak if bak.exists() else None) from None
    keep_known_good(path, raw)
    return catalogue
