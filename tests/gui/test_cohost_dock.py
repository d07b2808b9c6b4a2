"""The Co-host dock (pytest-qt) on the real co-host model, net loop and guest stage.

Invite (link, copy, revoke), a viewer's request (plain-text name, accept, decline), a guest on the
stage (slot, on air / mute through the model to the mixer channel, kick frees the slot), a layout in
one command, and the zh_CN texts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote

import pytest
from PySide6.QtWidgets import QApplication, QListWidget
from pytestqt.qtbot import QtBot

from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.audio.mixer import AudioMixer
from studio.engine import Studio
from studio.guests.stage import GuestStage, channel_name
from studio.guests.synthetic import InProcessGuestLink
from studio.net.loop import NetLoop
from studio.services.guest_link import GuestEndReason
from studio.services.guests import CoHost, Guest, GuestBook, ViewerInvite
from widgets.cohost_dock import CohostDock
from widgets.i18n import translator

PAGE = "http://127.0.0.1:8889/guest/live"


@dataclass
class Rig:
    net: NetLoop
    book: GuestBook
    cohost: CoHost
    studio: Studio
    mixer: AudioMixer
    stage: GuestStage
    dock: CohostDock


class FakeSession:
    """The relay's side of a guest, as the book sees it: ``end`` reports back as the relay would."""

    def __init__(self, book: GuestBook, link: InProcessGuestLink) -> None:
        self.book, self.link = book, link

    def state_changed(self, guest: Guest) -> None:
        pass

    def end(self, reason: GuestEndReason, detail: str = "") -> None:
        self.link.end(reason)
        self.book.ended(self.link.guest_id, reason, detail)


@pytest.fixture
def rig(qtbot: QtBot) -> Iterator[Rig]:
    col = SceneCollection("t", VideoFormat(1280, 720, 30))
    col.add_source("cam", "color", {"color": "#FF202020", "width": 1280, "height": 720})
    col.add_scene("Show").add_item(SceneItem("cam"))
    studio = Studio(col)
    mixer = AudioMixer()
    stage = GuestStage(studio, mixer)
    net = NetLoop()
    net.start()
    book = GuestBook()
    cohost = CoHost(book, net, PAGE)
    stage.bind_cohost(cohost)
    dock = CohostDock(cohost, stage, studio)
    qtbot.addWidget(dock)
    dock.show()
    yield Rig(net, book, cohost, studio, mixer, stage, dock)
    dock.close_bridge()
    net.run(_end_all(book))
    stage.close()
    net.stop()
    studio.stop()
    studio.sources.close()
    translator().set_language("en")


async def _end_all(book: GuestBook) -> None:
    book.end_all()


def rows(view: QListWidget) -> list[str]:
    return [view.item(i).text() for i in range(view.count())]


def select(view: QListWidget, text_part: str) -> None:
    for i in range(view.count()):
        if text_part in view.item(i).text():
            view.setCurrentRow(i)
            return
    raise AssertionError(f"no row with {text_part!r} in {rows(view)}")


def admit(rig: Rig, token: str, name_link: InProcessGuestLink) -> None:
    async def run() -> None:
        rig.book.admit(token, FakeSession(rig.book, name_link), name_link, name_link.has_video)

    rig.net.run(run())


def test_invite_copy_revoke(qtbot: QtBot, rig: Rig) -> None:
    dock = rig.dock
    dock.invite_name.setText("导演的朋友")
    dock.create_button.click()
    url = dock.link.text()
    assert url.startswith(PAGE + "#invite=") and dock.copy_button.isEnabled()
    dock.copy_button.click()
    assert QApplication.clipboard().text() == url
    qtbot.waitUntil(lambda: rows(dock.invite_list) == ["导演的朋友 · Unused"])
    select(dock.invite_list, "导演的朋友")
    dock.revoke_button.click()
    qtbot.waitUntil(lambda: rows(dock.invite_list) == ["导演的朋友 · Revoked"])


def test_request_names_are_plain_text_accept_and_decline(qtbot: QtBot, rig: Rig) -> None:
    invited: list[ViewerInvite] = []
    rig.cohost.viewer_invited.connect(invited.append)
    rig.cohost.add_request("viewer-1", "<b>小红</b>")
    rig.cohost.add_request("viewer-2", "<img src=x>")
    dock = rig.dock
    qtbot.waitUntil(lambda: rows(dock.request_list) == ["<b>小红</b>", "<img src=x>"])  # shown as typed
    select(dock.request_list, "小红")
    dock.accept_button.click()
    qtbot.waitUntil(lambda: rows(dock.request_list) == ["<img src=x>"])
    qtbot.waitUntil(lambda: len(invited) == 1)
    assert invited[0].viewer == "viewer-1" and invited[0].url.startswith(PAGE + "#invite=")
    qtbot.waitUntil(lambda: any("<b>小红</b>" in r for r in rows(dock.invite_list)))
    select(dock.request_list, "img")
    dock.decline_button.click()
    qtbot.waitUntil(lambda: rows(dock.request_list) == [])


def test_guest_on_air_mute_kick_and_layout(qtbot: QtBot, rig: Rig) -> None:
    dock = rig.dock
    dock.invite_name.setText("Lin")
    dock.create_button.click()
    token = unquote(dock.link.text().split("#invite=", 1)[1])
    link = InProcessGuestLink("g-1", "Lin")
    admit(rig, token, link)
    qtbot.waitUntil(lambda: rows(dock.guest_list) == ["Guest 1 · Lin · Waiting"])
    name = channel_name(1)
    assert rig.mixer.state(name).muted  # the green room is not on air
    select(dock.guest_list, "Lin")
    dock.on_air_button.click()
    qtbot.waitUntil(lambda: rows(dock.guest_list) == ["Guest 1 · Lin · On air"])
    qtbot.waitUntil(lambda: not rig.mixer.state(name).muted)
    dock.mute_button.click()
    qtbot.waitUntil(lambda: rows(dock.guest_list) == ["Guest 1 · Lin · Muted by host"])
    assert rig.mixer.state(name).muted

    dock.layout_choice.setCurrentIndex(dock.layout_choice.findData("pip"))
    dock.apply_layout_button.click()
    rig.studio.render_offline(0)
    with rig.studio.collection.lock:
        sources = [it.source for it in rig.studio.collection.scene("Show").items]
    assert sources == ["cam", "Guest 1"]

    dock.kick_button.click()
    qtbot.waitUntil(lambda: rows(dock.guest_list) == ["— · Lin · Ended (kicked)"])
    assert name not in [s.name for s in rig.mixer.inputs]
    assert rig.stage.feeds[1].status.state == "waiting"
    dock.clear_button.click()  # the ended guest and the used invite leave the lists
    qtbot.waitUntil(lambda: rows(dock.guest_list) == [] and rows(dock.invite_list) == [])


def test_chinese_texts(qtbot: QtBot, rig: Rig) -> None:
    translator().set_language("zh_CN")
    assert rig.dock.create_button.text() == "创建邀请"
    assert rig.dock.kick_button.text() == "踢出"
    assert rig.dock.clear_button.text() == "清除已结束"
    assert rig.dock.layout_choice.itemText(0) == "左右分屏"
