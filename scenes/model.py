"""Scene collection model: sources, scenes and their items. Setters validate and emit events."""

from __future__ import annotations

import math
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from scenes.events import Signal
from scenes.filters.base import FilterConfig
from scenes.filters.registry import validate_filters
from scenes.registry import get_type

T = TypeVar("T")

CANVAS_SIZES = ((1280, 720), (1920, 1080), (2560, 1440), (3840, 2160))
FRAME_RATES = (24, 25, 30, 50, 60)


@dataclass(frozen=True)
class VideoFormat:
    width: int = 1920
    height: int = 1080
    fps: int = 30

    def __post_init__(self) -> None:
        if (self.width, self.height) not in CANVAS_SIZES:
            sizes = ", ".join(f"{w}x{h}" for w, h in CANVAS_SIZES)
            raise ValueError(f"canvas {self.width}x{self.height} is not supported (use {sizes})")
        if self.fps not in FRAME_RATES:
            raise ValueError(f"{self.fps} fps is not supported (use {FRAME_RATES})")

    @property
    def frame_ns(self) -> int:
        return 1_000_000_000 // self.fps


# ---- events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemChanged:
    scene: str
    item_id: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class SceneItemsChanged:
    """Items were added, removed or reordered in a scene."""

    scene: str


@dataclass(frozen=True)
class ScenesChanged:
    """Scenes were added, removed, renamed or reordered."""


@dataclass(frozen=True)
class SourceChanged:
    name: str
    removed: bool = False


ModelEvent = ItemChanged | SceneItemsChanged | ScenesChanged | SourceChanged


# ---- validated fields -----------------------------------------------------------------------


class _Field(Generic[T]):
    """A validated attribute that emits ItemChanged when its value really changes."""

    def __init__(self, check: Callable[[str, Any], T]) -> None:
        self._check = check
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> T:
        return obj._values[self.name]  # type: ignore[no-any-return]

    def __set__(self, obj: Any, value: Any) -> None:
        value = self._check(self.name, value)
        if obj._values.get(self.name) != value:
            obj._values[self.name] = value
            obj._changed((self.name,))


def _finite(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    return float(value)


def _scale(name: str, value: Any) -> float:
    v = _finite(name, value)
    if not 0.001 <= abs(v) <= 100:
        raise ValueError(f"{name}: {v} is outside 0.001..100")
    return v


def _opacity(name: str, value: Any) -> float:
    v = _finite(name, value)
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{name}: {v} is outside 0..1")
    return v


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name}: expected true or false, got {value!r}")
    return value


def _crop(name: str, value: Any) -> tuple[int, int, int, int]:
    try:
        parts = tuple(value)
    except TypeError:
        raise ValueError(f"{name}: expected (left, top, right, bottom)") from None
    if len(parts) != 4 or any(isinstance(p, bool) or not isinstance(p, int) or p < 0 for p in parts):
        raise ValueError(f"{name}: expected four whole numbers >= 0 (left, top, right, bottom), got {value!r}")
    return parts  # type: ignore[return-value]


def _rotation(name: str, value: Any) -> float:
    return _finite(name, value) % 360.0


def _group(name: str, value: Any) -> str:
    # "" = not grouped; a group is the set of a scene's items that carry the same name
    if not isinstance(value, str) or len(value) > 200:
        raise ValueError(f"{name}: expected a group name (text up to 200 characters), got {value!r}")
    return value.strip()


