"""The smallest show the end-to-end tests stream: one 1280x720 moving test pattern (the engine's own
source, so frames differ and the encoder really works)."""

from __future__ import annotations

from scenes.model import SceneCollection, SceneItem, VideoFormat


def pattern_collection(name: str = "live", scene: str = "Show") -> SceneCollection:
    col = SceneCollection(name, VideoFormat(1280, 720, 30))
    col.add_source("pattern", "test_pattern", {"width": 1280, "height": 720})
    col.add_scene(scene).add_item(SceneItem("pattern"))
    return col
