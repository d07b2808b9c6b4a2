"""Opening the show: which collection to load (the demo by default) and starting its engine."""

from __future__ import annotations

from pathlib import Path

from scenes.model import SceneCollection
from scenes.text_raster import init_text_rendering
from studio.collections import open_backup, open_collection_file
from studio.library.store import link_on_load


def open_collection(path: Path | None, scene: str | None = None) -> tuple[SceneCollection, Path]:
    """Load ``path`` (or the built-in demo, generated on first use) and put ``scene`` on program.
    The file that loads becomes its ``.bak`` (the last known-good copy); a damaged one raises
    ``DamagedFileError`` naming any backup (see ``open_collection_backup``)."""
    init_text_rendering()  # text sources rasterise with QtGui: app and fonts first, on the main thread
    if path is None:
        from studio.demo import ensure_demo
        from studio.demo_rundown import ensure_demo_rundown

        ensure_demo_rundown(progress=lambda msg: print(f"studio: {msg}"))  # the demo includes its rundown
        path = ensure_demo().collection
    collection = open_collection_file(path)
    link_on_load(collection)  # media sources by library id: a relinked clip plays from where it is now
    return _on_program(collection, scene), path


def open_collection_backup(path: Path, scene: str | None = None) -> tuple[SceneCollection, Path, Path]:
    """Open the backup of a damaged ``path`` in its place; returns the collection, ``path`` and
    where the damaged file was set aside (kept, never overwritten)."""
    init_text_rendering()
    collection, aside = open_backup(path)
    return _on_program(collection, scene), Path(path), aside


def _on_program(collection: SceneCollection, scene: str | None) -> SceneCollection:
    if scene is not None:
        collection.scene(scene)  # raises ValueError naming the scene
        collection.program_scene = scene
    return collection
