"""The whole loop on one machine, as `make run` shows it: the studio streams its program to the
local relay, the viewer page plays it in real Chromium, and what the viewer does on the page — a
danmaku, a vote — comes back into the studio's dock, its poll and its program picture."""

from __future__ import annotations

import json
from typing import Any

from pytestqt.qtbot import QtBot

from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.outputs.whip_events import OutputStatus
from studio.show import Show
from widgets.danmaku_dock import DanmakuDock

WAIT_MS = 60_000


def collection() -> SceneCollection:
    col = SceneCollection("loop", VideoFormat(1280, 720, 30))
    col.add_source("bg", "color", {"color": "#FF000000", "width": 1280, "height": 720})
    col.add_source("danmaku", "danmaku_overlay", {"width": 1280, "height": 720, "duration": 4.0})
    col.add_source("poll", "poll_overlay", {})
    scene = col.add_scene("Live")
    scene.add_item(SceneItem("bg"))
    scene.add_item(SceneItem("poll", x=40, y=200))
    scene.add_item(SceneItem("danmaku"))
    return col


def bright_pixels(show: Show, rows: slice, cols: slice) -> int:
    frame, _ = show.studio.program.latest()
    assert frame is not None
    return int((frame.pixels[rows, cols, :3] > 128).sum())


def test_viewer_page_danmaku_and_vote_reach_the_studio(qtbot: QtBot, browser: Any, studio_home: object) -> None:
    show = Show(collection(), relay_port=0, hub_port=0)
    dock = None
    try:
        urls = show.start()
        assert urls is not None and show.interaction is not None
        dock = DanmakuDock(show.interaction)
        qtbot.addWidget(dock)
        show.start_streaming()
        qtbot.waitUntil(lambda: show.pipeline.stream is not None
                        and show.pipeline.stream.state.state is OutputStatus.LIVE, timeout=WAIT_MS)

        page = browser.new_page()
        page.goto(urls.viewer)
        page.wait_for_function("document.getElementById('video').videoWidth === 1280", timeout=WAIT_MS)
        page.wait_for_function("document.getElementById('hub-status').dataset.state === 'open'",
                               timeout=WAIT_MS)

        # a danmaku typed on the page: in the dock, and drawn into the program picture
        page.fill("#danmaku-text", "<b>好看</b> 链接在哪里？")
        page.click("#danmaku-form button[type=submit]")
        qtbot.waitUntil(lambda: dock.model.rowCount() == 1, timeout=WAIT_MS)
        text = dock.model.index(0, 2).data()
        assert text == "<b>好看</b> 链接在哪里？"  # shown as typed, never as markup
        qtbot.waitUntil(lambda: bright_pixels(show, slice(0, 430), slice(0, 1280)) > 200, timeout=WAIT_MS)

        # the director opens a poll; the page shows it as buttons; a click is a counted vote
        show.interaction.open_poll("她应该买吗?", ["买", "不买"], 60)
        page.wait_for_selector("#polls button.poll-option[data-option='1']", timeout=WAIT_MS)
        page.click("#polls button.poll-option[data-option='1']")
        qtbot.waitUntil(lambda: show.interaction is not None and show.interaction.poll is not None
                        and show.interaction.poll.counts[1] == 1, timeout=WAIT_MS)
        page.wait_for_function("window.viewerState.poll && window.viewerState.poll.counts[1] === 1",
                               timeout=WAIT_MS)
        assert page.is_disabled("#polls button.poll-option[data-option='0']")  # one vote per viewer
        show.interaction.close_poll()
        page.close()
    finally:
        if dock is not None:
            dock.close_bridge()
        show.stop()
    # the show log keeps the poll and its result
    assert show.showlog is not None
    records = [json.loads(line) for line in show.showlog.path.read_text("utf-8").splitlines()]
    closed = [r for r in records if "closed" in r["kind"]]
    assert closed and closed[-1]["counts"] == [0, 1]
