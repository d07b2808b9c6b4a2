"""A solid colour rectangle."""

from __future__ import annotations

from typing import Any

from scenes.frame import VideoFrame, solid
from scenes.properties import PropertyKind, PropertySpec, parse_color
from scenes.registry import SourceFlags, SourceType, register
from scenes.sources.base import Source


class ColorSource(Source):
    type_id = "color"

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__(settings)
        self._frame = self._render()

    def update(self, settings: dict[str, Any]) -> None:
        super().update(settings)
        self._frame = self._render()

    def _render(self) -> VideoFrame:
        s = self.settings
        color = parse_color(s["color"])
        return VideoFrame(solid(s["width"], s["height"], color), opaque=color[3] == 255)

    def frame(self) -> VideoFrame:
        return self._frame

    @property
    def size(self) -> tuple[int, int]:
        return self.settings["width"], self.settings["height"]


COLOR = register(
    SourceType(
        id="color",
        version=1,
        name="Color",
        flags=SourceFlags.VIDEO,
        properties=(
            PropertySpec("color", PropertyKind.COLOR, "#FF202020", "Colour"),
            PropertySpec("width", PropertyKind.INT, 1920, "Width", 1, 8192),
            PropertySpec("height", PropertyKind.INT, 1080, "Height", 1, 8192),
        ),
        factory=ColorSource,
    )
)
