"""The whole loop on one machine: a viewer's danmaku on the local hub reaches the program picture."""

from __future__ import annotations

import asyncio
import json
import threading

from websockets.asyncio.client import connect

from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.show import Show


def test_viewer_danmaku_reaches_the_program(studio_home: object) -> None:
    col = SceneCollection("show", VideoFormat(1280, 720, 30))
    col.add_source("bg", "color", {"color": "#FF000000", "width": 1280, "height": 720})
    col.add_source("danmaku", "danmaku_overlay", {"width": 1280, "height": 720, "duration": 4.0})
    scene = col.add_scene("Live")
    scene.add_item(SceneItem("bg"))
    scene.add_item(SceneItem("danmaku"))
    show = Show(col, relay_port=0, hub_port=0)
    received = threading.Event()
    try:
        urls = show.start()
        assert urls is not None and show.interaction is not None
        show.interaction.danmaku.connect(lambda event: received.set())

        async def viewer() -> None:
            async with connect(urls.hub_viewer + "?nick=tester") as ws:
                await ws.send(json.dumps({"type": "danmaku", "text": "好看！链接在哪里？"}))
                await asyncio.to_thread(received.wait, 30)

        asyncio.run(viewer())
        assert received.is_set()
        version = 0
        lit = False
        for _ in range(300):  # frames, not seconds: wait for the comment to be drawn
            frame, version = show.studio.program.wait_newer(version, timeout_s=5)
            if frame is not None and (frame.pixels[: int(720 * 0.6), :, :3] > 128).sum() > 200:
                lit = True
                break
        assert lit, "the danmaku never appeared in the program picture"
    finally:
        show.stop()
