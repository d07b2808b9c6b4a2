"""The Danmaku dock (pytest-qt), and end to end in-process: a viewer on the embedded hub (real
websockets on 127.0.0.1, port 0) sends danmaku -> the dock lists them -> the overlay in the
program frame changes (flagged ones only in the dock)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from websockets.asyncio.client import connect

from scenes.model import SceneCollection, SceneItem, VideoFormat
from scenes.sources.danmaku_overlay import DanmakuOverlaySource
from studio.engine import Studio
from studio.interaction.adapters import EmbeddedHubAdapter
from studio.interaction.messages import Danmaku
from studio.interaction.moderation import BANNED_WORD, Moderator
from studio.interaction.overlays import OverlayBinding
from studio.interaction.service import InteractionService
from widgets.danmaku_dock import FLAGGED_BACKGROUND, FLAGS_ROLE, REMOVED_ROLE, DanmakuDock, user_colour

TIMEOUT_MS = 10_000


@pytest.fixture
def service() -> InteractionService:
    return InteractionService(moderator=Moderator(["傻瓜"]))  # not started: events are fed by hand


@pytest.fixture
def dock(qtbot: QtBot, service: InteractionService) -> Iterator[DanmakuDock]:
    widget = DanmakuDock(service)
    qtbot.addWidget(widget)
    yield widget
    widget.close_bridge()


def moderated(service: InteractionService, message: Danmaku) -> None:
    """As the service delivers it: checked by the moderator, in a batch (one network read)."""
    service.danmaku_batch.emit((service.moderator.check(message),))


def feed(service: InteractionService, text: str, user: str = "u1", nick: str = "") -> Danmaku:
    message = Danmaku(user=user, nick=nick, text=text)
    moderated(service, message)
    return message


def texts(dock: DanmakuDock) -> list[str]:
    return [dock.proxy.index(r, 2).data() for r in range(dock.proxy.rowCount())]


def test_markup_is_shown_literally_with_user_colour(dock: DanmakuDock, service: InteractionService) -> None:
    feed(service, "<b>x</b>", nick="<i>nick</i>")
    assert texts(dock) == ["<b>x</b>"]
    assert dock.model.item(0, 1).text() == "<i>nick</i>"
    assert dock.model.item(0, 1).foreground().color() == user_colour("u1")
    assert user_colour("u1") == user_colour("u1") and user_colour("u1") != user_colour("u2")
    for label in (dock.status, dock.summary):
        assert label.textFormat() == Qt.TextFormat.PlainText


def test_flagged_messages_are_highlighted_and_filterable(dock: DanmakuDock, service: InteractionService) -> None:
    feed(service, "主播好")
    feed(service, "你是傻瓜", user="u2")
    assert texts(dock) == ["主播好", "你是傻瓜"]
    assert dock.model.item(1, 0).data(FLAGS_ROLE) == (BANNED_WORD,)
    assert dock.model.item(1, 2).background().color() == FLAGGED_BACKGROUND
    assert "傻瓜" in dock.model.item(1, 2).toolTip()
    dock.kind.setCurrentIndex(dock.kind.findData("flagged"))
    assert texts(dock) == ["你是傻瓜"]
    dock.kind.setCurrentIndex(dock.kind.findData("shown"))
    assert texts(dock) == ["主播好"]
    dock.kind.setCurrentIndex(dock.kind.findData("all"))
    dock.search.setText("主播")
    assert texts(dock) == ["主播好"]
    dock.search.setText("U2")  # users too, case-insensitive
    assert texts(dock) == ["你是傻瓜"]


def test_pause_holds_messages_until_resumed(dock: DanmakuDock, service: InteractionService) -> None:
    feed(service, "一")
    dock.pause.setChecked(True)
    feed(service, "二")
    feed(service, "三")
    assert texts(dock) == ["一"] and "2" in dock.summary.text()
    dock.pause.setChecked(False)
    assert texts(dock) == ["一", "二", "三"]


def test_rows_are_capped(qtbot: QtBot, service: InteractionService) -> None:
    dock = DanmakuDock(service, max_rows=10)
    qtbot.addWidget(dock)
    for i in range(15):
        feed(service, f"第{i}条")
    assert dock.model.rowCount() == 10 and texts(dock)[0] == "第5条"
    dock.close_bridge()
    with pytest.raises(ValueError, match="max_rows"):
        DanmakuDock(service, max_rows=1)


def test_moderation_actions(qtbot: QtBot, dock: DanmakuDock, service: InteractionService) -> None:
    moderator = service.moderator
    first = feed(service, "欢迎", user="fan")
    feed(service, "刷屏", user="spammer")
    assert not dock.remove_button.isEnabled()
    dock.remove_button.click()  # nothing selected: disabled, nothing happens
    dock.select_row(0)
    assert dock.pin_button.isEnabled()
    dock.pin_button.click()
    assert moderator.pinned is not None and moderator.pinned.id == first.id
    assert dock.model.item(0, 2).font().bold() and dock.unpin_button.isEnabled()
    dock.unpin_button.click()
    assert moderator.pinned is None and not dock.model.item(0, 2).font().bold()
    dock.remove_button.click()
    assert dock.model.item(0, 0).data(REMOVED_ROLE) and dock.model.item(0, 2).font().strikeOut()
    dock.select_row(1)
    dock.block_button.click()
    assert moderator.blocked_users == ("spammer",) and "spammer" in dock.status.text()
    assert not service.moderator.check(Danmaku(user="spammer", text="again")).visible

    dock.slow_seconds.setValue(7)
    dock.slow.setChecked(True)
    assert moderator.slow_mode_s == 7.0
    dock.slow.setChecked(False)
    assert moderator.slow_mode_s == 0.0
    moderator.set_slow_mode(12)  # changed elsewhere: the controls follow
    assert dock.slow.isChecked() and dock.slow_seconds.value() == 12

    dialog = dock.edit_banned_words()
    assert dialog.words() == ["傻瓜"]
    dialog.editor.setPlainText("傻瓜\n" + "x" * 60)
    dialog.accept()  # too long: reported in the dialog, nothing saved
    assert dialog.isVisible() and "longer" in dialog.error.text()
    assert moderator.banned_words == ("傻瓜",)
    dialog.editor.setPlainText("傻瓜\n笨蛋\n")
    dialog.accept()
    assert not dialog.isVisible() and moderator.banned_words == ("傻瓜", "笨蛋")


def test_pin_of_a_forgotten_message_is_reported(dock: DanmakuDock, service: InteractionService) -> None:
    message = Danmaku(user="u", text="旧消息")
    moderated(service, message)
    service.moderator.remove(message.id)  # the moderator forgets removed messages
    dock.select_row(0)
    dock.pin_button.click()
    assert "no recent danmaku" in dock.status.text()


# ---- end to end ----


def overlay_studio() -> Studio:
    col = SceneCollection("e2e", VideoFormat(1280, 720, 30))
    col.add_source("bg", "color", {"color": "#FF202020", "width": 1280, "height": 720})
    col.add_source("danmaku", "danmaku_overlay", {"width": 1280, "height": 720, "font_size": 32, "duration": 4.0})
    scene = col.add_scene("Live")
    scene.add_item(SceneItem("bg"))
    scene.add_item(SceneItem("danmaku"))
    return Studio(col)


async def send_as_viewer(url: str, texts_to_send: list[str]) -> None:
    async with connect(url + "?nick=alice", proxy=None) as viewer:
        welcome = json.loads(await asyncio.wait_for(viewer.recv(), 10))
        assert welcome["type"] == "welcome"
        for i, text in enumerate(texts_to_send):
            await viewer.send(json.dumps({"type": "danmaku", "text": text, "colour": "#FFE14D", "ref": f"d{i}"}))
        acked = 0
        while acked < len(texts_to_send):  # the hub acks each accepted message
            frame = json.loads(await asyncio.wait_for(viewer.recv(), 10))
            acked += frame["type"] == "ack"


def test_viewer_danmaku_reaches_dock_and_program_frame(qtbot: QtBot) -> None:
    adapter = EmbeddedHubAdapter()
    service = InteractionService(adapter, moderator=Moderator(["傻瓜"]))
    studio = overlay_studio()
    dock = DanmakuDock(service)
    qtbot.addWidget(dock)
    binding = OverlayBinding(service, studio)
    try:
        before = studio.render_offline(0).pixels.copy()  # creates the overlay source
        overlay = studio.sources["danmaku"]
        assert isinstance(overlay, DanmakuOverlaySource)
        with service:
            service.wait_ready()
            asyncio.run(send_as_viewer(adapter.hub.viewer_url, ["<b>x</b> 主播好😀", "你是傻瓜"]))
            qtbot.waitUntil(lambda: dock.model.rowCount() == 2, timeout=TIMEOUT_MS)
        assert texts(dock) == ["<b>x</b> 主播好😀", "你是傻瓜"]
        assert dock.model.item(0, 1).text() == "alice"
        assert not dock.model.item(0, 0).data(FLAGS_ROLE) and dock.model.item(1, 0).data(FLAGS_ROLE)
        assert binding.forwarded == 1 and binding.withheld == 1
        assert overlay.stats().queued == 1  # only the accepted one; the flagged one never got there
        frame = None
        for i in range(1, 31):  # one second of program time: the comment scrolls in
            frame = studio.render_offline(i)
        assert frame is not None and overlay.stats().on_screen == 1
        area = int(720 * 0.6)  # the scrolling area: the top 60 % by default
        changed = np.abs(frame.pixels[:area].astype(int) - before[:area].astype(int)).max(axis=2) > 40
        assert changed.sum() > 200  # the comment's pixels are in the program
        assert np.array_equal(frame.pixels[area:], before[area:])  # and nothing below the area
    finally:
        binding.close()
        dock.close_bridge()
        studio.stop()


def test_block_covers_the_address_and_shows_in_the_dock(dock: DanmakuDock, service: InteractionService) -> None:
    moderated(service, Danmaku(user="p1", nick="troll", address="a-home", text="spam"))
    moderated(service, Danmaku(user="p9", address="a-cafe", text="hello"))
    dock.select_row(0)
    dock.block_button.click()
    assert dock.blocked_list.count() == 1 and "troll" in dock.blocked_list.item(0).text()
    assert "a-home" in dock.blocked_list.item(0).text() and "troll" in dock.status.text()
    assert dock.model.item(0, 0).data(FLAGS_ROLE) == ("blocked_user",)  # listed rows are marked too
    assert not dock.model.item(1, 0).data(FLAGS_ROLE)
    # the same viewer back with a new identity from the same address is flagged on arrival
    moderated(service, Danmaku(user="p2", address="a-home", text="again"))
    assert dock.model.item(2, 0).data(FLAGS_ROLE) == ("blocked_user",)
    assert "1 blocked" in dock.summary.text()
    assert not dock.unblock_button.isEnabled()
    dock.blocked_list.setCurrentRow(0)
    assert dock.unblock_button.isEnabled()
    dock.unblock_button.click()
    assert dock.blocked_list.count() == 0 and service.moderator.blocked == ()
    assert not dock.model.item(0, 0).data(FLAGS_ROLE)
