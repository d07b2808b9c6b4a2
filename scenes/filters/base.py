"""What a video filter is: a registered type (id, version, schema) and a per-source instance.

A filter takes a premultiplied BGRA ``VideoFrame`` and returns one. Filters run on the
video-clock thread once per *new* source frame (``scenes.filters.chain`` caches by serial), so a
filter may allocate its output but must never block.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from scenes.frame import VideoFrame
from scenes.properties import PropertySpec, validate_settings

Migration = Callable[[dict[str, Any]], dict[str, Any]]


class VideoFilter(ABC):
    """One filter on one source, built from validated settings (rebuilt when they change)."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = dict(settings)

    @abstractmethod
    def apply(self, frame: VideoFrame) -> VideoFrame:
        """The filtered picture (premultiplied BGRA). May return ``frame`` itself when a no-op."""


@dataclass(frozen=True)
class FilterType:
    id: str
    version: int
    name: str
    properties: tuple[PropertySpec, ...]
    factory: Callable[[Mapping[str, Any]], VideoFilter]
    # check(settings) -> raises ValueError for what the schema alone cannot say (a broken .cube)
    check: Callable[[Mapping[str, Any]], None] | None = None
    migrations: Mapping[int, Migration] = field(default_factory=dict)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.properties}

    def validate(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        return validate_settings(self.properties, settings)

    def upgrade(self, saved_version: int, settings: dict[str, Any]) -> dict[str, Any]:
        if saved_version > self.version:
            raise ValueError(f"filter type {self.id!r} version {saved_version} is newer than this studio's "
                             f"{self.version}")
        for v in range(saved_version, self.version):
            step = self.migrations.get(v)
            if step is not None:
                settings = step(dict(settings))
        return settings


@dataclass(frozen=True, eq=True)
class FilterConfig:
    """A filter placed on a source: its type, validated settings, and whether it is on.

    Immutable: an edit replaces the source's whole filter tuple, so the clock compares tuples to
    know when to rebuild a chain."""

    type_id: str
    settings: Mapping[str, Any] = field(default_factory=dict, hash=False)
    enabled: bool = True

    def with_settings(self, **changes: Any) -> FilterConfig:
        return FilterConfig(self.type_id, {**self.settings, **changes}, self.enabled)
