"""Text: a caption, title or lower third, Chinese included (rasterised once per settings change)."""

from __future__ import annotations

from typing import Any

import numpy as np

from scenes.frame import VideoFrame
from scenes.properties import PropertyKind, PropertySpec
from scenes.registry import SourceFlags, SourceType, register
from scenes.sources.base import Source
from scenes.text_raster import ALIGNMENTS, TextStyle, render_text


def style_from_settings(s: dict[str, Any]) -> TextStyle:
    shadow = int(s["shadow_offset"])
    return TextStyle(
        family=s["font_family"],
        size_px=int(s["font_size"]),
        bold=bool(s["bold"]),
        color=s["color"],
        outline_width=float(s["outline_width"]),
        outline_color=s["outline_color"],
        shadow_offset=(shadow, shadow),
        shadow_color=s["shadow_color"],
        background=s["background"],
        padding=int(s["padding"]),
        corner_radius=float(s["corner_radius"]),
        align=s["align"],
        line_spacing=float(s["line_spacing"]),
        wrap_width=int(s["wrap_width"]),
    )


class TextSource(Source):
    type_id = "text"

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__(settings)
        self._frame = self._render()

    def update(self, settings: dict[str, Any]) -> None:
        super().update(settings)
        self._frame = self._render()

    def _render(self) -> VideoFrame:
        self.error = None
        try:
            return render_text(style_from_settings(self.settings), self.settings["text"])
        except ValueError as exc:  # a bad combination of settings: show nothing, say why
            self.error = f"text: {exc}"
            return VideoFrame(np.zeros((1, 1, 4), np.uint8))

    def frame(self) -> VideoFrame:
        return self._frame

    @property
    def size(self) -> tuple[int, int]:
        return self._frame.width, self._frame.height


TEXT = register(
    SourceType(
        id="text",
        version=1,
        name="Text",
        flags=SourceFlags.VIDEO,
        properties=(
            PropertySpec("text", PropertyKind.TEXT, "文字 Text", "Text"),
            PropertySpec(
                "font_family", PropertyKind.STRING, "", "Font (empty = default CJK font)", max_length=200
            ),
            PropertySpec("font_size", PropertyKind.INT, 64, "Font size (px)", 4, 512),
            PropertySpec("bold", PropertyKind.BOOL, False, "Bold"),
            PropertySpec("color", PropertyKind.COLOR, "#FFFFFFFF", "Colour"),
            PropertySpec("outline_width", PropertyKind.INT, 0, "Outline width (px)", 0, 32),
            PropertySpec("outline_color", PropertyKind.COLOR, "#FF000000", "Outline colour"),
            PropertySpec("shadow_offset", PropertyKind.INT, 0, "Shadow offset (px, 0 = none)", 0, 64),
            PropertySpec("shadow_color", PropertyKind.COLOR, "#A0000000", "Shadow colour"),
            PropertySpec("background", PropertyKind.COLOR, "#00000000", "Background colour"),
            PropertySpec("padding", PropertyKind.INT, 0, "Background padding (px)", 0, 512),
            PropertySpec("corner_radius", PropertyKind.INT, 0, "Background corner radius (px)", 0, 512),
            PropertySpec("wrap_width", PropertyKind.INT, 0, "Wrap width (px, 0 = none)", 0, 8192),
            PropertySpec("align", PropertyKind.ENUM, "left", "Alignment", choices=ALIGNMENTS),
            PropertySpec("line_spacing", PropertyKind.FLOAT, 1.0, "Line spacing", 0.5, 4.0),
        ),
        factory=TextSource,
    )
)
