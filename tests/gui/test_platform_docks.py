"""The danmaku and votes docks with platform chat: a source tag per message, a source filter,
super chats listed and pinnable, bursts sampled (super chats always listed), votes by source."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from studio.interaction.messages import Danmaku, SuperChat
from studio.interaction.moderation import Moderator
from studio.interaction.service import InteractionService
from widgets.danmaku_dock import PLATFORM_ROLE, SAMPLE_PER_FLUSH, SOURCE_COLUMN, DanmakuDock
from widgets.votes_dock import VotesDock


@pytest.fixture
def service() -> InteractionService:
    return InteractionService(moderator=Moderator())  # not started: messages are dispatched by hand


@pytest.fixture
def dock(qtbot: QtBot, service: InteractionService) -> Iterator[DanmakuDock]:
    widget = DanmakuDock(service)
    qtbot.addWidget(widget)
    yield widget
    widget.close_bridge()


def texts(dock: DanmakuDock) -> list[str]:
    return [dock.proxy.index(r, 2).data() for r in range(dock.proxy.rowCount())]


def test_source_tag_filter_and_super_chat(dock: DanmakuDock, service: InteractionService) -> None:
    service._dispatch(Danmaku(user="p0123456789abcdef", text="来自页面"))
    service._dispatch(Danmaku(user="bilibili:7", nick="小红", platform="bilibili", text="来自B站"))
    service._dispatch(SuperChat(user="bilibili:8", platform="bilibili", text="加油", value=30.0))
    service._dispatch(Danmaku(user="douyin:open-1", platform="douyin", text="来自抖音"))
    assert texts(dock) == ["来自页面", "来自B站", "[SC ¥30] 加油", "来自抖音"]
    assert [dock.model.item(r, SOURCE_COLUMN).text() for r in range(4)] == \
        ["Viewer page", "Bilibili", "Bilibili", "Douyin"]
    assert dock.model.item(1, 0).data(PLATFORM_ROLE) == "bilibili"
    dock.platform.setCurrentIndex(dock.platform.findData("bilibili"))
    assert texts(dock) == ["来自B站", "[SC ¥30] 加油"]
    dock.platform.setCurrentIndex(dock.platform.findData("douyin"))
    assert texts(dock) == ["来自抖音"]
    dock.platform.setCurrentIndex(0)
    # a super chat can be pinned like any danmaku, and counts with the gifts
    dock.select_row(2)
    dock.pin_selected()
    assert service.moderator.pinned is not None and service.moderator.pinned.text == "加油"
    counters = service.counters()
    assert counters.super_chats == 1 and counters.gift_value == 30.0
    # a platform user is blocked as (platform, user id): the same id on another platform is not
    dock.select_row(1)
    dock.block_selected()
    assert service.moderator.blocked_by("bilibili:7") is not None
    assert service.moderator.blocked_by("douyin:7") is None


def test_bursts_are_sampled_but_super_chats_are_always_listed(qtbot: QtBot, dock: DanmakuDock,
                                                              service: InteractionService) -> None:
    for i in range(500):
        service._dispatch(Danmaku(user=f"bilibili:{i}", platform="bilibili", text=f"刷屏{i}"))
    service._dispatch(SuperChat(user="bilibili:9999", platform="bilibili", text="请看我", value=50.0))
    qtbot.waitUntil(lambda: not dock._burst, timeout=10_000)
    listed = texts(dock)
    assert len(listed) <= 2 * SAMPLE_PER_FLUSH + 1 and "[SC ¥50] 请看我" in listed
    assert dock.sampled_out == 501 - len(listed)
    assert f"+{dock.sampled_out}" in dock.summary.text()
    assert service.counters().danmaku == 501  # every message was still moderated and counted



def test_a_network_read_arrives_as_one_batch_and_is_sampled(qtbot: QtBot, dock: DanmakuDock,
                                                             service: InteractionService) -> None:
    """One read of a busy room (300 danmaku, a super chat among them) crosses to the UI once; the
    dock lists a sample of it on the next flush, the super chat always."""
    events = [service.moderator.check(Danmaku(user=f"bilibili:{i}", platform="bilibili", text=f"弹幕{i}"))
              for i in range(300)]
    events.insert(150, service.moderator.check(SuperChat(user="bilibili:1", platform="bilibili", text="看我",
                                                         value=30.0)))
    small = [service.moderator.check(Danmaku(user="bilibili:x", platform="bilibili", text="安静的时候"))]
    dock.add_events(small)  # a quiet read is listed at once
    assert texts(dock) == ["安静的时候"]
    dock.add_events(events)
    assert texts(dock) == ["安静的时候"]  # a burst waits for the flush
    qtbot.waitUntil(lambda: not dock._burst, timeout=10_000)
    listed = texts(dock)[1:]
    assert len(listed) == SAMPLE_PER_FLUSH and "[SC ¥30] 看我" in listed
    assert dock.sampled_out == 301 - SAMPLE_PER_FLUSH
    order = [int(t[2:]) for t in listed if t.startswith("弹幕")]
    assert order == sorted(order) and order[-1] - order[0] > 200  # spread over the read, in order

def test_votes_dock_shows_the_tally_by_source(qtbot: QtBot, service: InteractionService) -> None:
    dock = VotesDock(service)
    qtbot.addWidget(dock)
    poll = service.open_poll("她应该买吗?", ("买", "不买"), 60.0)
    service._dispatch(Danmaku(user="bilibili:1", platform="bilibili", text="2"))
    service._dispatch(Danmaku(user="bilibili:2", platform="bilibili", text="不买"))
    service._dispatch(Danmaku(user="bilibili:2", platform="bilibili", text="1"))  # one vote per user
    service._dispatch(Danmaku(user="douyin:x", platform="douyin", text="Ａ"))
    assert poll.counts == (1, 2)
    qtbot.waitUntil(lambda: "Bilibili: 2" in dock.sources.text(), timeout=10_000)
    assert "Douyin: 1 (买 1 · 不买 0)" in dock.sources.text()
    dock.close_bridge()


def test_platform_chat_settings_page(qtbot: QtBot, memory_keyring: object, studio_home: object) -> None:
    from scenes.model import VideoFormat
    from studio.interaction.chat_sources import DOUYIN_SECRET_NAME, bilibili_key_name
    from studio.secrets import get_token
    from widgets.chat_settings import ChatValues, chat_adapters_for
    from widgets.settings_dialog import SettingsDialog
    from widgets.settings_store import UISettings, chat_specs

    video = VideoFormat(1280, 720, 30)
    dialog = SettingsDialog("en", video, video, {}, chat=ChatValues(0, "", 0))
    qtbot.addWidget(dialog)
    applied: list[object] = []
    dialog.applied.connect(applied.append)
    page = dialog.chat_page
    page.room.setValue(21452505)
    page.url.setText("http://wrong")
    assert not dialog.apply() and "ws://" in page.error.text()
    page.url.setText("ws://127.0.0.1:9/sub")
    page.key.setText("room-key")
    page.port.setValue(8891)
    page.secret.setText("app-secret")
    assert dialog.apply()
    chat = applied[-1].chat  # type: ignore[attr-defined]
    assert chat == ChatValues(21452505, "ws://127.0.0.1:9/sub", 8891)
    assert get_token(bilibili_key_name(21452505)).reveal() == "room-key"  # type: ignore[union-attr]
    assert get_token(DOUYIN_SECRET_NAME).reveal() == "app-secret"  # type: ignore[union-attr]
    assert page.key.text() == "" and page.secret.text() == ""  # never shown again
    settings = UISettings()
    chat.store_into(settings)
    settings.validate()
    assert chat_specs(settings) == ["bilibili:21452505?url=ws://127.0.0.1:9/sub", "douyin-push:8891"]
    adapters, problem = chat_adapters_for(settings)
    assert [a.name for a in adapters] == ["bilibili:21452505", "douyin-push:8891"] and problem == ""
    settings.chat_bilibili_url = "http://x"
    with pytest.raises(ValueError, match="chat_bilibili_url"):
        settings.validate()
