"""Undo/redo of scene edits: every edit records its inverse; undo all -> the saved file byte for byte."""

from __future__ import annotations

import json

import pytest

from scenes.filters.registry import make_config
from scenes.model import SceneCollection, SceneItem, VideoFormat
from scenes.serialize import collection_from_dict, collection_to_dict
from studio import commands as cmd
from studio.engine import Studio
from studio.events import CommandFailed
from studio.undo import EditHistory


def show() -> SceneCollection:
    col = SceneCollection("undo", VideoFormat(1280, 720, 30))
    col.add_source("bg", "color", {"color": "#FF102030", "width": 1280, "height": 720})
    col.add_source("host", "color", {"color": "#FF3C7A5A", "width": 640, "height": 360})
    col.add_source("logo", "color", {"color": "#FFFFFFFF", "width": 100, "height": 100})
    col.set_filters("host", (make_config("color_correction", {"saturation": 0.5}),))
    col.add_scene("Drama").add_item(SceneItem("bg", "bg-1"))
    col.scene("Drama").add_item(SceneItem("host", "host-1", x=100, y=50))
    col.scene("Drama").add_item(SceneItem("logo", "logo-1", x=1100, y=20))
    col.add_scene("Live").add_item(SceneItem("host", "host-2"))
    col.add_scene("Break").add_item(SceneItem("logo", "logo-2"))
    return col


def saved(col: SceneCollection) -> bytes:
    return json.dumps(collection_to_dict(col), ensure_ascii=False, indent=2).encode()


# every kind of edit the history covers, in an order where each builds on the last
EDITS: list[cmd.EditCommand] = [
    cmd.UpdateItem("Drama", "host-1", {"x": 300.0, "y": 80.0, "rotation": 15.0}),
    cmd.UpdateItem("Drama", "logo-1", {"visible": False, "locked": True}),
    cmd.UpdateSource("host", {"color": "#FF0000FF"}),
    cmd.SetSourceFilters("host", (make_config("chroma_key"), make_config("sharpen"))),
    cmd.AddScene("Ending", 1),
    cmd.RenameScene("Break", "Intermission"),
    cmd.MoveScene("Intermission", 0),
    cmd.DuplicateScene("Drama", "Drama copy"),
    cmd.AddSource("title", "color", {"color": "#FF00FF00", "width": 400, "height": 80}, index=0),
    cmd.AddItem("Ending", "title", "title-1", {"x": 10.0}),
    cmd.AddItem("Drama", "title", None, {}, 1),
    cmd.MoveItem("Drama", "bg-1", 2),
    cmd.RemoveItem("Drama", "logo-1"),
    cmd.EditBatch((cmd.UpdateItem("Drama", "host-1", {"group": "Pair"}),
                   cmd.UpdateItem("Drama", "bg-1", {"group": "Pair"})), label="Group"),
    cmd.RemoveSource("logo"),  # takes its items in Intermission and Drama copy with it
    cmd.RemoveScene("Live"),
]


def test_undo_all_gives_the_file_back_byte_for_byte_and_redo_the_edited_one() -> None:
    col = show()
    history = EditHistory(col)
    original = saved(col)
    for edit in EDITS:
        assert history.perform(edit) is not None, edit
    edited = saved(col)
    assert edited != original
    assert json.loads(edited)["schema_version"] == 3  # groups are in use

    while history.undo():
        pass
    assert saved(col) == original
    while history.redo():
        pass
    assert saved(col) == edited


def test_each_step_undoes_alone() -> None:
    col = show()
    history = EditHistory(col)
    states = [saved(col)]
    for edit in EDITS:
        history.perform(edit)
        states.append(saved(col))
    for expected in reversed(states[:-1]):
        assert history.undo()
        assert saved(col) == expected
    assert not history.undo()


