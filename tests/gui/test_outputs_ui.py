"""The window runs the show: streaming to the local relay, recording, stats, stream settings and the
keyring, closing while on air. Real engine, real encoders, real WHIP to the embedded relay on
127.0.0.1 (ephemeral ports, so tests never collide)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import keyring
import keyring.backends.fail
import pytest
from gui_helpers import make_collection
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot
from tests_keyring import MemoryKeyring

from studio.outputs.whip_events import OutputStatus
from studio.secrets import SERVICE
from studio.show import Show
from widgets.main_window import MainWindow
from widgets.output_controller import StreamRequest
from widgets.settings_store import SettingsStore

START_S = 60_000  # ms: generous, the machine is shared


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def show_window(qtbot: QtBot, studio_home: Path, qapp_language: None) -> Iterator[Callable[..., MainWindow]]:
    """Windows on fresh shows (local relay and hub on ephemeral ports); stopped and closed after."""
    made: list[tuple[MainWindow, SettingsStore, Show]] = []

    def make(start: bool = True) -> MainWindow:
        show = Show(make_collection(), serve_locally=True, relay_port=0, hub_port=0)
        store = SettingsStore(studio_home)
        store.settings.studio_mode = False
        # not qtbot.addWidget: pytest-qt would close it before this fixture stops the show, and a
        # window on air asks before closing
        window = MainWindow(show.studio, store, show=show)
        window.resize(1280, 800)
        window.show()
        made.append((window, store, show))
        if start:
            window.start_show()
            assert window.binding is not None
            qtbot.waitUntil(lambda: window.binding is not None and window.binding.outputs.running,
                            timeout=START_S)
        return window

    yield make
    for window, store, show in made:
        binding = window.binding
        assert binding is not None
        outputs = binding.outputs
        if outputs.needs_stop:
            outputs.stop_show()
            qtbot.waitUntil(lambda: outputs.show_phase == "stopped", timeout=START_S)  # noqa: B023
        if window.isVisible():
            window.close()
        binding.close()
        window.deleteLater()
        if binding.outputs.show_phase == "idle":
            show.stop()  # built, never started: nothing runs, but release what it holds
        store.close()
    QApplication.processEvents()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_controls_stream_to_the_local_relay_live_then_stop(show_window, qtbot: QtBot) -> None:
    window = show_window()
    controls, binding = window.controls, window.binding
    assert binding is not None
    # where viewers watch, selectable and copyable, and the hub's state
    assert binding.show.urls is not None
    link = binding.link
    assert link.url.text() == binding.show.urls.viewer and link.url.isReadOnly() and link.url.isVisibleTo(window)
    qtbot.mouseClick(link.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == binding.show.urls.viewer
    assert link.hub_text() == "Danmaku hub: running · 0 viewers"
    # the interaction docks arrived with the show's interaction service, the co-host dock with its relay
    assert {"mixer", "danmaku", "votes", "cohost"} <= set(window.docks)

    assert controls.stream.isEnabled() and controls.stream.text() == "Start Streaming"
    qtbot.mouseClick(controls.stream, Qt.MouseButton.LeftButton)
    assert controls.phase("stream") == "starting" and controls.stream.text() == "Starting…"
    assert not controls.stream.isEnabled()
    qtbot.waitUntil(lambda: "LIVE" in controls.status_text("stream"), timeout=START_S)
    assert controls.stream.text() == "Stop Streaming" and controls.stream.isEnabled()
    assert controls.labels["stream"].property("level") == "live"

    # the stats rows fill from the pipeline (encoder, encoded frames, sent and target bitrate, ...)
    stats = window.stats
    qtbot.waitUntil(lambda: stats.values["bitrate"].text() != "—" and stats.values["encoded"].text() != "—",
                    timeout=START_S)
    assert "libx264" in stats.values["encoder"].text() or stats.values["encoder"].text() != "—"
    for key in ("skipped", "nacks", "plis", "keyframes", "dropped", "loss"):
        assert stats.values[key].text() != "—", key
    assert stats.values["skipped"].property("level") in ("ok", "warn", "bad")

    qtbot.mouseClick(controls.stream, Qt.MouseButton.LeftButton)
    assert controls.stream.text() == "Stopping…"
    qtbot.waitUntil(lambda: controls.phase("stream") == "idle", timeout=START_S)
    assert controls.stream.text() == "Start Streaming" and not controls.stream.isChecked()
    assert controls.status_text("stream") == ""
    assert binding.show.pipeline.stream is None
    qtbot.waitUntil(lambda: stats.values["bitrate"].text() == "—", timeout=START_S)


def test_record_from_controls_grows_then_stops_to_a_decodable_file(show_window, qtbot: QtBot,
                                                                   tmp_path: Path) -> None:
    window = show_window()
    window.settings.recording_folder = str(tmp_path / "recordings")
    window.settings.recording_container = "mkv"
    controls = window.controls
    qtbot.mouseClick(controls.record, Qt.MouseButton.LeftButton)
    assert controls.record.text() == "Starting…"
    qtbot.waitUntil(lambda: controls.phase("record") == "active", timeout=START_S)
    path = window.binding.outputs.recording_path if window.binding else None
    assert path is not None and path.parent == tmp_path / "recordings" and path.suffix == ".mkv"
    assert path.name in controls.status_text("record") and "REC 00:00:" in controls.status_text("record")
    qtbot.waitUntil(lambda: path.exists() and path.stat().st_size > 0, timeout=START_S)
    first = path.stat().st_size
    qtbot.waitUntil(lambda: path.stat().st_size > first, timeout=START_S)
    qtbot.waitUntil(lambda: window.stats.values["recording"].text() != "—", timeout=START_S)

    qtbot.mouseClick(controls.record, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controls.phase("record") == "idle", timeout=START_S)
    assert controls.status_text("record").startswith("Saved " + path.name)
    with av.open(str(path)) as container:
        assert container.streams.video and container.streams.audio
        frames = sum(1 for _ in container.decode(video=0))
    assert frames > 0


def test_a_refused_endpoint_fails_with_its_reason_and_a_dead_one_counts_down(show_window, qtbot: QtBot) -> None:
    window = show_window()
    controls, binding = window.controls, window.binding
    assert binding is not None and binding.show.urls is not None
    window.settings.stream_local_relay = False
    # the relay answers 404 for a path it does not serve: WHIP gives up, saying why
    window.settings.stream_url = binding.show.urls.whip.rsplit("/whip/", 1)[0] + "/nowhere"
    qtbot.mouseClick(controls.stream, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controls.status_text("stream").startswith("Failed:"), timeout=START_S)
    assert "404" in controls.status_text("stream")
    assert controls.labels["stream"].property("level") == "bad"
    # the failed output is released: the button is ready for a fresh start, the reason stays
    qtbot.waitUntil(lambda: controls.phase("stream") == "idle", timeout=START_S)
    assert "404" in controls.status_text("stream") and binding.show.pipeline.stream is None

    # nothing listens here: the output retries, counting down visibly
    window.settings.stream_url = f"http://127.0.0.1:{_closed_port()}/whip/live"
    qtbot.mouseClick(controls.stream, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controls.status_text("stream").startswith("Reconnecting in "), timeout=START_S)
    assert " s" in controls.status_text("stream") and controls.phase("stream") == "active"
    state = binding.outputs.last_stream_state
    assert state is not None and state.state is OutputStatus.RECONNECTING and state.retry_in_s
    qtbot.mouseClick(controls.stream, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controls.phase("stream") == "idle", timeout=START_S)


def test_closing_while_live_asks_and_stops_the_show(show_window, qtbot: QtBot, tmp_path: Path) -> None:
    window = show_window()
    binding = window.binding
    assert binding is not None
    window.settings.recording_folder = str(tmp_path)
    qtbot.mouseClick(window.controls.record, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.controls.phase("record") == "active", timeout=START_S)
    path = binding.outputs.recording_path
    assert path is not None

    def answer(button: QMessageBox.StandardButton) -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox) and box.objectName() == "confirmQuit"
        box.button(button).click()

    QTimer.singleShot(0, lambda: answer(QMessageBox.StandardButton.No))
    assert not window.close()
    assert window.isVisible() and binding.outputs.running  # "No" keeps the show on air

    QTimer.singleShot(0, lambda: answer(QMessageBox.StandardButton.Yes))
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=START_S)
    assert binding.outputs.show_phase == "stopped" and binding.closed
    with av.open(str(path)) as container:  # the recording was finalised on the way out
        assert sum(1 for _ in container.decode(video=0)) > 0


def test_stream_settings_keep_the_token_in_the_keyring_never_in_the_settings_file(
        show_window, qtbot: QtBot, memory_keyring: MemoryKeyring, studio_home: Path) -> None:
    window = show_window(start=False)
    dialog = window.open_settings()
    dialog.pages_list.setCurrentRow(dialog._page_titles.index("Stream"))
    assert dialog.local_relay.isChecked() and not dialog.stream_url.isEnabled()
    dialog.local_relay.setChecked(False)
    assert dialog.stream_error.text() == "Enter the WHIP URL, or use the local relay."
    assert not dialog.apply()
    dialog.stream_url.setText("ftp://example.com/whip")
    assert "http://" in dialog.stream_error.text()
    url = "https://live.example.com/whip/room-7"
    dialog.stream_url.setText(url)
    dialog.min_kbps.setValue(5000)
    dialog.max_kbps.setValue(3000)
    assert dialog.stream_error.text() == "The minimum bitrate must not exceed the maximum."
    assert not dialog.apply()
    dialog.min_kbps.setValue(1500)
    dialog.stream_token.setText("sk-live-SECRET-4242")
    dialog.container.setCurrentIndex(dialog.container.findData("mp4"))
    dialog.recording_folder.setText("/tmp/shows")
    assert dialog.apply()
    assert memory_keyring.store == {(SERVICE, f"whip:{url}"): "sk-live-SECRET-4242"}
    assert dialog.stream_token.text() == "" and "keyring" in dialog.token_status.text()
    dialog.accept()

    s = window.settings
    assert (s.stream_local_relay, s.stream_url, s.stream_min_kbps, s.stream_max_kbps) == (False, url, 1500, 3000)
    assert (s.recording_container, s.recording_folder) == ("mp4", "/tmp/shows")
    assert window.store.wait_saved(1, 10)
    text = (studio_home / "ui-settings.json").read_text(encoding="utf-8")
    assert "sk-live-SECRET-4242" not in text
    saved = json.loads(text)
    assert saved["stream_url"] == url and saved["stream_max_kbps"] == 3000
    # the worker resolves the stored token for this endpoint
    assert window.binding is not None
    request = window.binding.stream_request()
    assert request == StreamRequest(url, 1500, 3000, None)
    target = window.binding.outputs.resolve_target(request)
    assert target is not None and target.token is not None and target.token.reveal() == "sk-live-SECRET-4242"
    assert "SECRET" not in repr(target)


def test_without_a_keyring_the_token_serves_this_session_only(show_window, qtbot: QtBot, no_keyring: None,
                                                              studio_home: Path) -> None:
    window = show_window(start=False)
    dialog = window.open_settings()
    dialog.local_relay.setChecked(False)
    url = "https://live.example.com/whip/room-9"
    dialog.stream_url.setText(url)
    dialog.stream_token.setText("sk-session-ONLY-777")
    assert dialog.apply()  # the settings still apply
    assert "no OS keyring" in dialog.token_status.text()
    assert "this session only" in dialog.token_status.text()
    dialog.accept()
    assert window.binding is not None
    request = window.binding.stream_request()
    assert request.session_token is not None and request.session_token.reveal() == "sk-session-ONLY-777"
    target = window.binding.outputs.resolve_target(request)
    assert target is not None and target.token == request.session_token
    assert window.store.wait_saved(1, 10)
    assert "sk-session-ONLY-777" not in (studio_home / "ui-settings.json").read_text(encoding="utf-8")
    # a stored token cannot be read without a keyring either: the stream goes without one
    other = StreamRequest("https://other.example.com/whip", 1000, 6000, None)
    target = window.binding.outputs.resolve_target(other)
    assert target is not None and target.token is None


def test_disk_low_and_encoder_fallback_are_shown_as_warnings(show_window, qtbot: QtBot, tmp_path: Path) -> None:
    window = show_window()
    binding, controls = window.binding, window.controls
    assert binding is not None
    window.settings.recording_folder = str(tmp_path)
    qtbot.mouseClick(controls.record, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controls.phase("record") == "active", timeout=START_S)
    recorder = binding.show.pipeline.recorder
    assert recorder is not None
    # the recorder checks free space every second: make this disk count as nearly full
    recorder.warn_free_bytes = 10**18
    qtbot.waitUntil(lambda: controls.status_text("warning").startswith("Recording: low disk space:"),
                    timeout=START_S)
    assert controls.labels["warning"].property("level") == "warn"
    assert controls.phase("record") == "active"  # a warning, the recording goes on

    # a hardware encoder giving up (none exists here, so the engine's event is raised by hand)
    from encoders.video import FallbackEvent

    event = FallbackEvent("h264_nvenc", "libx264", "no CUDA device", mid_stream=True, pts=90)
    emitter = threading.Thread(target=lambda: binding.show.pipeline.fallbacks.emit(event), name="enc-video")
    emitter.start()
    emitter.join()
    qtbot.waitUntil(lambda: controls.status_text("warning").startswith("Encoder fallback: "), timeout=START_S)
    assert "h264_nvenc" in controls.status_text("warning") and "libx264" in controls.status_text("warning")
    assert window.statusBar().currentMessage() == event.message


def test_the_running_show_switches_language_live(show_window, qtbot: QtBot) -> None:
    window = show_window()
    binding = window.binding
    assert binding is not None
    qtbot.mouseClick(window.controls.stream, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "LIVE" in window.controls.status_text("stream"), timeout=START_S)
    dialog = window.open_settings()
    dialog.language.setCurrentIndex(dialog.language.findData("zh_CN"))
    assert dialog.apply()
    dialog.reject()
    assert window.controls.stream.text() == "停止推流" and window.controls.status_text("stream") == "● 直播中"
    assert window.docks["mixer"].windowTitle() == "音频混音器" and binding.mixer.add_tone.text() == "添加测试音"
    assert binding.link.hub_text() == "弹幕服务：运行中 · 0 位观众" and binding.link.copy_button.text() == "复制"
    assert window.stats.names["nacks"].text() == "重传请求（NACK）"


def test_going_live_lists_advertising_law_words_and_the_director_decides(show_window, qtbot: QtBot) -> None:
    window = show_window()
    binding = window.binding
    assert binding is not None
    col = binding.show.collection
    with col.lock:
        col.add_source("slogan", "text", {"text": "全网最低价 国家级品质"})

    seen: list[str] = []

    def answer(button: QMessageBox.StandardButton) -> None:
        # the pre-live check runs on a worker, then its dialog asks (window-modal, no nested loop)
        qtbot.waitUntil(lambda: binding.prelive.dialog is not None, timeout=START_S)
        box = binding.prelive.dialog
        assert isinstance(box, QMessageBox) and box.objectName() == "confirmPreLive" and box.isVisible()
        seen.append(box.text())
        box.button(button).click()

    qtbot.mouseClick(window.controls.stream, Qt.MouseButton.LeftButton)
    answer(QMessageBox.StandardButton.No)
    assert seen and "全网最低" in seen[0] and "国家级" in seen[0]
    assert binding.outputs.phases["stream"] == "idle"  # "Cancel": not on air
    assert window.controls.phase("stream") == "idle" and window.controls.stream.isEnabled()

    qtbot.mouseClick(window.controls.stream, Qt.MouseButton.LeftButton)
    answer(QMessageBox.StandardButton.Yes)  # "Go live anyway"
    qtbot.waitUntil(lambda: binding.outputs.phases["stream"] == "active", timeout=START_S)
    binding.outputs.stop_streaming()
    qtbot.waitUntil(lambda: binding.outputs.phases["stream"] == "idle", timeout=START_S)
