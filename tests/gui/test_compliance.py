"""Advertising-law warnings: shown under on-screen text fields and listed before going live."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.engine import Studio
from studio.interaction.compliance import scan_collection
from widgets.property_editor import PropertyEditor


def card_collection() -> SceneCollection:
    col = SceneCollection("ads", VideoFormat(1280, 720, 30))
    col.add_source("card", "product_card", {"title": "丝绒口红", "price": 99.0})
    col.add_source("caption", "text", {"text": "全网最低价，国家级品质"})
    col.add_scene("Live").add_item(SceneItem("card"))
    return col


def test_properties_editor_warns_but_does_not_block(qtbot: QtBot) -> None:
    studio = Studio(card_collection())
    try:
        editor = PropertyEditor(studio, "card")
        qtbot.addWidget(editor)
        editor.show()
        field = editor.fields["title"]
        assert field.warning is not None and not field.warning.isVisible()
        field.editor.setText("顶级丝绒口红 销量第一")  # type: ignore[attr-defined]
        assert editor.commit("title")  # applied: a warning is advice, not a validation error
        assert field.warning.isVisible()
        assert "顶级" in field.warning.text() and "销量第一" in field.warning.text()
        assert not field.error.isVisible()
        studio.render_offline(0)
        assert studio.collection.source("card").settings["title"] == "顶级丝绒口红 销量第一"
    finally:
        studio.stop()


def test_pre_live_scan_lists_every_on_screen_text() -> None:
    found = scan_collection(card_collection())
    assert {(w.source, w.warning.word) for w in found} >= {("caption", "全网最低"), ("caption", "国家级")}
    assert all(w.source != "card" for w in found)
