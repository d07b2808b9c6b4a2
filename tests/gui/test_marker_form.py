"""The cut preview's marker form: edit time, kind, label and links; refused edits are shown and
change nothing; the form follows the rundown's events. Real clips, real widgets."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from test_cut_preview import make_clip

from studio.rundown import BranchPoint, DramaSegment, ProductMoment, Rundown, VotePoint
from widgets.cut_preview import CutPreview

WAIT_MS = 20_000


@pytest.fixture
def preview(qtbot: QtBot, tmp_path: Path) -> CutPreview:
    r = Rundown("t", drama_source="drama", drama_scene="Drama")
    r.add_segment(DramaSegment("episode", make_clip(tmp_path / "ep.mp4"), segment_id="ep"))
    r.add_segment(DramaSegment("A", make_clip(tmp_path / "a.mp4", 20, 30), segment_id="a"))
    r.add_segment(DramaSegment("B", make_clip(tmp_path / "b.mp4", 20, 200), segment_id="b"))
    widget = CutPreview(r, "ep", audio=False)
    qtbot.addWidget(widget)
    widget.resize(700, 700)
    widget.show()
    qtbot.waitUntil(lambda: widget.info is not None, timeout=WAIT_MS)
    return widget


def test_edit_a_vote_points_label_options_and_time(qtbot: QtBot, preview: CutPreview) -> None:
    seg = preview.segment
    assert seg is not None
    vote = preview.add_marker("vote")
    assert isinstance(vote, VotePoint)
    form = preview.marker_form
    assert form.marker_id == vote.id and form.kind.currentData() == "vote"
    assert form.vote_question.text() == vote.question

    form.vote_question.setText("谁是凶手 Who did it?")
    form.vote_options.setText("管家 Butler | 厨师 Cook | 园丁 Gardener")
    form.vote_default.setValue(2)
    form.time.setValue(0.4)
    qtbot.mouseClick(form.apply_button, _left())
    edited = seg.marker(vote.id)
    assert isinstance(edited, VotePoint)
    assert edited.question == "谁是凶手 Who did it?" and edited.options == ("管家 Butler", "厨师 Cook", "园丁 Gardener")
    assert (edited.default_option, edited.at_s) == (1, 0.4)
    assert [m[0] for m in preview.timeline.markers] == [0.4]  # the timeline follows

    form.vote_options.setText("only one")
    assert not form.apply()
    assert "a poll needs" in form.error.text()
    assert seg.marker(vote.id) == edited  # refused: nothing changed
    preview.shutdown()


def test_product_link_kind_change_and_model_events(qtbot: QtBot, preview: CutPreview) -> None:
    seg = preview.segment
    assert seg is not None
    product = preview.add_marker("product")
    assert isinstance(product, ProductMoment)
    form = preview.marker_form
    form.set_product_sources(["商品卡 Product", "Tea card"])
    form.product_source.setCurrentIndex(1)
    form.set_products([("tea-01", "龙井 Longjing"), ("cup-02", "Cup")])
    form.product_id.setCurrentIndex(0)
    form.product_duration.setValue(12.0)
    assert form.apply()
    assert seg.marker(product.id) == ProductMoment(product.at_s, "Drama", "Tea card", 12.0, id=product.id,
                                                   product="tea-01")
    form.product_id.setEditText("not an id")  # ids have no spaces: refused by the marker's check
    assert not form.apply() and "product" in form.error.text()
    form.load(seg, product.id)
    assert form.product_text() == "tea-01"

    form.product_duration.setValue(0.0)  # outside 0-600 s
    assert not form.apply() and "duration" in form.error.text()

    seg.move_marker(product.id, 1.2)  # an edit elsewhere (the rundown dock): the form shows it
    qtbot.waitUntil(lambda: form.time.value() == pytest.approx(1.2), timeout=WAIT_MS)

    form.kind.setCurrentIndex(form.kind.findData("vote"))
    form.vote_question.setText("Buy it?")
    form.vote_options.setText("Yes | No")
    assert form.apply()
    assert [type(m) for m in seg.markers] == [VotePoint]  # the product moment became a vote point
    assert form.marker_id == seg.markers[0].id != product.id
    preview.shutdown()


def test_branch_links_to_a_poll_and_existing_segments(qtbot: QtBot, preview: CutPreview) -> None:
    seg = preview.segment
    assert seg is not None
    vote = seg.add_marker(VotePoint(0.2, "Which way?", ("Left", "Right")))
    branch = seg.add_marker(BranchPoint(1.6, vote.id, ("a", "b")))
    preview.edit_marker(branch.id)
    form = preview.marker_form
    assert form.branch_vote.currentData() == vote.id
    form.branch_targets.setText("b | a")
    assert form.apply()
    assert seg.marker(branch.id) == BranchPoint(1.6, vote.id, ("b", "a"), id=branch.id)
    form.branch_targets.setText("b | nowhere")
    assert not form.apply() and "nowhere" in form.error.text()
    qtbot.mouseClick(form.delete_button, _left())
    assert [m.id for m in seg.markers] == [vote.id]
    assert preview.marker_form.marker_id == vote.id  # the list moved on to the marker left
    preview.shutdown()


def _left() -> Qt.MouseButton:
    return Qt.MouseButton.LeftButton
