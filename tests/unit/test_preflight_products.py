"""The pre-live check lists product cards and rundown product moments whose product is not in the
catalogue, naming the card or the moment, beside the file problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.catalogue.demo import BAG, LIPSTICK, demo_catalogue
from studio.catalogue.files import catalogue_ids
from studio.catalogue.persistence import save_catalogue
from studio.headless import report_preflight
from studio.rundown.markers import ProductMoment
from studio.rundown.model import LiveSegment, Rundown
from studio.rundown.persistence import save_rundown
from studio.rundown.preflight import MissingProduct, missing_products
from widgets.prelive_check import describe, run_checks


def show() -> tuple[SceneCollection, Rundown]:
    col = SceneCollection("t", VideoFormat(1280, 720, 25))
    col.add_source("卡A", "product_card", {"product_id": LIPSTICK, "title": "口红"})
    col.add_source("卡B", "product_card", {"product_id": "gone-cup", "title": "保温杯"})
    col.add_source("卡C", "product_card", {"product_id": "gone-too", "title": "不在场景里"})  # never on air
    col.add_source("卡D", "product_card", {"title": "没有商品号"})  # typed-in card: nothing to check
    col.add_scene("Live").add_item(SceneItem("卡A"))
    col.scene("Live").add_item(SceneItem("卡B"))
    col.scene("Live").add_item(SceneItem("卡D"))
    r = Rundown("show")
    live = LiveSegment("直播", "Live", 20.0, segment_id="live")
    live.add_marker(ProductMoment(1.0, "Live", "卡A", 5.0, id="m-ok", product=BAG))
    live.add_marker(ProductMoment(8.0, "Live", "卡A", 5.0, id="m-gone", product="old-bag"))
    live.add_marker(ProductMoment(9.0, "Live", "卡A", 5.0, id="m-none"))
    r.add_segment(live)
    return col, r


def ids() -> set[str]:
    return {p.id for p in demo_catalogue().products}


def test_cards_and_moments_naming_no_catalogue_product_are_listed() -> None:
    col, r = show()
    missing = missing_products(r, col, ids())
    assert missing == [MissingProduct("gone-cup", "product card 卡B"),
                       MissingProduct("old-bag", "product moment m-gone (segment live 直播, card 卡A)")]
    assert str(missing[0]) == "product card 卡B: product 'gone-cup' is not in the catalogue"


def test_the_pre_live_check_names_them_beside_the_files(tmp_path: Path) -> None:
    col, r = show()
    findings = run_checks(col, r, products=ids())
    assert [m.product for m in findings.products] == ["gone-cup", "old-bag"] and findings
    text = describe(findings)
    assert "Products not in the catalogue" in text and "product card 卡B: product 'gone-cup'" in text
    assert "product moment m-gone" in text
    path = tmp_path / "show.rundown.json"
    save_rundown(r, path)
    assert [m.product for m in run_checks(col, path, products=ids()).products] == ["gone-cup", "old-bag"]
    assert run_checks(col, r).products == ()  # no catalogue open: nothing to compare with


def test_headless_pre_flight_names_them_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    col, r = show()
    path = tmp_path / "show.rundown.json"
    save_rundown(r, path)
    found = report_preflight(path, col, sorted(ids()))
    lines = [line for line in capsys.readouterr().out.splitlines() if "catalogue" in line]
    assert lines == ["studio: pre-flight: product card 卡B: product 'gone-cup' is not in the catalogue",
                     "studio: pre-flight: product moment m-gone (segment live 直播, card 卡A): product 'old-bag' "
                     "is not in the catalogue"]
    assert report_preflight(path, col) == found - 2  # without a catalogue: the other problems alone


def test_the_catalogue_beside_a_collection_gives_the_ids(tmp_path: Path) -> None:
    assert catalogue_ids(tmp_path / "show.json") is None  # no catalogue: nothing to compare with
    save_catalogue(demo_catalogue(), tmp_path / "show-catalogue.json")
    assert set(catalogue_ids(tmp_path / "show.json") or ()) == {LIPSTICK, BAG}
