"""The properties editor's filter list: add, edit, reorder, switch off, remove — each through
SetSourceFilters, and a broken .cube shows its error in the field instead of being applied."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from scenes.filters.cube import identity_cube_text
from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.engine import Studio
from widgets.property_editor import PropertyEditor


def _studio() -> Studio:
    col = SceneCollection("f", VideoFormat(1280, 720, 30))
    col.add_source("cam", "color", {"width": 64, "height": 36})
    col.add_scene("Live").add_item(SceneItem("cam"))
    return Studio(col)


def _apply(studio: Studio, editor: PropertyEditor) -> None:
    """Run the queued commands as the clock would, then show the model (what the dock does)."""
    studio.render_offline(0)
    editor.load()


def _add(editor: PropertyEditor, type_id: str) -> None:
    assert editor.filters is not None
    box = editor.filters.type_box
    box.setCurrentIndex(box.findData(type_id))
    editor.filters.add_button.click()


def test_add_edit_reorder_toggle_remove(qtbot: QtBot, tmp_path: Path) -> None:
    studio = _studio()
    try:
        editor = PropertyEditor(studio, "cam")
        qtbot.addWidget(editor)
        editor.show()
        fl = editor.filters
        assert fl is not None and fl.list.count() == 0
        _add(editor, "chroma_key")
        _apply(studio, editor)
        _add(editor, "color_correction")
        _apply(studio, editor)
        col = studio.collection
        assert [f.type_id for f in col.source("cam").filters] == ["chroma_key", "color_correction"]
        assert fl.list.currentRow() == 1 and fl.settings is not None
        # the selected filter's settings, generated from its schema
        gamma = fl.settings.fields["gamma"]
        gamma.editor.setValue(1.8)  # type: ignore[attr-defined]
        _apply(studio, editor)
        assert col.source("cam").filters[1].settings["gamma"] == 1.8
        fl.up_button.click()
        _apply(studio, editor)
        assert [f.type_id for f in col.source("cam").filters] == ["color_correction", "chroma_key"]
        assert fl.list.currentRow() == 0
        fl.list.item(1).setCheckState(fl.list.item(1).checkState().Unchecked)
        _apply(studio, editor)
        assert col.source("cam").filters[1].enabled is False
        fl.list.setCurrentRow(0)
        fl.remove_button.click()
        _apply(studio, editor)
        assert [f.type_id for f in col.source("cam").filters] == ["chroma_key"]
    finally:
        studio.stop()


def test_broken_cube_is_shown_not_applied(qtbot: QtBot, tmp_path: Path) -> None:
    studio = _studio()
    try:
        editor = PropertyEditor(studio, "cam")
        qtbot.addWidget(editor)
        editor.show()
        _add(editor, "lut")
        _apply(studio, editor)
        fl = editor.filters
        assert fl is not None and fl.settings is not None
        bad = tmp_path / "broken.cube"
        bad.write_text("LUT_3D_SIZE 2\n0 0 0\n")
        path_field = fl.settings.fields["path"]
        path_field.editor.setText(str(bad))  # type: ignore[attr-defined]
        assert not fl.settings.commit("path")
        assert path_field.error.isVisible() and "expected 8 table rows" in path_field.error.text()
        good = tmp_path / "identity.cube"
        good.write_text(identity_cube_text(9))
        path_field.editor.setText(str(good))  # type: ignore[attr-defined]
        assert fl.settings.commit("path")
        _apply(studio, editor)
        assert studio.collection.source("cam").filters[0].settings["path"] == str(good)
    finally:
        studio.stop()


def test_a_filter_the_engine_skips_is_shown(qtbot: QtBot, tmp_path: Path) -> None:
    from scenes.filters.registry import make_config

    studio = _studio()
    try:
        gone = tmp_path / "gone.cube"
        gone.write_text(identity_cube_text(5))
        studio.collection.set_filters("cam", [make_config("lut", {"path": str(gone)})])
        gone.unlink()  # the grade's file went away since the show was saved
        editor = PropertyEditor(studio, "cam")
        qtbot.addWidget(editor)
        editor.show()
        studio.render_offline(0)  # the picture goes on without the LUT
        fl = editor.filters
        assert fl is not None
        fl.show_problems()
        assert fl.problems.isVisible() and "gone.cube" in fl.problems.text()
    finally:
        studio.stop()


def test_choices_show_labels_and_send_their_ids(qtbot: QtBot) -> None:
    studio = _studio()
    try:
        editor = PropertyEditor(studio, "cam")
        qtbot.addWidget(editor)
        editor.show()
        _add(editor, "chroma_key")
        _apply(studio, editor)
        fl = editor.filters
        assert fl is not None and fl.settings is not None
        combo = fl.settings.fields["key"].editor
        assert [combo.itemText(i) for i in range(combo.count())] == ["Green", "Blue", "Custom colour"]  # type: ignore[attr-defined]
        combo.setCurrentIndex(1)  # type: ignore[attr-defined]
        _apply(studio, editor)
        assert studio.collection.source("cam").filters[0].settings["key"] == "blue"
        assert fl.settings.fields["key"].value() == "blue"
    finally:
        studio.stop()
