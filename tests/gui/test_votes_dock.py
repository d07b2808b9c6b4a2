"""The Votes dock (pytest-qt): create, open, live bars, close, director's pick, poll overlay."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from scenes.registry import get_type
from scenes.sources.poll_overlay import PollOverlaySource
from scenes.text_raster import ensure_gui_app
from studio.interaction.overlays import OverlayBinding
from studio.interaction.service import InteractionService
from widgets.votes_dock import VotesDock


class Clock:
    """A poll clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(clock: Clock) -> InteractionService:
    return InteractionService(poll_clock=clock)  # not started: polls work without the network


@pytest.fixture
def dock(qtbot: QtBot, service: InteractionService) -> Iterator[VotesDock]:
    widget = VotesDock(service)
    qtbot.addWidget(widget)
    yield widget
    widget.close_bridge()


def fill(dock: VotesDock, question: str, options: list[str], seconds: int = 30) -> None:
    dock.question.setText(question)
    for edit, text in zip(dock.option_edits, options + [""] * 5, strict=False):
        edit.setText(text)
    dock.duration.setValue(seconds)


def test_open_vote_and_close_shows_live_bars_and_winner(dock: VotesDock, service: InteractionService) -> None:
    assert dock.state_label.text() == "No poll" and not dock.close_button.isEnabled()
    fill(dock, "<b>结局</b>选哪个？", ["原谅", "离开", "再看看"])
    dock.branch.setText("ep3-ending")
    assert dock.default_option.count() == 3
    assert dock.open_poll()
    poll = service.poll
    assert poll is not None and poll.options == ("原谅", "离开", "再看看") and poll.branch_binding == "ep3-ending"
    assert dock.question_label.text() == "<b>结局</b>选哪个？"
    assert dock.question_label.textFormat() == Qt.TextFormat.PlainText
    assert [not b.isHidden() for b in dock.bars] == [True, True, True, False, False]
    assert not dock.open_button.isEnabled() and dock.close_button.isEnabled()
    for user, option in (("a", 1), ("b", 1), ("c", 0)):
        poll.vote(user, option)
    poll.tick()  # the service's ticker does this; counts changed -> an update
    assert [b.value() for b in dock.bars[:3]] == [333, 667, 0]
    assert dock.bars[1].format() == "66.7 % (2)"
    dock.close_button.click()
    assert "离开" in dock.status.text() and "ep3-ending" in dock.status.text()
    assert dock.option_labels[1].font().bold() and dock.open_button.isEnabled()


def test_bad_form_is_reported_not_raised(dock: VotesDock) -> None:
    fill(dock, "问题", ["只有一个"])
    assert not dock.open_poll() and "two options" in dock.status.text()
    fill(dock, "问题", ["一样", "一样"])
    assert not dock.open_poll() and "different" in dock.status.text()
    fill(dock, "", ["甲", "乙"])
    assert not dock.open_poll() and "question" in dock.status.text()


def test_tie_waits_for_the_directors_pick(dock: VotesDock, service: InteractionService) -> None:
    fill(dock, "谁是凶手？", ["管家", "女主", "司机"])
    dock.tie_rule.setCurrentIndex(dock.tie_rule.findData("director"))
    assert dock.open_poll()
    poll = service.poll
    assert poll is not None
    poll.vote("a", 0)
    poll.vote("b", 2)
    dock.close_poll()
    assert poll.state == "needs_pick"
    assert [not p.isHidden() for p in dock.pick_buttons[:3]] == [True, False, True]
    dock.pick(1)  # not among the tied: refused, reported
    assert poll.state == "needs_pick" and "tied" in dock.status.text()
    dock.pick_buttons[2].click()
    assert poll.state == "closed" and poll.result is not None and poll.result.winner == 2
    assert "司机" in dock.status.text() and all(p.isHidden() for p in dock.pick_buttons)


def test_countdown_end_and_poll_overlay(dock: VotesDock, service: InteractionService, clock: Clock) -> None:
    ensure_gui_app()
    overlay = get_type("poll_overlay").create({"width": 320, "height": 220})
    assert isinstance(overlay, PollOverlaySource)
    with OverlayBinding(service, type("S", (), {"sources": {"poll": overlay}})()):
        fill(dock, "下一集看谁？", ["男主", "女主"], seconds=10)
        assert dock.open_poll()
        poll = service.poll
        assert poll is not None
        poll.vote("v", 1)
        clock.now += 4.2
        poll.tick()
        assert "6 s" in dock.state_label.text()
        overlay.tick(0)
        assert overlay.view is not None and overlay.view.counts == (0, 1) and not overlay.view.closed
        clock.now += 6
        poll.tick()  # the countdown ran out: closed by votes
        assert "女主" in dock.status.text()
        overlay.tick(1)
        assert overlay.view is not None and overlay.view.closed and overlay.view.winner == 1
