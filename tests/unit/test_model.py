from __future__ import annotations

import pytest

from scenes.model import ItemChanged, SceneCollection, SceneItem, SceneItemsChanged, VideoFormat


def make_collection() -> SceneCollection:
    col = SceneCollection("Show")
    col.add_source("bg", "color", {"color": "#FF0000FF", "width": 64, "height": 64})
    scene = col.add_scene("Drama")
    scene.add_item(SceneItem("bg", item_id="a"))
    return col


def test_setters_validate_with_clear_messages() -> None:
    item = SceneItem("bg")
    with pytest.raises(ValueError, match="opacity"):
        item.opacity = 1.5
    with pytest.raises(ValueError, match="crop"):
        item.crop = (1, 2, 3)
    with pytest.raises(ValueError, match="finite"):
        item.x = float("nan")
    with pytest.raises(ValueError, match="unknown scene item fields"):
        SceneItem("bg", wobble=3)
    assert item.opacity == 1.0  # a rejected value leaves the old one


def test_item_changes_emit_one_event_per_update() -> None:
    col = make_collection()
    events: list[object] = []
    col.changed.connect(events.append)
    item = col.scene("Drama").item("a")
    item.update(x=10, y=20)
    item.update(x=10)  # no change, no event
    item.rotation = 370
    assert events == [ItemChanged("Drama", "a", ("x", "y")), ItemChanged("Drama", "a", ("rotation",))]
    assert item.rotation == 10.0


def test_update_is_all_or_nothing() -> None:
    item = SceneItem("bg")
    with pytest.raises(ValueError):
        item.update(x=5, opacity=3)
    assert item.x == 0.0


def test_scene_operations() -> None:
    col = make_collection()
    col.add_source("fg", "color", {"width": 8, "height": 8})
    scene = col.scene("Drama")
    events: list[object] = []
    col.changed.connect(events.append)
    b = scene.add_item(SceneItem("fg", item_id="b"))
    scene.move_item("b", 0)
    assert [it.id for it in scene.items] == ["b", "a"]
    assert SceneItemsChanged("Drama") in events
    with pytest.raises(ValueError, match="no source named"):
        scene.add_item(SceneItem("missing"))
    dup = col.duplicate_scene("Drama")
    assert dup.name == "Drama 2" and len(dup.items) == 2
    assert dup.items[0].id != b.id or dup.items[0] is not b
    col.rename_scene("Drama 2", "Live")
    assert [s.name for s in col.scenes] == ["Drama", "Live"]
    with pytest.raises(ValueError, match="already exists"):
        col.rename_scene("Live", "Drama")
    col.remove_source("fg")
    assert all(it.source != "fg" for s in col.scenes for it in s.items)


def test_source_settings_validated() -> None:
    col = SceneCollection()
    with pytest.raises(ValueError, match="colour"):
        col.add_source("x", "color", {"color": "red"})
    with pytest.raises(ValueError, match="unknown source type"):
        col.add_source("y", "hologram")
    col.add_source("z", "color")
    with pytest.raises(ValueError, match="maximum"):
        col.update_source("z", {"width": 100000})
    assert col.source("z").settings["width"] == 1920


def test_video_format_validation() -> None:
    assert VideoFormat(1280, 720, 30).frame_ns == 33_333_333
    with pytest.raises(ValueError, match="not supported"):
        VideoFormat(1000, 700, 30)
    with pytest.raises(ValueError, match="fps"):
        VideoFormat(1920, 1080, 29)
