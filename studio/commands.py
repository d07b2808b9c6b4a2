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


# ---- scene edits: undoable (studio.undo records each one's inverse when it is applied) --------


@dataclass(frozen=True)
class ItemCopy:
    """A scene item as data: its source, id and fields (``SceneItem.state()``)."""

    source: str
    item_id: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AddScene:
    """Add a scene (empty, or with ``items`` bottom first) at ``index`` (None = last).
    ``preview``: also make it the preview scene (undoing the removal of the preview scene)."""

    name: str
    index: int | None = None
    items: tuple[ItemCopy, ...] = ()
    preview: bool = False


@dataclass(frozen=True)
class RemoveScene:
    name: str


@dataclass(frozen=True)
class RenameScene:
    old: str
    new: str


@dataclass(frozen=True)
class MoveScene:
    name: str
    index: int


@dataclass(frozen=True)
class DuplicateScene:
    """Copy a scene (items get new ids) right after it; ``new_name`` None = "<name> 2", "<name> 3"..."""

    name: str
    new_name: str | None = None


@dataclass(frozen=True)
class AddSource:
    """A new source; ``index`` is its place among the collection's sources (None = last)."""

    name: str
    type_id: str
    settings: dict[str, Any] = field(default_factory=dict)
    filters: tuple[FilterConfig, ...] = ()
    index: int | None = None


@dataclass(frozen=True)
class RemoveSource:
    """Remove a source and every item that shows it."""

    name: str


@dataclass(frozen=True)
class AddItem:
    """Put ``source`` in ``scene`` at ``index`` (None = on top); ``item_id`` None = a fresh id."""

    scene: str
    source: str
    item_id: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    index: int | None = None


@dataclass(frozen=True)
class RemoveItem:
    scene: str
    item_id: str


@dataclass(frozen=True)
class MoveItem:
    """Move an item to ``index`` in its scene's stack (0 = bottom)."""

    scene: str
    item_id: str
    index: int


@dataclass(frozen=True)
class EditBatch:
    """Several edits applied together as one undo step (all or nothing). Consecutive batches with
    the same ``gesture`` (a drag, a held arrow key) merge into one step. ``record=False`` applies
    them without an undo step."""

    commands: tuple[EditCommand, ...]
    gesture: str | None = None
    label: str = ""
    record: bool = True  # False: the show's own automation (not the director's step to undo)


@dataclass(frozen=True)
class Undo:
    pass


@dataclass(frozen=True)
class Redo:
    pass


EditCommand = (
    UpdateItem | UpdateSource | SetSourceFilters | AddScene | RemoveScene | RenameScene | MoveScene
    | DuplicateScene | AddSource | RemoveSource | AddItem | RemoveItem | MoveItem | EditBatch
)
EDIT_COMMANDS = (
    UpdateItem, UpdateSource, SetSourceFilters, AddScene, RemoveScene, RenameScene, MoveScene,
    DuplicateScene, AddSource, RemoveSource, AddItem, RemoveItem, MoveItem, EditBatch,
)


Command = (
    SetProgramScene | SetPreviewScene | SetStudioMode | SetTransition | Transition
    | SetTransitionPosition | UpdateItem | UpdateSource | SetSourceFilters | MediaControl
    | EditCommand | Undo | Redo
)