def test_a_gesture_is_one_step_and_a_no_op_is_none() -> None:
    col = show()
    history = EditHistory(col)
    before = saved(col)
    for x in range(60):  # a drag: 60 moves, one gesture
        history.perform(cmd.EditBatch((cmd.UpdateItem("Drama", "host-1", {"x": float(x), "y": 2.0 * x}),),
                                      gesture="drag-1"))
    history.perform(cmd.UpdateItem("Drama", "host-1", {"opacity": 0.5}))
    history.perform(cmd.EditBatch((cmd.UpdateItem("Drama", "host-1", {"x": 5.0}),), gesture="drag-1"))
    assert history.perform(cmd.UpdateItem("Drama", "host-1", {"x": 5.0})) is None
    steps = 0
    while history.undo():
        steps += 1
    assert steps == 3  # the drag, the opacity, the second drag (same id, but another gesture began between)
    assert saved(col) == before


def test_history_is_bounded_and_a_new_edit_drops_redo() -> None:
    col = show()
    history = EditHistory(col, depth=5)
    for x in range(12):
        history.perform(cmd.UpdateItem("Drama", "host-1", {"x": float(x)}))
    undone = 0
    while history.undo():
        undone += 1
    assert undone == 5
    assert col.scene("Drama").item("host-1").x == 6.0
    history.perform(cmd.UpdateItem("Drama", "host-1", {"y": 1.0}))
    assert not history.state().can_redo
    with pytest.raises(ValueError):
        EditHistory(col, depth=0)


def test_a_failing_batch_changes_nothing() -> None:
    col = show()
    history = EditHistory(col)
    before = saved(col)
    with pytest.raises(ValueError, match="no item"):
        history.perform(cmd.EditBatch((cmd.UpdateItem("Drama", "host-1", {"x": 9.0}),
                                       cmd.RemoveItem("Drama", "missing"))))
    assert saved(col) == before
    assert not history.state().can_undo


def test_engine_applies_edits_undo_and_redo_as_commands_on_the_clock() -> None:
    col = show()
    studio = Studio(col)
    failures: list[CommandFailed] = []
    studio.events.command_failed.connect(failures.append)
    try:
        original = saved(col)
        studio.render_offline(0)
        # the remote-control API submits plain UpdateItem / UpdateSource: undoable the same way
        studio.submit(cmd.UpdateItem("Drama", "host-1", {"x": 640.0}))
        studio.submit(cmd.AddScene("Extra"))
        studio.render_offline(1)
        assert col.has_scene("Extra") and col.scene("Drama").item("host-1").x == 640.0
        studio.submit(cmd.Undo())
        studio.submit(cmd.Undo())
        studio.submit(cmd.Undo())  # nothing left: a no-op, not an error
        studio.render_offline(2)
        assert saved(col) == original
        studio.submit(cmd.Redo())
        studio.render_offline(3)
        assert col.scene("Drama").item("host-1").x == 640.0 and not col.has_scene("Extra")
        assert studio.history.state().can_redo and studio.history.state().redo_label == "Add Scene"
        assert failures == []
    finally:
        studio.stop()


def test_groups_load_from_old_files_and_save_with_schema_3() -> None:
    col = show()
    old = collection_to_dict(col)
    assert old["schema_version"] == 2 and "group" not in json.dumps(old)
    loaded = collection_from_dict(old)
    assert all(it.group == "" for s in loaded.scenes for it in s.items)
    loaded.scene("Drama").item("host-1").group = "Pair"
    new = collection_to_dict(loaded)
    assert new["schema_version"] == 3
    assert collection_from_dict(new).scene("Drama").item("host-1").group == "Pair"
    v1 = {"kind": old["kind"], "schema_version": 1, "name": "v1",
          "sources": [{"name": "bg", "type": "color", "settings": {}}],
          "scenes": [{"name": "S", "items": [{"id": "a", "source": "bg", "x": 3}]}]}
    assert collection_from_dict(v1).scene("S").item("a").group == ""


def test_automation_is_not_a_step_and_undo_touches_only_what_the_step_changed() -> None:
    col = show()
    history = EditHistory(col)
    history.perform(cmd.UpdateSource("host", {"color": "#FF0000FF"}))  # the director
    # the show switches another setting of the same source on its own: applied, not recorded
    history.perform(cmd.EditBatch((cmd.UpdateSource("host", {"width": 800}),), record=False))
    assert history.state().undo_label == "Properties"
    assert history.undo() and not history.state().can_undo
    settings = col.source("host").settings
    assert (settings["color"], settings["width"]) == ("#FF3C7A5A", 800)