class SceneItem:
    """One placement of a source in a scene. Position is the top-left corner in canvas pixels
    before rotation; rotation turns the item about its centre."""

    x = _Field(_finite)
    y = _Field(_finite)
    scale_x = _Field(_scale)
    scale_y = _Field(_scale)
    rotation = _Field(_rotation)
    crop = _Field(_crop)
    opacity = _Field(_opacity)
    visible = _Field(_flag)
    locked = _Field(_flag)
    group = _Field(_group)

    FIELDS = ("x", "y", "scale_x", "scale_y", "rotation", "crop", "opacity", "visible", "locked", "group")

    def __init__(self, source: str, item_id: str | None = None, **fields: Any) -> None:
        if not isinstance(source, str) or not source:
            raise ValueError("a scene item needs the name of its source")
        self.source = source
        self.id = item_id or uuid.uuid4().hex[:12]
        self._values: dict[str, Any] = {}
        self._notify: Callable[[SceneItem, tuple[str, ...]], None] | None = None
        defaults: dict[str, Any] = dict(
            x=0.0, y=0.0, scale_x=1.0, scale_y=1.0, rotation=0.0, crop=(0, 0, 0, 0),
            opacity=1.0, visible=True, locked=False, group="",
        )
        unknown = set(fields) - set(defaults)
        if unknown:
            raise ValueError(f"unknown scene item fields: {', '.join(sorted(unknown))}")
        defaults.update(fields)
        for key, value in defaults.items():
            setattr(self, key, value)

    def update(self, **fields: Any) -> None:
        """Set several fields at once: all are validated before any changes; one event."""
        unknown = set(fields) - set(self.FIELDS)
        if unknown:
            raise ValueError(f"unknown scene item fields: {', '.join(sorted(unknown))}")
        checked = {k: type(self).__dict__[k]._check(k, v) for k, v in fields.items()}
        changed = tuple(k for k, v in checked.items() if self._values.get(k) != v)
        if not changed:
            return
        self._values.update(checked)
        self._changed(changed)

    def _changed(self, fields: tuple[str, ...]) -> None:
        if self._notify is not None:
            self._notify(self, fields)

    def state(self) -> dict[str, Any]:
        return dict(self._values)

    def __repr__(self) -> str:
        return f"SceneItem({self.source!r}, id={self.id!r})"


class Scene:
    """An ordered stack of items; index 0 is the bottom (drawn first)."""

    def __init__(self, name: str, items: list[SceneItem] | None = None) -> None:
        self._name = _check_name("scene", name)
        self._items: list[SceneItem] = []
        self._collection: SceneCollection | None = None
        for item in items or []:
            self.add_item(item)

    @property
    def name(self) -> str:
        return self._name

    @property
    def items(self) -> tuple[SceneItem, ...]:
        return tuple(self._items)

    def item(self, item_id: str) -> SceneItem:
        for it in self._items:
            if it.id == item_id:
                return it
        raise ValueError(f"scene {self._name!r} has no item {item_id!r}")

    def add_item(self, item: SceneItem, index: int | None = None) -> SceneItem:
        if any(it.id == item.id for it in self._items):
            raise ValueError(f"scene {self._name!r} already has an item {item.id!r}")
        if self._collection is not None and item.source not in self._collection.sources:
            raise ValueError(f"no source named {item.source!r}")
        item._notify = self._item_changed
        self._items.insert(len(self._items) if index is None else index, item)
        self._emit(SceneItemsChanged(self._name))
        return item

    def remove_item(self, item_id: str) -> None:
        item = self.item(item_id)
        item._notify = None
        self._items.remove(item)
        self._emit(SceneItemsChanged(self._name))

    def move_item(self, item_id: str, index: int) -> None:
        item = self.item(item_id)
        if not 0 <= index < len(self._items):
            raise ValueError(f"position {index} is outside 0..{len(self._items) - 1}")
        self._items.remove(item)
        self._items.insert(index, item)
        self._emit(SceneItemsChanged(self._name))

    def _item_changed(self, item: SceneItem, fields: tuple[str, ...]) -> None:
        self._emit(ItemChanged(self._name, item.id, fields))

    def _emit(self, event: ModelEvent) -> None:
        if self._collection is not None:
            self._collection.changed.emit(event)


@dataclass
class SourceConfig:
    """A named source: its type, validated settings and video filters (applied in order).
    Scenes refer to it by name (shared)."""

    name: str
    type_id: str
    settings: dict[str, Any]
    filters: tuple[FilterConfig, ...] = ()


