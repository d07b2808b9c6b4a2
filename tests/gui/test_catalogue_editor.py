"""The catalogue editor (pytest-qt): it binds to the model, a bad edit says why and changes
nothing, advertising-law warnings are listed per product, CSV import lists its bad rows."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from studio.catalogue.demo import BAG, LIPSTICK, demo_catalogue
from studio.catalogue.persistence import load_catalogue
from widgets.catalogue_editor import CatalogueEditor


def test_edit_apply_warnings_and_files(qtbot: QtBot, tmp_path: Path) -> None:
    catalogue = demo_catalogue()
    path = tmp_path / "catalogue.json"
    editor = CatalogueEditor(catalogue, path)
    qtbot.addWidget(editor)
    assert editor.list.count() == 2 and editor.selected_id() == LIPSTICK
    assert editor.id_label.textFormat() == Qt.TextFormat.PlainText
    editor.name.setText("全网最低价口红")
    editor.price.setValue(109)
    assert editor.apply()
    assert catalogue.product(LIPSTICK).price == 109
    assert editor.warnings.count() == 1 and "全网最低" in editor.warnings.item(0).text()
    assert editor.list.item(0).text().startswith("⚠")
    editor.link.setText("javascript:alert(1)")
    assert not editor.apply()
    assert "http(s)://" in editor.status.text() and catalogue.product(LIPSTICK).link.startswith("https://")
    # another edit from elsewhere (the model) reaches the list
    catalogue.update(BAG, name="<b>新包</b>")
    assert editor.list.item(1).text() == "<b>新包</b>"
    editor.save()
    assert load_catalogue(path).product(LIPSTICK).price == 109
    csv_path = tmp_path / "products.csv"
    editor.export_file(csv_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,price\nx,好,abc\ny,行,5\n", encoding="utf-8")
    problems = editor.import_file(bad)
    assert problems == ["line 2: price 'abc' is not a number"] and catalogue.get("y") is not None
    editor.close_bridge()


def test_add_and_remove_products(qtbot: QtBot) -> None:
    catalogue = demo_catalogue()
    editor = CatalogueEditor(catalogue)
    qtbot.addWidget(editor)
    editor.buttons["add"].click()
    assert len(catalogue) == 3 and editor.selected_id() == "product"
    editor.buttons["remove"].click()
    assert len(catalogue) == 2
    editor.save()
    assert "no file" in editor.status.text()
    editor.close_bridge()
