"""Property schemas: how a source type describes its settings, so one generic editor edits any type."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class PropertyKind(StrEnum):
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    STRING = "string"
    TEXT = "text"  # multi-line string
    COLOR = "color"  # "#RRGGBB" or "#AARRGGBB"
    PATH = "path"  # a file on disk
    ENUM = "enum"


_COLOR = re.compile(r"^#([0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


@dataclass(frozen=True)
class PropertySpec:
    name: str
    kind: PropertyKind
    default: Any
    label: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    file_filter: str = ""  # for PATH, e.g. "Images (*.png *.jpg)"
    max_length: int = 2000
    choice_labels: tuple[str, ...] = ()  # for ENUM: what the editor shows for each choice (English)

    def coerce(self, value: Any) -> Any:
        """Return ``value`` as this property's type or raise ValueError naming the property."""
        name = self.label or self.name
        try:
            if self.kind is PropertyKind.BOOL:
                if not isinstance(value, bool):
                    raise TypeError
                return value
            if self.kind is PropertyKind.INT:
                if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
                    raise TypeError
                out: Any = int(value)
            elif self.kind is PropertyKind.FLOAT:
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise TypeError
                out = float(value)
            elif self.kind in (PropertyKind.STRING, PropertyKind.TEXT, PropertyKind.PATH):
                if not isinstance(value, str):
                    raise TypeError
                if len(value) > self.max_length:
                    raise ValueError(f"{name}: longer than {self.max_length} characters")
                return value
            elif self.kind is PropertyKind.COLOR:
                if not isinstance(value, str) or not _COLOR.match(value):
                    raise ValueError(f"{name}: expected a colour like #RRGGBB or #AARRGGBB, got {value!r}")
                return value.upper()
            elif self.kind is PropertyKind.ENUM:
                if value not in self.choices:
                    raise ValueError(f"{name}: {value!r} is not one of {', '.join(self.choices)}")
                return value
            else:  # pragma: no cover - exhaustive
                raise TypeError
        except TypeError:
            raise ValueError(
                f"{name}: expected {self.kind.value}, got {type(value).__name__} {value!r}"
            ) from None
        if self.minimum is not None and out < self.minimum:
            raise ValueError(f"{name}: {out} is below the minimum {self.minimum:g}")
        if self.maximum is not None and out > self.maximum:
            raise ValueError(f"{name}: {out} is above the maximum {self.maximum:g}")
        return out


def validate_settings(specs: tuple[PropertySpec, ...], settings: Mapping[str, Any]) -> dict[str, Any]:
    """Fill defaults, coerce every known key, keep unknown keys (newer files) untouched."""
    known = {s.name: s for s in specs}
    out: dict[str, Any] = {k: v for k, v in settings.items() if k not in known}
    for spec in specs:
        out[spec.name] = spec.coerce(settings[spec.name]) if spec.name in settings else spec.default
    return out


def parse_color(value: str) -> tuple[int, int, int, int]:
    """"#RRGGBB" / "#AARRGGBB" -> straight-alpha (b, g, r, a)."""
    if not _COLOR.match(value):
        raise ValueError(f"not a colour: {value!r}")
    h = value[1:]
    a = 255
    if len(h) == 8:
        a, h = int(h[:2], 16), h[2:]
    return int(h[4:6], 16), int(h[2:4], 16), int(h[0:2], 16), a
