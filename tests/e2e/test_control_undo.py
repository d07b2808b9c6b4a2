"""An edit made over the remote control (a real websocket client) is an undo step like any other."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_control_protocol import PASSWORD, identify, make_show, request, url
from websockets.sync.client import connect

from scenes.model import ItemChanged, ModelEvent
from studio import commands as cmd
from studio.control.server import ControlConfig
from studio.secrets import Secret
from studio.show import Show


@pytest.fixture
def show(studio_home: Path) -> Iterator[Show]:
    s = make_show(ControlConfig(port=0, password=Secret(PASSWORD)))
    s.start()
    try:
        yield s
    finally:
        s.stop()


def test_a_remote_transform_is_undone_and_redone(show: Show) -> None:
    col = show.studio.collection
    item = col.scene("A").items[0]
    changed = threading.Event()

    def on_change(event: ModelEvent) -> None:
        if isinstance(event, ItemChanged) and event.item_id == item.id:
            changed.set()

    disconnect = col.changed.connect(on_change)
    try:
        with connect(url(show)) as ws:
            identify(ws)
            listed = request(ws, "GetSceneItemList", {"sceneName": "A"})["responseData"]["sceneItems"]
            reply = request(ws, "SetSceneItemTransform", {"sceneName": "A", "sceneItemId": listed[0]["sceneItemId"],
                                                           "sceneItemTransform": {"positionX": 40, "rotation": 30}})
            assert reply["requestStatus"]["code"] == 100, reply
        assert changed.wait(10)
        assert (item.x, item.rotation) == (40.0, 30.0)
        changed.clear()
        show.studio.submit(cmd.Undo())
        assert changed.wait(10)
        assert (item.x, item.rotation) == (0.0, 0.0)
        changed.clear()
        show.studio.submit(cmd.Redo())
        assert changed.wait(10)
        assert (item.x, item.rotation) == (40.0, 30.0)
    finally:
        disconnect()
