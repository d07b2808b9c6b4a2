"""The window on a disk that fills up while recording and streaming: one clear status line says
the recording stopped (no traceback, no error dialog), the stream stays live, the file plays.
The disk is a real 256 KiB tmpfs; the show, encoders, relay and WHIP are real."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.show import Show
from widgets.main_window import MainWindow
from widgets.settings_store import SettingsStore

START_S = 60_000  # ms: generous, the machine is shared


def moving_collection() -> SceneCollection:
    """A picture that changes every frame, so the recording grows steadily."""
    col = SceneCollection("moving", VideoFormat(1280, 720, 30))
    col.add_source("pattern", "test_pattern", {"width": 1280, "height": 720})
    col.add_scene("Show").add_item(SceneItem("pattern"))
    return col


@pytest.fixture
def window(qtbot: QtBot, studio_home: Path, qapp_language: None) -> Iterator[MainWindow]:
    show = Show(moving_collection(), serve_locally=True, relay_port=0, hub_port=0)
    store = SettingsStore(studio_home)
    store.settings.studio_mode = False
    win = MainWindow(show.studio, store, show=show)
    win.resize(1280, 800)
    win.show()
    win.start_show()
    binding = win.binding
    assert binding is not None
    try:
        qtbot.waitUntil(lambda: binding.outputs.running, timeout=START_S)
        yield win
    finally:
        outputs = binding.outputs
        if outputs.needs_stop:
            outputs.stop_show()
            qtbot.waitUntil(lambda: outputs.show_phase == "stopped", timeout=START_S)
        if win.isVisible():
            win.close()
        binding.close()
        win.deleteLater()
        store.close()


def test_full_disk_stops_the_recording_with_one_status_line_and_the_stream_stays_live(
        window: MainWindow, qtbot: QtBot, tiny_filesystem: Path) -> None:
    controls, binding = window.controls, window.binding
    assert binding is not None
    window.settings.recording_folder = str(tiny_filesystem)
    window.settings.recording_container = "mkv"
    qtbot.mouseClick(controls.stream, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "LIVE" in controls.status_text("stream"), timeout=START_S)
    qtbot.mouseClick(controls.record, Qt.MouseButton.LeftButton)  # far under 1 GB free: it starts
    qtbot.waitUntil(lambda: controls.phase("record") == "active", timeout=START_S)
    path = binding.outputs.recording_path
    assert path is not None and path.parent == tiny_filesystem

    qtbot.waitUntil(lambda: "the disk is full" in controls.status_text("warning"), timeout=START_S)
    warning = controls.status_text("warning")
    assert warning.startswith("Recording: the disk is full: recording stopped after "), warning
    assert f"{path} plays up to there" in warning
    assert controls.labels["warning"].property("level") == "bad"
    qtbot.waitUntil(lambda: controls.phase("record") == "idle", timeout=START_S)  # released, can start again
    assert controls.status_text("record").startswith("Saved " + path.name)
    # the stream and the show went on
    assert "LIVE" in controls.status_text("stream") and controls.phase("stream") == "active"
    assert binding.show.pipeline.stream is not None and binding.outputs.running
    frames = 0
    with av.open(str(path)) as container:
        try:
            for _ in container.decode(video=0):
                frames += 1
        except av.FFmpegError:
            pass  # the packet the disk cut short
    assert frames >= 30
