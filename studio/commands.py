"""The typed command API: widgets and services ask the engine to do things with these.

A command is a frozen dataclass queued with ``Studio.submit`` and applied on the video-clock thread
at the start of the next tick, so the picture never shows a half-applied change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from scenes.filters.base import FilterConfig
from scenes.transitions import TransitionSpec


@dataclass(frozen=True)
class SetProgramScene:
    """Cut the program straight to a scene (no transition)."""

    scene: str


@dataclass(frozen=True)
class SetPreviewScene:
    scene: str


@dataclass(frozen=True)
class SetStudioMode:
    enabled: bool


@dataclass(frozen=True)
class SetTransition:
    """Choose the default transition used by ``Transition`` and hotkeys."""

    spec: TransitionSpec


@dataclass(frozen=True)
class Transition:
    """Studio mode: preview -> program. Otherwise ``scene`` -> program. ``spec`` overrides the default."""

    scene: str | None = None
    spec: TransitionSpec | None = None


@dataclass(frozen=True)
class SetTransitionPosition:
    """The T-bar: 0 = program only, 1 = transition complete (preview becomes program)."""

    position: float


@dataclass(frozen=True)
class UpdateItem:
    scene: str
    item_id: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UpdateSource:
    name: str
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SetSourceFilters:
    """Replace a source's video filters (the whole ordered list: add, remove, reorder, edit)."""

    name: str
    filters: tuple[FilterConfig, ...] = ()


@dataclass(frozen=True)
class MediaControl:
    source: str
    action: Literal["play", "pause", "restart", "seek"]
    seconds: float = 0.0


Command = (
    SetProgramScene | SetPreviewScene | SetStudioMode | SetTransition | Transition
    | SetTransitionPosition | UpdateItem | UpdateSource | SetSourceFilters | MediaControl
)
