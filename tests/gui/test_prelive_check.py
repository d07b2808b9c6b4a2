"""The pre-live check in the window: starting a rundown or the stream first opens every clip the show
can reach (on a worker thread) and lists what is wrong in the same dialog as the Advertising-Law
words; the director goes live anyway or cancels. Real clips, real engine, real widgets offscreen."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot
from test_cut_preview import make_clip
from test_outputs_ui import START_S, show_window  # noqa: F401 - the window-on-a-show fixture

from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.engine import Studio
from studio.rundown import (
    BranchPoint,
    DramaSegment,
    FramePolls,
    LiveSegment,
    Rundown,
    RundownExecutor,
    VotePoint,
    load_rundown,
    save_rundown,
)
from widgets.main_window import MainWindow
from widgets.prelive_check import PreLiveCheck
from widgets.rundown_dock import RundownDock

WAIT_MS = 30_000


def damaged(path: Path) -> str:
    """A clip that opens (its header is intact) but whose pictures are all zeros."""
    make_clip(path, 20)
    data = bytearray(path.read_bytes())
    start, moov = data.find(b"mdat") + 4, data.find(b"moov") - 4
    assert 0 < start < moov
    data[start:moov] = bytes(moov - start)
    path.write_bytes(bytes(data))
    return str(path)


def collection(episode: str) -> SceneCollection:
    col = SceneCollection("t", VideoFormat(1280, 720, 25))
    col.add_source("drama", "media", {"path": episode})
    col.add_source("host", "color", {"color": "#FF00FF00", "width": 1280, "height": 720})
    col.add_scene("Drama").add_item(SceneItem("drama"))
    col.add_scene("Live").add_item(SceneItem("host"))
    return col


def write_show(folder: Path, ending_a: str, ending_b: str, episode: str) -> Path:
    r = Rundown("周五", drama_source="drama", drama_scene="Drama")
    ep = DramaSegment("第1集", episode, 0.0, 1.0, segment_id="ep")
    ep.add_marker(VotePoint(0.2, "她应该买吗?", ("买", "不买"), 10.0, id="v"))
    ep.add_marker(BranchPoint(1.0, "v", ("a", "b"), id="br"))
    r.add_segment(ep)
    r.add_segment(DramaSegment("结局A", ending_a, segment_id="a", then="live"))
    r.add_segment(DramaSegment("结局B", ending_b, segment_id="b", then="live"))
    r.add_segment(LiveSegment("带货", "Live", 0.4, segment_id="live"))
    path = folder / "show.rundown.json"
    save_rundown(r, path)
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("prelive")
    return {"episode": make_clip(d / "ep.mp4", 40), "good": make_clip(d / "a.mp4", 20),
            "missing": str(d / "结局A.mp4"), "damaged": damaged(d / "b.mp4")}


@pytest.fixture
def dock_on_studio(qtbot: QtBot, clips: dict[str, str]) -> Iterator[Callable[[Path], RundownDock]]:
    studio = Studio(collection(clips["episode"]))
    running: list[RundownExecutor] = []
    checks: list[PreLiveCheck] = []

    def start(path: Path) -> RundownExecutor:
        executor = RundownExecutor(studio, load_rundown(path), FramePolls(), offline=True)
        executor.start()
        running.append(executor)
        return executor

    def make(path: Path) -> RundownDock:
        host = QWidget()
        qtbot.addWidget(host)
        check = PreLiveCheck(studio.collection, host)
        checks.append(check)
        dock = RundownDock(start=start, stop=lambda: running.pop().stop(), path=path, before_start=check.run)
        qtbot.addWidget(dock)
        dock.show()
        return dock

    yield make
    for check in checks:
        check.close()
    for executor in running:
        executor.stop()
    studio.stop()


def the_dialog(qtbot: QtBot, check: PreLiveCheck) -> QMessageBox:
    qtbot.waitUntil(lambda: check.dialog is not None and check.dialog.isVisible(), timeout=WAIT_MS)
    assert check.dialog is not None
    return check.dialog


def test_rundown_start_lists_a_missing_and_a_damaged_branch_clip(
    qtbot: QtBot, tmp_path: Path, clips: dict[str, str], dock_on_studio: Callable[[Path], RundownDock]
) -> None:
    dock = dock_on_studio(write_show(tmp_path, clips["missing"], clips["damaged"], clips["episode"]))
    check = dock._before_start.__self__  # type: ignore[union-attr]
    assert isinstance(check, PreLiveCheck)
    qtbot.mouseClick(dock.start_button, Qt.MouseButton.LeftButton)
    # the click returned before any clip was opened: the check runs on a worker, the UI waits for it
    assert check.dialog is None and not dock.start_button.isEnabled()
    assert dock.message_label.text() == "Checking every clip the show can reach…"
    box = the_dialog(qtbot, check)
    assert box.objectName() == "confirmPreLive" and box.textFormat() == Qt.TextFormat.PlainText
    text = box.text()
    assert "Files the show cannot play (found before going live):" in text
    assert f"• segment a (结局A): {clips['missing']}: file not found" in text
    assert f"• segment b (结局B): {clips['damaged']}: no decodable picture" in text
    assert box.button(QMessageBox.StandardButton.Yes).text() == "Go live anyway"
    assert box.button(QMessageBox.StandardButton.No).text() == "Cancel"

    box.button(QMessageBox.StandardButton.No).click()
    assert dock.executor is None and dock.message_label.text() == "Not started"
    assert dock.start_button.isEnabled()

    qtbot.mouseClick(dock.start_button, Qt.MouseButton.LeftButton)
    the_dialog(qtbot, check).button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: dock.executor is not None, timeout=WAIT_MS)  # the director went live anyway


def test_nothing_found_starts_without_asking(
    qtbot: QtBot, tmp_path: Path, clips: dict[str, str], dock_on_studio: Callable[[Path], RundownDock]
) -> None:
    dock = dock_on_studio(write_show(tmp_path, clips["good"], clips["good"], clips["episode"]))
    check = dock._before_start.__self__  # type: ignore[union-attr]
    found: list[object] = []
    check.checked.connect(found.append)
    qtbot.mouseClick(dock.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dock.executor is not None, timeout=WAIT_MS)
    assert found and not found[0] and check.dialog is None
    assert not [t for t in threading.enumerate() if t.name == "prelive-check"]


def test_going_live_checks_the_rundown_chosen_in_the_dock(
    show_window: Callable[..., MainWindow], qtbot: QtBot, tmp_path: Path, clips: dict[str, str]  # noqa: F811
) -> None:
    window = show_window()
    binding = window.binding
    assert binding is not None
    qtbot.waitUntil(lambda: "rundown" in window.docks, timeout=START_S)
    dock = window.docks["rundown"]
    assert isinstance(dock, RundownDock)
    dock.path = write_show(tmp_path, clips["missing"], clips["damaged"], clips["episode"])

    qtbot.mouseClick(window.controls.stream, Qt.MouseButton.LeftButton)
    assert window.controls.status_text("stream") == "Checking the show before going live…"
    assert not window.controls.stream.isEnabled()  # no second click while it checks
    box = the_dialog(qtbot, binding.prelive)
    assert f"{clips['missing']}: file not found" in box.text()
    assert f"{clips['damaged']}: no decodable picture" in box.text()
    box.button(QMessageBox.StandardButton.No).click()
    assert binding.outputs.phases["stream"] == "idle" and window.controls.phase("stream") == "idle"
    assert window.controls.status_text("stream") == ""
