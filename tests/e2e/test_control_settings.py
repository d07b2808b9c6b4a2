"""The window's Remote Control settings page and the window following remote changes: the
password from the keyring is shown with a Copy button, new settings restart the server at once,
and a scene switched by a remote tool shows in the window straight away."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from websockets.sync.client import connect

from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.control.auth import auth_response
from studio.control.password import ensure_password
from studio.show import Show
from widgets.i18n import translator
from widgets.main_window import MainWindow
from widgets.settings_dialog import ControlValues, SettingsDialog
from widgets.settings_store import SettingsStore, control_config


@pytest.fixture
def show_and_window(qtbot: Any, studio_home: Path, memory_keyring: object) -> Iterator[tuple[Show, MainWindow]]:
    col = SceneCollection("control", VideoFormat(1280, 720, 30))
    col.add_source("bg", "color", {"color": "#FF202020", "width": 1280, "height": 720})
    for name in ("A", "B"):
        col.add_scene(name).add_item(SceneItem("bg"))
    store = SettingsStore(studio_home)
    store.settings.control_port = free_port()  # tests run side by side: not 4455
    show = Show(col, serve_locally=False, studio_mode=True, control=control_config(store.settings))
    show.start()
    window = MainWindow(show.studio, store, show=show)
    qtbot.addWidget(window)
    try:
        yield show, window
    finally:
        window.close()
        show.stop()
        store.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _identify(ws: Any, password: str) -> None:
    hello = json.loads(ws.recv(10))
    auth = hello["d"]["authentication"]
    ws.send(json.dumps({"op": 1, "d": {"rpcVersion": 1, "eventSubscriptions": 0,
                                       "authentication": auth_response(password, auth["salt"], auth["challenge"])}}))
    assert json.loads(ws.recv(10))["op"] == 2


def test_settings_page_shows_the_keyring_password_with_a_copy_button(qtbot: Any, studio_home: Path,
                                                                   memory_keyring: object) -> None:
    translator().set_language("en")
    password = ensure_password().reveal()  # as the window's start makes it, kept in the keyring
    dialog = SettingsDialog("en", VideoFormat(), VideoFormat(), {}, control=ControlValues(port=4460))
    qtbot.addWidget(dialog)
    assert dialog.control_password.text() == password and dialog.control_password.isReadOnly()
    dialog.copy_password.click()
    assert QApplication.clipboard().text() == password
    assert dialog.control_address.text() == "ws://127.0.0.1:4460"
    dialog.control_lan.setChecked(True)
    dialog.control_auth.setChecked(False)
    assert "keep a password" in dialog.control_note.text()
    assert not dialog.control_password.isEnabled()
    assert dialog.values().control == ControlValues(enabled=True, port=4460, lan=True, auth=False)
    translator().set_language("zh_CN")
    try:
        assert dialog.control_lan.text() == "允许网络中的其他电脑连接"
    finally:
        translator().set_language("en")


def test_new_settings_restart_the_server_and_remote_switches_show_in_the_window(
        qtbot: Any, show_and_window: tuple[Show, MainWindow]) -> None:
    show, window = show_and_window
    assert show.control is not None
    password = ensure_password().reveal()
    with connect(show.control.url) as ws:
        _identify(ws, password)
        ws.send(json.dumps({"op": 6, "d": {"requestType": "SetCurrentPreviewScene", "requestId": "1",
                                           "requestData": {"sceneName": "B"}}}))
        assert json.loads(ws.recv(10))["d"]["requestStatus"]["code"] == 100
        qtbot.waitUntil(lambda: window.state.scene == "B", timeout=10_000)  # the window follows at once

    old_port = show.control.port
    new_port = free_port()
    window._apply_control(ControlValues(enabled=True, port=new_port, lan=False, auth=False))
    assert show.control is not None and show.control.port == new_port != old_port
    with connect(show.control.url) as open_ws:  # no password now
        assert "authentication" not in json.loads(open_ws.recv(10))["d"]
    window._apply_control(ControlValues(enabled=False, port=new_port, lan=False, auth=False))
    assert show.control is None
