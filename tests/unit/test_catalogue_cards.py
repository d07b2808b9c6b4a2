"""Product cards and rundown product moments pick products by id: old files with typed-in card
data migrate into the catalogue, cards are filled from it, moments carry a product id (files
without one still load), and while a show runs the cards follow the catalogue and the moments."""

from __future__ import annotations

import json
from pathlib import Path

from scenes.model import SceneCollection, VideoFormat
from studio.catalogue.cards import CardBinder, apply_catalogue, migrate_inline_cards, migrate_rundown_products
from studio.catalogue.demo import LIPSTICK, demo_catalogue
from studio.catalogue.files import open_show_catalogue
from studio.catalogue.model import Catalogue
from studio.catalogue.persistence import load_catalogue
from studio.collections import save_collection
from studio.commands import EditBatch, UpdateSource
from studio.rundown.events import MarkerFired, RundownEvents
from studio.rundown.markers import ProductMoment
from studio.rundown.model import LiveSegment, Rundown
from studio.rundown.persistence import rundown_from_dict, rundown_to_dict
from studio.undo import EditHistory


def old_collection() -> SceneCollection:
    """Cards as files from before the catalogue have them: product data typed into the card."""
    col = SceneCollection("old", VideoFormat(1280, 720, 30))
    col.add_source("卡A", "product_card", {"title": "丝绒哑光口红 #666 限量礼盒", "price": 99.0})
    col.add_source("卡B", "product_card", {"title": "老款保温杯", "price": 59.0, "original_price": 89.0})
    col.add_source("卡C", "product_card", {"title": "老款保温杯", "price": 59.0})
    col.add_scene("Live")
    return col


def test_inline_cards_migrate_into_the_catalogue() -> None:
    col, cat = old_collection(), demo_catalogue()
    done = migrate_inline_cards(col, cat)
    by_source = {m.source: m for m in done}
    assert by_source["卡A"].product == LIPSTICK and not by_source["卡A"].created  # found by name
    new_id = by_source["卡B"].product
    assert by_source["卡B"].created and by_source["卡C"].product == new_id and not by_source["卡C"].created
    cup = cat.product(new_id)
    assert (cup.name, cup.price, cup.original_price) == ("老款保温杯", 59.0, 89.0)
    assert col.source("卡B").settings["product_id"] == new_id
    assert migrate_inline_cards(col, cat) == []  # once


def test_cards_are_filled_from_the_catalogue_by_id() -> None:
    col, cat = old_collection(), demo_catalogue()
    col.update_source("卡A", {"product_id": LIPSTICK})
    col.update_source("卡B", {"product_id": "gone"})
    problems = apply_catalogue(col, cat)
    settings = col.source("卡A").settings
    assert (settings["title"], settings["price"], settings["original_price"]) == ("丝绒哑光口红 #666 限量礼盒", 129.0, 199.0)
    assert problems == ["product card '卡B': product 'gone' is not in the catalogue"]
    assert col.source("卡B").settings["title"] == "老款保温杯"  # an unknown id keeps what it shows


def test_product_moments_carry_a_product_and_old_files_load() -> None:
    r = Rundown("show")
    live = LiveSegment("live", "Live", 20.0, segment_id="live")
    live.add_marker(ProductMoment(1.0, "Live", "卡A", 5.0, id="m1", product=LIPSTICK))
    live.add_marker(ProductMoment(8.0, "Live", "卡B", 5.0, id="m2"))
    r.add_segment(live)
    data = rundown_to_dict(r)
    markers = data["segments"][0]["markers"]
    assert markers[0]["product"] == LIPSTICK and "product" not in markers[1]  # old readers see the old shape
    back = rundown_from_dict(json.loads(json.dumps(data)))
    assert [m.product for m in back.segments[0].markers if isinstance(m, ProductMoment)] == [LIPSTICK, ""]
    col = old_collection()
    col.update_source("卡B", {"product_id": "cup"})
    assert migrate_rundown_products(back, col) == 1
    assert back.segments[0].marker("m2").product == "cup"  # type: ignore[union-attr]


class Recorder:
    def __init__(self) -> None:
        self.commands: list[UpdateSource] = []

    def submit(self, command: EditBatch) -> None:
        assert isinstance(command, EditBatch) and not command.record  # automation: no undo step
        for c in command.commands:
            assert isinstance(c, UpdateSource)
            self.commands.append(c)


