"""Registered source types: id, version, flags and a properties schema (as OBS registers its types)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Flag, auto
from typing import TYPE_CHECKING, Any

from scenes.properties import PropertySpec, validate_settings

if TYPE_CHECKING:
    from scenes.sources.base import Source


class SourceFlags(Flag):
    NONE = 0
    VIDEO = auto()
    AUDIO = auto()
    DEVICE = auto()  # talks to hardware (camera); may be absent
    INTERACTIVE = auto()  # fed by the interaction hub (danmaku, polls)


Migration = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class SourceType:
    id: str
    version: int
    name: str
    flags: SourceFlags
    properties: tuple[PropertySpec, ...]
    factory: Callable[[dict[str, Any]], Source]
    # migrations[v] upgrades settings saved by version v to version v + 1
    migrations: Mapping[int, Migration] = field(default_factory=dict)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.properties}

    def upgrade(self, saved_version: int, settings: dict[str, Any]) -> dict[str, Any]:
        if saved_version > self.version:
            raise ValueError(
                f"source type {self.id!r} version {saved_version} is newer than this studio's {self.version}"
            )
        for v in range(saved_version, self.version):
            step = self.migrations.get(v)
            if step is not None:
                settings = step(dict(settings))
        return settings

    def validate(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        return validate_settings(self.properties, settings)

    def create(self, settings: Mapping[str, Any]) -> Source:
        return self.factory(self.validate(settings))


_types: dict[str, SourceType] = {}


def register(source_type: SourceType) -> SourceType:
    if source_type.id in _types and _types[source_type.id] is not source_type:
        raise ValueError(f"source type {source_type.id!r} is registered twice")
    _types[source_type.id] = source_type
    return source_type


def get_type(type_id: str) -> SourceType:
    _ensure_builtin()
    try:
        return _types[type_id]
    except KeyError:
        raise ValueError(f"unknown source type {type_id!r}") from None


def all_types() -> list[SourceType]:
    _ensure_builtin()
    return sorted(_types.values(), key=lambda t: t.id)


def _ensure_builtin() -> None:
    # importing the package registers every built-in type
    import scenes.sources  # noqa: F401
