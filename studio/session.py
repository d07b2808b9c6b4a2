"""Opening the show: which collection to load (the demo by default) and starting its engine."""

from __future__ import annotations

from pathlib import Path

from scenes.model import SceneCollection
from scenes.text_raster import init_text_rendering
from studio.collections import load_collection


def open_collection(path: Path | None, scene: str | None = None) -> tuple[SceneCollection, Path]:
    """Load ``path`` (or the built-in demo, generated on first use) and put ``scene`` on program."""
    init_text_rendering()  # text sources rasterise with QtGui: app and fonts first, on the main thread
    if path is None:
        from studio.demo import ensure_demo
        from studio.demo_rundown import ensure_demo_rundown

        ensure_demo_rundown(progress=lambda msg: print(f"studio: {msg}"))  # the demo includes its rundown
        path = ensure_demo().collection
    collection = load_collection(path)
    if scene is not None:
        collection.scene(scene)  # raises ValueError naming the scene
        collection.program_scene = scene
    return collection, path