class HistoryStudio:
    """Applies what it is sent through the edit history, as the engine's tick does."""

    def __init__(self, collection: SceneCollection) -> None:
        self.history = EditHistory(collection)

    def submit(self, command: EditBatch) -> None:
        self.history.perform(command)


def test_undo_after_an_automatic_card_switch_takes_back_the_directors_edit() -> None:
    col, cat = old_collection(), demo_catalogue()
    r = Rundown("show")
    live = LiveSegment("live", "Live", 20.0, segment_id="live")
    live.add_marker(ProductMoment(1.0, "Live", "卡B", 5.0, id="bag-moment", product="tote-bag"))
    r.add_segment(live)
    events = RundownEvents()
    studio = HistoryStudio(col)
    binder = CardBinder(studio, col, cat, events, r)
    studio.history.perform(UpdateSource("卡C", {"title": "导演改的标题"}))  # the director's edit
    events.marker_fired.emit(MarkerFired("live", "bag-moment", "product", "show", 30, 30, "卡B"))
    assert col.source("卡B").settings["product_id"] == "tote-bag"
    assert studio.history.undo()
    assert col.source("卡C").settings["title"] == "老款保温杯"  # the director's edit is taken back
    assert col.source("卡B").settings["product_id"] == "tote-bag"  # the switch stays
    assert not studio.history.state().can_undo
    binder.close()


def test_cards_follow_the_catalogue_and_the_moments_while_live() -> None:
    col, cat = old_collection(), demo_catalogue()
    col.update_source("卡A", {"product_id": LIPSTICK})
    r = Rundown("show")
    live = LiveSegment("live", "Live", 20.0, segment_id="live")
    live.add_marker(ProductMoment(1.0, "Live", "卡B", 5.0, id="bag-moment", product="tote-bag"))
    r.add_segment(live)
    events = RundownEvents()
    studio = Recorder()
    binder = CardBinder(studio, col, cat, events, r)
    cat.update(LIPSTICK, price=109)
    assert [(c.name, c.settings["price"]) for c in studio.commands] == [("卡A", 109.0)]
    events.marker_fired.emit(MarkerFired("live", "bag-moment", "product", "show", 30, 30, "卡B"))
    assert studio.commands[-1].name == "卡B" and studio.commands[-1].settings["product_id"] == "tote-bag"
    binder.close()
    cat.update(LIPSTICK, price=99)
    assert len(studio.commands) == 2  # closed: no more edits


def test_a_moments_product_is_its_own_else_its_cards() -> None:
    col, cat = old_collection(), demo_catalogue()
    col.update_source("卡A", {"product_id": LIPSTICK})
    r = Rundown("show")
    live = LiveSegment("live", "Live", 20.0, segment_id="live")
    live.add_marker(ProductMoment(1.0, "Live", "卡A", 5.0, id="bag", product="tote-bag"))
    live.add_marker(ProductMoment(8.0, "Live", "卡A", 5.0, id="plain"))
    live.add_marker(ProductMoment(9.0, "Live", "卡C", 5.0, id="typed"))
    r.add_segment(live)
    binder = CardBinder(Recorder(), col, cat, RundownEvents(), r)
    try:
        assert binder.product_for("bag", "卡A").id == "tote-bag"  # type: ignore[union-attr]
        assert binder.product_for("plain", "卡A").id == LIPSTICK  # type: ignore[union-attr]
        assert binder.product_for("typed", "卡C") is None  # a card typed in by hand: no product
    finally:
        binder.close()


def test_a_show_opens_the_catalogue_beside_its_collection(tmp_path: Path) -> None:
    col = old_collection()
    path = tmp_path / "show.json"
    save_collection(col, path)
    opened = open_show_catalogue(col, path)
    assert opened.path == tmp_path / "show-catalogue.json"  # cards' products kept for the next show
    assert {p.name for p in load_catalogue(opened.path).products} == {"丝绒哑光口红 #666 限量礼盒", "老款保温杯"}
    assert opened.problems == []
    opened.path.write_text("{damaged", encoding="utf-8")
    again = open_show_catalogue(old_collection(), path)
    assert again.path is None and "not valid JSON" in again.problems[0]
    assert opened.path.read_text(encoding="utf-8") == "{damaged"  # never overwritten
    assert isinstance(again.catalogue, Catalogue)
