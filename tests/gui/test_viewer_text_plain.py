"""Viewer text is never rich text: a markup danmaku and nick sent through the real hub (websockets
on 127.0.0.1) into a real InteractionService, then every string the danmaku and votes docks show
(model display and tooltip roles, labels, widget tooltips) is checked, and no image may load."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from PySide6.QtCore import QModelIndex, QUrl
from PySide6.QtGui import QImage, Qt, QTextDocument, QTextImageFormat
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QWidget
from pytestqt.qtbot import QtBot
from websockets.asyncio.client import connect

from studio.interaction.adapters import EmbeddedHubAdapter
from studio.interaction.hub import HubConfig
from studio.interaction.service import InteractionService
from widgets.danmaku_dock import DanmakuDock
from widgets.plain_text import tooltip
from widgets.votes_dock import VotesDock

TIMEOUT_MS = 10_000


class RecordingDocument(QTextDocument):
    """Renders HTML the way a tooltip does and records every resource it tries to load."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []

    def loadResource(self, kind: int, name: QUrl) -> Any:  # noqa: N802
        self.loaded.append(name.toString())
        return super().loadResource(kind, name)


def check_shown_as_text(where: str, shown: str) -> None:
    """``shown`` is displayed by Qt's rich-text engine when it looks like HTML: then it must be
    escaped (the rendered text equals the escaped source's text) and must load nothing."""
    if not shown or not Qt.mightBeRichText(shown):
        return
    doc = RecordingDocument()
    doc.setHtml(shown)
    doc.size()  # lay out: images are fetched here
    assert doc.loaded == [], f"{where}: rich text loads {doc.loaded}"
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            assert not isinstance(it.fragment().charFormat(), QTextImageFormat)
            assert not it.fragment().charFormat().isImageFormat(), f"{where}: has an image"
            it += 1
        block = block.next()


def walk(widget: QWidget) -> list[tuple[str, str]]:
    """Every viewer-visible string in a widget tree that Qt might render: labels, tooltips, and
    item views' tooltip roles (display roles are drawn plainly by the default delegate)."""
    found: list[tuple[str, str]] = []
    for child in [widget, *widget.findChildren(QWidget)]:
        name = f"{type(child).__name__}({child.objectName()})"
        found.append((name + ".toolTip", child.toolTip()))
        if isinstance(child, QLabel) and child.textFormat() != Qt.TextFormat.PlainText:
            found.append((name + ".text", child.text()))
        if isinstance(child, QAbstractItemView) and not isinstance(child, QHeaderView) and child.model():
            # Qt's own delegates draw the display role as plain text; one of ours would need a look
            assert type(child.itemDelegate()).__module__.startswith("PySide6"), f"{name}: a custom delegate"
            model = child.model()
            for row in range(model.rowCount(QModelIndex())):
                col = 0
                while (index := model.index(row, col)).isValid():  # columnCount is private on list models
                    col += 1
                    found.append((f"{name}[{row},{col}].tooltip", str(index.data(Qt.ItemDataRole.ToolTipRole) or "")))
    return found


@pytest.fixture
def probe_image(tmp_path: Path) -> Path:
    path = tmp_path / "probe.png"
    image = QImage(4, 4, QImage.Format.Format_RGB32)
    image.fill(0xFF0000)
    assert image.save(str(path))
    return path


@pytest.fixture
def hub_service() -> Iterator[tuple[InteractionService, EmbeddedHubAdapter]]:
    adapter = EmbeddedHubAdapter(HubConfig())
    service = InteractionService(adapter)
    yield service, adapter
    service.stop()


async def send_markup(url: str, nick: str, texts: list[str], poll_vote: bool = False) -> dict[str, Any]:
    async with connect(url + "?nick=" + quote(nick), proxy=None) as viewer:
        welcome = json.loads(await asyncio.wait_for(viewer.recv(), 10))
        for i, text in enumerate(texts):
            await viewer.send(json.dumps({"type": "danmaku", "text": text, "ref": f"d{i}"}))
        acked = 0
        while acked < len(texts):
            frame = json.loads(await asyncio.wait_for(viewer.recv(), 10))
            assert frame["type"] != "error", frame
            acked += frame["type"] == "ack"
        return dict(welcome)


def test_markup_from_a_viewer_is_plain_everywhere(qtbot: QtBot, probe_image: Path,
                                                   hub_service: tuple[InteractionService, EmbeddedHubAdapter]) -> None:
    service, adapter = hub_service
    image = f'<img src="{probe_image.as_uri()}">'
    nick = f"<img src={probe_image.name}>"[:32]
    texts = [f"{image} hi", "<b>bold</b><a href='x'>link</a>", "line one\n<img src=x>"[:100].replace("\n", " ")]
    danmaku, votes = DanmakuDock(service), VotesDock(service)
    for dock in (danmaku, votes):
        qtbot.addWidget(dock)
    try:
        service.start()
        service.wait_ready()
        service.open_poll(image[:100], ["<b>A</b>", image[:40]], 30)
        asyncio.run(send_markup(adapter.hub.viewer_url, nick, texts))
        qtbot.waitUntil(lambda: danmaku.model.rowCount() == len(texts), timeout=TIMEOUT_MS)
        # every place the director acts on viewer text: flagged, pinned, blocked, removed
        service.moderator.add_banned_word("bold")
        danmaku.select_row(0)
        danmaku.pin_button.click()
        danmaku.block_button.click()
        qtbot.waitUntil(lambda: danmaku.blocked_list.count() == 1, timeout=TIMEOUT_MS)
        asyncio.run(send_markup(adapter.hub.viewer_url, nick, ["<b>bold</b> again"]))
        qtbot.waitUntil(lambda: danmaku.model.rowCount() == len(texts) + 1, timeout=TIMEOUT_MS)
        assert danmaku.model.item(0, 2).text() == texts[0]  # shown literally
        assert danmaku.model.item(0, 1).text() == nick
        rendered = QTextDocument()
        rendered.setHtml(danmaku.model.item(0, 2).toolTip())
        assert rendered.toPlainText() == texts[0]  # the tooltip shows the markup as text
        strings = walk(danmaku) + walk(votes)
        assert any(image in s for _, s in strings) or any("&lt;img" in s for _, s in strings)
        for where, shown in strings:
            check_shown_as_text(where, shown)
        for label in [*danmaku.findChildren(QLabel), *votes.findChildren(QLabel)]:
            if any(t in label.text() for t in (nick, image, "<b>")):
                assert label.textFormat() == Qt.TextFormat.PlainText, label.objectName()
    finally:
        danmaku.close_bridge()
        votes.close_bridge()


def test_tooltip_helper_escapes_and_keeps_lines() -> None:
    shown = tooltip('<img src="file:///dev/zero">\nsecond & <b>line</b>')
    doc = RecordingDocument()
    doc.setHtml(shown)
    doc.size()
    assert doc.loaded == []
    assert doc.toPlainText().splitlines() == ['<img src="file:///dev/zero">', "second & <b>line</b>"]
    assert tooltip("") == ""