def _check_name(what: str, name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a {what} needs a non-empty name")
    if len(name) > 200:
        raise ValueError(f"{what} name is longer than 200 characters")
    return name.strip()


class SceneCollection:
    """Everything a show needs: the canvas format, named sources and scenes.

    ``lock`` guards structural changes; the clock takes it for the short snapshot at the start
    of a tick, editors take it while they change things.
    """

    def __init__(self, name: str = "Untitled", video: VideoFormat | None = None) -> None:
        self.name = _check_name("collection", name)
        self.video = video or VideoFormat()
        self.sources: dict[str, SourceConfig] = {}
        self._scenes: list[Scene] = []
        self.program_scene: str | None = None
        self.preview_scene: str | None = None
        self.changed: Signal[ModelEvent] = Signal()
        self.lock = threading.RLock()

    # -- sources --
    def add_source(self, name: str, type_id: str, settings: dict[str, Any] | None = None) -> SourceConfig:
        name = _check_name("source", name)
        if name in self.sources:
            raise ValueError(f"a source named {name!r} already exists")
        cfg = SourceConfig(name, type_id, get_type(type_id).validate(settings or {}))
        self.sources[name] = cfg
        self.changed.emit(SourceChanged(name))
        return cfg

    def update_source(self, name: str, settings: dict[str, Any]) -> None:
        cfg = self.source(name)
        merged = {**cfg.settings, **settings}
        cfg.settings = get_type(cfg.type_id).validate(merged)
        self.changed.emit(SourceChanged(name))

    def set_filters(self, name: str, filters: Any) -> None:
        """Replace the source's filter list (validated as a whole: nothing changes on an error)."""
        cfg = self.source(name)
        checked = validate_filters(filters)
        if checked != cfg.filters:
            cfg.filters = checked
            self.changed.emit(SourceChanged(name))

    def remove_source(self, name: str) -> None:
        self.source(name)
        for scene in self._scenes:
            for item in list(scene.items):
                if item.source == name:
                    scene.remove_item(item.id)
        del self.sources[name]
        self.changed.emit(SourceChanged(name, removed=True))

    def source(self, name: str) -> SourceConfig:
        try:
            return self.sources[name]
        except KeyError:
            raise ValueError(f"no source named {name!r}") from None

    # -- scenes --
    @property
    def scenes(self) -> tuple[Scene, ...]:
        return tuple(self._scenes)

    def scene(self, name: str) -> Scene:
        for s in self._scenes:
            if s.name == name:
                return s
        raise ValueError(f"no scene named {name!r}")

    def has_scene(self, name: str) -> bool:
        return any(s.name == name for s in self._scenes)

    def add_scene(self, scene: Scene | str, index: int | None = None) -> Scene:
        if isinstance(scene, str):
            scene = Scene(scene)
        if self.has_scene(scene.name):
            raise ValueError(f"a scene named {scene.name!r} already exists")
        for item in scene.items:
            if item.source not in self.sources:
                raise ValueError(f"scene {scene.name!r} uses unknown source {item.source!r}")
        scene._collection = self
        self._scenes.insert(len(self._scenes) if index is None else index, scene)
        self.changed.emit(ScenesChanged())
        return scene

    def remove_scene(self, name: str) -> None:
        scene = self.scene(name)
        self._scenes.remove(scene)
        scene._collection = None
        if self.program_scene == name:
            self.program_scene = self._scenes[0].name if self._scenes else None
        if self.preview_scene == name:
            self.preview_scene = self.program_scene
        self.changed.emit(ScenesChanged())

    def rename_scene(self, old: str, new: str) -> None:
        scene = self.scene(old)
        new = _check_name("scene", new)
        if new != old and self.has_scene(new):
            raise ValueError(f"a scene named {new!r} already exists")
        scene._name = new
        if self.program_scene == old:
            self.program_scene = new
        if self.preview_scene == old:
            self.preview_scene = new
        self.changed.emit(ScenesChanged())

    def duplicate_scene(self, name: str, new_name: str | None = None) -> Scene:
        src = self.scene(name)
        if new_name is None:
            n = 2
            while self.has_scene(f"{name} {n}"):
                n += 1
            new_name = f"{name} {n}"
        copy = Scene(new_name, [SceneItem(it.source, **it.state()) for it in src.items])
        return self.add_scene(copy, self._scenes.index(src) + 1)

    def move_scene(self, name: str, index: int) -> None:
        scene = self.scene(name)
        if not 0 <= index < len(self._scenes):
            raise ValueError(f"position {index} is outside 0..{len(self._scenes) - 1}")
        self._scenes.remove(scene)
        self._scenes.insert(index, scene)
        self.changed.emit(ScenesChanged())

    def __iter__(self) -> Iterator[Scene]:
        return iter(self.scenes)
