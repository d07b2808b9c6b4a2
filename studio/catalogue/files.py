"""Which catalogue a show uses: the ``*catalogue*.json`` beside its scene collection (the demo's
is written with the demo), opened when the show starts, with old product cards migrated."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from scenes.model import SceneCollection
from studio.catalogue.cards import CardMigration, apply_catalogue, migrate_inline_cards
from studio.catalogue.model import Catalogue
from studio.catalogue.persistence import load_catalogue, save_catalogue
from studio.storage import DamagedFileError

log = logging.getLogger(__name__)


def catalogue_beside(collection_path: Path | None) -> Path | None:
    if collection_path is None:
        return None
    found = sorted(Path(collection_path).parent.glob("*catalogue*.json"))
    return found[0] if found else None


def catalogue_ids(collection_path: Path | None) -> list[str] | None:
    """The product ids of the catalogue beside a collection, for a check before the show opens
    it (None: no catalogue file, or a damaged one the show will report)."""
    path = catalogue_beside(collection_path)
    if path is None:
        return None
    try:
        return [p.id for p in load_catalogue(path).products]
    except (DamagedFileError, OSError):
        return None


@dataclass
class ShowCatalogue:
    catalogue: Catalogue
    path: Path | None  # where it is saved (None: in memory only)
    migrated: list[CardMigration] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def open_show_catalogue(collection: SceneCollection, collection_path: Path | None) -> ShowCatalogue:
    """The show's catalogue with every product card bound to it. A damaged file is reported in
    ``problems`` and left as it is (never overwritten); the show then runs on the cards' own data."""
    path = catalogue_beside(collection_path)
    problems: list[str] = []
    catalogue = Catalogue()
    damaged = False
    if path is not None:
        try:
            catalogue = load_catalogue(path)
        except DamagedFileError as exc:
            problems.append(str(exc))
            damaged = True
    migrated = migrate_inline_cards(collection, catalogue)
    problems += apply_catalogue(collection, catalogue)
    if any(m.created for m in migrated) and collection_path is not None and not damaged:
        # the cards now name products: keep those products, or the next show could not find them
        path = path or Path(collection_path).with_name(f"{Path(collection_path).stem}-catalogue.json")
        try:
            save_catalogue(catalogue, path)
        except OSError as exc:
            problems.append(f"{path}: the catalogue could not be saved ({exc.strerror or exc})")
    for problem in problems:
        log.warning("catalogue: %s", problem)
    return ShowCatalogue(catalogue, None if damaged else path, migrated, problems)
