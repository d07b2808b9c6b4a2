"""The product-question panel (pytest-qt): a product question in chat gets a suggested answer next
to it, one click announces it through the interaction service; auto-reply (off by default) is
rate-limited; questions without an answer are listed; viewer text stays plain. Matching runs on
the panel's question queue (its own thread): tests wait until every offered message is matched or
sampled out, then for the queued suggestions to reach the widget."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from studio.catalogue.assistant import FaqAssistant
from studio.catalogue.autoreply import AutoReply
from studio.catalogue.demo import LIPSTICK, demo_catalogue
from studio.catalogue.question_queue import MAX_QUESTIONS
from studio.interaction.messages import Announcement, Danmaku
from studio.interaction.moderation import Moderator
from studio.interaction.service import InteractionService
from widgets.danmaku_dock import DanmakuDock
from widgets.faq_panel import MAX_SUGGESTIONS, FaqPanel


@pytest.fixture(scope="module")
def assistant() -> Iterator[FaqAssistant]:
    a = FaqAssistant(demo_catalogue())
    a.load_now()
    yield a
    a.close()


@pytest.fixture
def service() -> InteractionService:
    return InteractionService(moderator=Moderator(["傻瓜"]))  # not started: events are fed by hand


def feed(service: InteractionService, text: str, user: str = "u1") -> None:
    """As the service delivers a message: moderated, in a batch when the service batches."""
    event = service.moderator.check(Danmaku(user=user, nick=f"<b>{user}</b>", text=text))
    batch = getattr(service, "danmaku_batch", None)
    if batch is not None:
        batch.emit((event,))
    else:
        service.danmaku.emit(event)


def settle(qtbot: QtBot, panel: FaqPanel) -> None:
    """Every message offered so far matched (or sampled out), and its suggestion on the widget."""
    q = panel.questions
    qtbot.waitUntil(lambda: q.matched + q.skipped == q.offered and q.waiting == 0)
    QApplication.processEvents()  # the suggestions queued to the UI thread


def announcements(service: InteractionService) -> list[Announcement]:
    sent: list[Announcement] = []
    service.announcements.connect(sent.append)
    return sent


def test_suggestion_next_to_the_question_and_one_click_announces(qtbot: QtBot, service: InteractionService,
                                                                 assistant: FaqAssistant) -> None:
    panel = FaqPanel(service, assistant)
    qtbot.addWidget(panel)
    panel.on_screen.setCurrentIndex(panel.on_screen.findData(LIPSTICK))
    sent = announcements(service)
    matched_on: list[str] = []
    panel.questions.suggested.connect(lambda _s: matched_on.append(threading.current_thread().name))
    feed(service, "主播这个口红多少钱？")
    feed(service, "主播好")  # small talk: no suggestion
    settle(qtbot, panel)
    assert panel.table.rowCount() == 1 and matched_on == ["faq-match"]  # never on the UI thread
    assert panel.table.item(0, 0).text() == "<b>u1</b>: 主播这个口红多少钱？"  # plain text, markup shown as is
    answer = assistant.catalogue.product(LIPSTICK).faq_entry("price")
    assert answer is not None and panel.table.item(0, 1).text() == answer.answer
    assert not sent  # nothing goes out before the host clicks (auto-reply is off)
    qtbot.mouseClick(panel.announce_button(0), Qt.MouseButton.LeftButton)
    assert [a.text for a in sent] == [answer.answer]
    assert answer.answer in panel.status.text() and panel.status.textFormat() == Qt.TextFormat.PlainText
    panel.close_bridge()


def test_flagged_messages_get_no_suggestion_and_unanswered_questions_are_listed(
        qtbot: QtBot, service: InteractionService, assistant: FaqAssistant) -> None:
    panel = FaqPanel(service, assistant)
    qtbot.addWidget(panel)
    feed(service, "傻瓜多少钱")  # banned word: never answered (never even offered)
    settle(qtbot, panel)
    assert panel.table.rowCount() == 0 and panel.questions.offered == 0
    feed(service, "主播是哪里人？")
    feed(service, "主播是哪里人？", user="u2")
    qtbot.waitUntil(lambda: panel.unanswered.count() == 1)
    assert panel.unanswered.item(0).text() == "主播是哪里人？  ×2"
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert panel.unanswered.count() == 0
    panel.close_bridge()


def test_auto_reply_is_off_by_default_then_rate_limited(qtbot: QtBot, service: InteractionService,
                                                        assistant: FaqAssistant) -> None:
    now = [0.0]
    panel = FaqPanel(service, assistant)
    panel.auto_reply = AutoReply(panel._announce_text, per_minute=1, repeat_after_s=60, clock=lambda: now[0])
    qtbot.addWidget(panel)
    panel.on_screen.setCurrentIndex(panel.on_screen.findData(LIPSTICK))
    sent = announcements(service)
    assert not panel.auto.isChecked()
    feed(service, "多少钱")
    settle(qtbot, panel)
    assert sent == []
    panel.auto.setChecked(True)
    feed(service, "多少钱", user="u2")
    feed(service, "多少钱啊", user="u3")  # same answer within the cooldown
    feed(service, "有小样吗", user="u4")  # another answer, but 1 a minute
    settle(qtbot, panel)
    assert len(sent) == 1 and panel.auto_reply.held_back == 2
    now[0] = 61.0
    feed(service, "有小样吗", user="u5")
    settle(qtbot, panel)
    assert len(sent) == 2 and "小样" in sent[1].text
    panel.rate.setValue(10)
    assert panel.auto_reply.per_minute == 10
    panel.close_bridge()


def test_the_danmaku_dock_hosts_the_panel(qtbot: QtBot, service: InteractionService, assistant: FaqAssistant) -> None:
    dock = DanmakuDock(service)
    qtbot.addWidget(dock)
    panel = dock.add_faq_panel(assistant)
    assert dock.findChild(FaqPanel, "faqPanel") is panel
    panel.on_screen.setCurrentIndex(panel.on_screen.findData(LIPSTICK))
    feed(service, "有没有小样")
    settle(qtbot, panel)
    assert dock.model.rowCount() == 1 and panel.table.rowCount() == 1
    dock.close_bridge()
    assert panel.bridge._disconnects == [] and not any(t.name == "faq-match" for t in threading.enumerate())


def test_a_burst_is_sampled_off_the_ui_thread(qtbot: QtBot, service: InteractionService,
                                              assistant: FaqAssistant) -> None:
    panel = FaqPanel(service, assistant)
    qtbot.addWidget(panel)
    # one read of more questions than the queue holds: the oldest are dropped and counted at once
    burst = tuple(service.moderator.check(Danmaku(user=f"u{i}", text="有小样吗")) for i in range(MAX_QUESTIONS + 20))
    service.danmaku_batch.emit(burst)
    assert panel.skipped >= 20
    settle(qtbot, panel)
    assert panel.questions.matched + panel.skipped == MAX_QUESTIONS + 20
    assert len(panel.suggestions) == min(panel.questions.matched, MAX_SUGGESTIONS)
    assert all(s.faq_id == panel.suggestions[0].faq_id for s in panel.suggestions)
    panel.close_bridge()
