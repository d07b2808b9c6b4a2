"""Docks: the properties editor validates, scenes and sources are edited, stats are coloured."""

from __future__ import annotations

from gui_helpers import pixel, render
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QPlainTextEdit, QSpinBox

from scenes.registry import all_types
from studio.events import ClockStats
from widgets.property_editor import PropertyEditor


def _editor(window) -> PropertyEditor:  # type: ignore[no-untyped-def]
    editor = window.properties.editor
    assert editor is not None
    return editor


def test_properties_editor_rejects_invalid_values_with_a_visible_message(make_window, qtbot) -> None:
    window = make_window()
    window.state.select("box-a")
    editor = _editor(window)
    assert editor.name == "box"
    color = editor.fields["color"]
    assert isinstance(color.editor, QLineEdit)
    color.editor.setText("blue")
    color.editor.editingFinished.emit()
    assert color.error.isVisible()
    assert "expected a colour like #RRGGBB" in color.error.text()
    assert color.editor.property("invalid") is True
    render(window)
    assert window.studio.collection.source("box").settings["color"] == "#FF0000FF"  # not applied

    color.editor.setText("#ff00ff00")
    color.editor.editingFinished.emit()
    assert not color.error.isVisible()
    render(window, 2)
    assert window.studio.collection.source("box").settings["color"] == "#FF00FF00"
    assert pixel(window.studio, 150, 150, preview=True) == (0, 255, 0)


def test_spin_boxes_carry_the_spec_ranges_and_apply(make_window, qtbot) -> None:
    window = make_window()
    window.state.select("box-a")
    width = _editor(window).fields["width"].editor
    assert isinstance(width, QSpinBox)
    assert (width.minimum(), width.maximum()) == (1, 8192)
    width.setValue(400)
    render(window)
    assert window.studio.collection.source("box").settings["width"] == 400


def test_every_source_type_gets_an_editor_with_matching_widgets(make_window, qtbot, tmp_path) -> None:
    window = make_window()
    kinds = {"int": QSpinBox, "float": QDoubleSpinBox, "bool": QCheckBox, "string": QLineEdit,
             "text": QPlainTextEdit, "color": QLineEdit, "path": QLineEdit, "enum": QComboBox}
    for source_type in all_types():
        if source_type.id == "camera":
            continue  # opening a device is not this test's business
        name = window.sources.add_source(source_type.id)
        assert name is not None, source_type.id
        render(window)
        editor = _editor(window)
        assert editor.name == name
        for spec in source_type.properties:
            assert isinstance(editor.fields[spec.name].editor, kinds[spec.kind.value]), (source_type.id, spec.name)
    path_fields = [(e, f) for t in all_types() for e in [t] for f in t.properties if f.kind.value == "path"]
    if path_fields:
        source_type, spec = path_fields[0]
        name = window.sources.add_source(source_type.id)
        render(window)
        field = _editor(window).fields[spec.name]
        assert isinstance(field.editor, QLineEdit)
        field.editor.setText(str(tmp_path / "missing.png"))
        field.editor.editingFinished.emit()
        assert "file not found" in field.error.text()


def test_scenes_dock_add_rename_duplicate_reorder_delete(make_window, qtbot) -> None:
    window = make_window()
    col = window.studio.collection
    panel = window.scenes
    # edits are commands: each applies at the next tick (render)
    added = panel.add_scene()
    render(window)
    assert added == "Scene 4" and col.has_scene("Scene 4")
    assert panel.rename_scene("Scene 4", "直播 Live")
    render(window)
    assert not panel.rename_scene("直播 Live", "Scene A")  # taken: refused with a message
    assert window.statusBar().currentMessage() == "a scene named 'Scene A' already exists"
    copy = panel.duplicate_scene("Scene A")
    render(window)
    assert copy == "Scene A 2" and len(col.scene(copy).items) == 2
    panel.move_scene("直播 Live", -1)
    render(window)
    names = [s.name for s in col.scenes]
    assert names.index("直播 Live") < names.index("Scene C")
    assert [panel.list.item(i).text() for i in range(panel.list.count())] == names
    assert panel.delete_scene("直播 Live")
    render(window)
    assert not col.has_scene("直播 Live")
    for name in [s.name for s in col.scenes][1:]:
        panel.delete_scene(name)
        render(window)
    assert not panel.delete_scene(col.scenes[0].name)  # the last scene stays


def test_scene_rename_by_editing_the_list_item(make_window, qtbot) -> None:
    window = make_window()
    item = window.scenes.list.item(2)
    item.setText("Finale")
    render(window)
    assert window.studio.collection.has_scene("Finale")


def test_sources_dock_add_toggle_reorder_delete(make_window, qtbot) -> None:
    window = make_window()
    col = window.studio.collection
    panel = window.sources
    name = panel.add_source("color")
    render(window)
    assert name == "Color" and "Color" in col.sources
    scene = col.scene("Scene A")
    assert scene.items[-1].source == "Color"  # on top
    assert panel.tree.topLevelItem(0).text(0) == "Color"  # the list shows top-most first
    item_id = scene.items[-1].id
    panel.set_visible(item_id, False)
    render(window)
    assert not scene.item(item_id).visible
    assert pixel(window.studio, 10, 10, preview=True) == (255, 0, 0)  # hidden: red shows again
    panel.set_locked("box-a", True)
    render(window, 2)
    assert scene.item("box-a").locked
    panel.move_item(item_id, "bottom")
    render(window, 3)
    assert scene.items[0].id == item_id
    panel.remove_item(item_id)
    render(window, 4)
    assert "Color" not in col.sources  # no scene uses it any more
    box_id = panel.add_existing("box")
    render(window, 5)
    assert box_id is not None and sum(it.source == "box" for it in scene.items) == 2
    panel.remove_item(box_id)
    render(window, 6)
    assert "box" in col.sources  # still used by the other item


def test_stats_colours_like_obs(make_window, qtbot) -> None:
    window = make_window()
    stats = window.stats

    def show(lagged: int) -> str:
        stats.show_clock(ClockStats(fps=29.97, frames=1000 - lagged, lagged=lagged, render_ms_p50=4.2,
                                    render_ms_p95=6.0))
        return str(stats.values["lagged"].property("level"))

    assert show(5) == "ok"
    assert show(20) == "warn"  # 2 %
    assert show(80) == "bad"  # 8 %
    assert stats.values["fps"].text() == "29.97"
    for key in ("skipped", "dropped", "bitrate", "rtt", "loss"):
        assert stats.values[key].text() == "—"
    stats.show_output(bitrate_kbps=2500, rtt_ms=42, loss=0.02)
    assert stats.values["bitrate"].text() == "2500 kb/s"
    assert stats.values["loss"].property("level") == "warn"


def test_streaming_and_recording_say_why_they_are_off(make_window, qtbot) -> None:
    window = make_window()
    controls = window.controls
    assert not controls.stream.isEnabled() and not controls.record.isEnabled()
    assert controls.stream.toolTip() == "Streaming arrives with the WHIP output"
    assert "recorder" in controls.record.toolTip()
    controls.set_output_available("stream", True)
    assert controls.stream.isEnabled() and controls.stream.toolTip() == ""
