"""Scene collection <-> JSON-ready dicts, with schema checks that name the broken field."""

from __future__ import annotations

from typing import Any

from scenes.filters.base import FilterConfig
from scenes.filters.registry import get_filter_type, make_config
from scenes.model import Scene, SceneCollection, SceneItem, SourceConfig, VideoFormat
from scenes.registry import get_type

# 2: sources may carry "filters". A file is written with the lowest version that reads it whole
# (1 while no source has filters), so a show without filters still opens in an older studio.
# 3: items may carry "group" (the name of the group they belong to in their scene; absent = none).
# Older files need no migration step: an item without "group" is ungrouped.
SCHEMA_VERSION = 3
KIND = "drama-live-studio/scene-collection"


def collection_to_dict(col: SceneCollection) -> dict[str, Any]:
    with col.lock:
        uses_filters = any(s.filters for s in col.sources.values())
        uses_groups = any(it.group for scene in col.scenes for it in scene.items)
        return {
            "kind": KIND,
            "schema_version": 3 if uses_groups else 2 if uses_filters else 1,
            "name": col.name,
            "video": {"width": col.video.width, "height": col.video.height, "fps": col.video.fps},
            "sources": [_source_dict(s) for s in col.sources.values()],
            "scenes": [
                {
                    "name": scene.name,
                    "items": [
                        {"id": it.id, "source": it.source, **_item_fields(it)} for it in scene.items
                    ],
                }
                for scene in col.scenes
            ],
            "program_scene": col.program_scene,
            "preview_scene": col.preview_scene,
        }


def _source_dict(src: SourceConfig) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": src.name,
        "type": src.type_id,
        "version": get_type(src.type_id).version,
        "settings": src.settings,
    }
    if src.filters:
        out["filters"] = [
            {"type": f.type_id, "version": get_filter_type(f.type_id).version, "enabled": f.enabled,
             "settings": dict(f.settings)}
            for f in src.filters
        ]
    return out


def _filters_from(data: Any, where: str) -> list[FilterConfig]:
    out = []
    for k, f in enumerate(_expect(data, list, where)):
        fw = f"{where}[{k}]"
        _expect(f, dict, fw)
        type_id = _expect(f.get("type"), str, f"{fw}.type")
        settings = _expect(f.get("settings", {}), dict, f"{fw}.settings")
        enabled = _expect(f.get("enabled", True), bool, f"{fw}.enabled")
        saved_version = _expect(f.get("version", 1), int, f"{fw}.version")
        try:
            settings = get_filter_type(type_id).upgrade(saved_version, settings)
            out.append(make_config(type_id, settings, enabled))
        except ValueError as exc:
            raise ValueError(f"{fw}: {exc}") from None
    return out


def _item_fields(item: SceneItem) -> dict[str, Any]:
    state = item.state()
    state["crop"] = list(state["crop"])
    if not state["group"]:
        del state["group"]  # written only when used, so ungrouped shows keep their older schema
    return state


def _expect(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ValueError(f"{where}: expected {names}, got {type(value).__name__}")
    return value


def collection_from_dict(data: Any) -> SceneCollection:
    """Build a collection; raises ValueError naming the first problem (path inside the file)."""
    _expect(data, dict, "file")
    if data.get("kind", KIND) != KIND:
        raise ValueError(f"not a scene collection (kind is {data.get('kind')!r})")
    version = _expect(data.get("schema_version"), int, "schema_version")
    if version > SCHEMA_VERSION:
        raise ValueError(
            f"schema_version {version} is newer than this studio understands ({SCHEMA_VERSION}); "
            "update Drama Live Studio to open it"
        )
    if version < 1:
        raise ValueError(f"schema_version {version} is not valid")
    video = _expect(data.get("video", {}), dict, "video")
    try:
        fmt = VideoFormat(**{k: _expect(video[k], int, f"video.{k}") for k in ("width", "height", "fps") if k in video})
    except TypeError as exc:
        raise ValueError(f"video: {exc}") from None
    col = SceneCollection(_expect(data.get("name", "Untitled"), str, "name"), fmt)
    for i, src in enumerate(_expect(data.get("sources", []), list, "sources")):
        where = f"sources[{i}]"
        _expect(src, dict, where)
        name = _expect(src.get("name"), str, f"{where}.name")
        type_id = _expect(src.get("type"), str, f"{where}.type")
        settings = _expect(src.get("settings", {}), dict, f"{where}.settings")
        saved_version = _expect(src.get("version", 1), int, f"{where}.version")
        try:
            stype = get_type(type_id)
            settings = stype.upgrade(saved_version, settings)
            col.add_source(name, type_id, settings)
        except ValueError as exc:
            raise ValueError(f"{where} ({name!r}): {exc}") from None
        if "filters" in src:
            try:
                col.set_filters(name, _filters_from(src["filters"], f"{where}.filters"))
            except ValueError as exc:
                raise ValueError(f"{where} ({name!r}): {exc}") from None
    for i, sc in enumerate(_expect(data.get("scenes", []), list, "scenes")):
        where = f"scenes[{i}]"
        _expect(sc, dict, where)
        items = []
        for j, it in enumerate(_expect(sc.get("items", []), list, f"{where}.items")):
            iw = f"{where}.items[{j}]"
            _expect(it, dict, iw)
            fields = {k: v for k, v in it.items() if k not in ("id", "source")}
            try:
                items.append(SceneItem(_expect(it.get("source"), str, f"{iw}.source"),
                                       it.get("id") if isinstance(it.get("id"), str) else None, **fields))
            except ValueError as exc:
                raise ValueError(f"{iw}: {exc}") from None
        try:
            col.add_scene(Scene(_expect(sc.get("name"), str, f"{where}.name"), items))
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    for key in ("program_scene", "preview_scene"):
        value = data.get(key)
        if value is not None and isinstance(value, str) and col.has_scene(value):
            setattr(col, key, value)
    if col.program_scene is None and col.scenes:
        col.program_scene = col.scenes[0].name
    if col.preview_scene is None:
        col.preview_scene = col.program_scene
    return col
