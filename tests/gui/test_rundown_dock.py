"""The director's rundown dock and the render dialog, bound to a real executor and real renders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot
from test_cut_preview import make_clip

from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.collections import save_collection
from studio.engine import Studio
from studio.rundown import (
    BranchPoint,
    DramaSegment,
    FramePolls,
    LiveSegment,
    ProductMoment,
    Rundown,
    RundownExecutor,
    VotePoint,
    save_rundown,
)
from widgets.render_dialog import RenderDialog
from widgets.rundown_dock import RundownDock

WAIT_MS = 30_000


@pytest.fixture(scope="module")
def show_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("show")
    ep, a, b = (make_clip(d / f"{n}.mp4", 25, g) for n, g in (("ep", 80), ("a", 30), ("b", 200)))
    col = SceneCollection("t", VideoFormat(1280, 720, 25))
    col.add_source("drama", "media", {"path": ep})
    col.add_source("card", "color", {"color": "#FFFF0000", "width": 100, "height": 100})
    col.add_scene("Drama").add_item(SceneItem("drama"))
    col.scene("Drama").add_item(SceneItem("card", x=1000, y=500))
    col.add_scene("Live").add_item(SceneItem("card"))
    save_collection(col, d / "collection.json")
    r = Rundown("周五", drama_source="drama", drama_scene="Drama", collection=str(d / "collection.json"))
    seg = DramaSegment("第1集", ep, 0.0, 1.0, segment_id="ep")
    seg.add_marker(VotePoint(0.2, "她应该买吗?", ("买", "不买"), 10.0, id="v"))
    seg.add_marker(ProductMoment(0.6, "Drama", "card", 0.2, id="p"))
    seg.add_marker(BranchPoint(1.0, "v", ("a", "b"), id="br"))
    r.add_segment(seg)
    r.add_segment(DramaSegment("结局A", a, segment_id="a", then="live"))
    r.add_segment(DramaSegment("结局B", b, segment_id="b", then="live"))
    r.add_segment(LiveSegment("带货", "Live", 0.4, segment_id="live"))
    save_rundown(r, d / "show.rundown.json")
    return d


@pytest.fixture
def running(show_dir: Path) -> Iterator[tuple[Studio, RundownExecutor]]:
    from studio.collections import load_collection
    from studio.rundown import load_rundown

    studio = Studio(load_collection(show_dir / "collection.json"))
    executor = RundownExecutor(studio, load_rundown(show_dir / "show.rundown.json"), FramePolls(), offline=True)
    executor.start()
    yield studio, executor
    executor.stop()
    studio.stop()


def test_dock_shows_segment_countdowns_and_products(qtbot: QtBot, running: tuple[Studio, RundownExecutor]) -> None:
    studio, executor = running
    dock = RundownDock(executor)
    qtbot.addWidget(dock)
    dock.show()
    for i in range(3):
        studio.render_offline(i)
    dock.refresh()
    assert dock.segment_label.text() == "Now: 第1集 (drama)"
    assert dock.next_label.text() == "Next marker: vote: 她应该买吗? in 0.1 s"
    assert dock.branch_label.text() == "Branch in 0.9 s"
    assert dock.products_label.text() == "Products: card (Drama) in 0.5 s"
    assert dock.next_button.isEnabled()
    # the director's override: pick ending B's segment and press Next
    dock.target.setCurrentIndex(dock.target.findData("b"))
    qtbot.mouseClick(dock.next_button, Qt.MouseButton.LeftButton)
    studio.render_offline(3)
    dock.refresh()
    assert executor.history == ["ep", "b"]
    assert dock.segment_label.text() == "Now: 结局B (drama)" and dock.branch_label.text() == "Then: live"
    dock.close()


def test_render_dialog_renders_and_cancels(qtbot: QtBot, show_dir: Path, tmp_path: Path) -> None:
    dialog = RenderDialog(show_dir / "show.rundown.json", "B", tmp_path / "out.mp4")
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.finished_render, timeout=WAIT_MS) as blocker:
        pass
    result = blocker.args[0]
    assert result.output == tmp_path / "out.mp4" and result.output.exists()
    assert result.branches == (("br", "不买"),) and dialog.value() == result.frames == 25 + 25 + 10
    assert dialog.wait()

    cancelled = RenderDialog(show_dir / "show.rundown.json", "A", tmp_path / "cancel.mp4")
    qtbot.addWidget(cancelled)
    cancelled.show()
    qtbot.mouseClick(cancelled.findChild(QPushButton), Qt.MouseButton.LeftButton)  # the user cancels
    with qtbot.waitSignal(cancelled.finished_render, timeout=WAIT_MS) as blocker:
        pass
    assert blocker.args[0].cancelled and not (tmp_path / "cancel.mp4").exists()
    assert cancelled.wait()

    bad = RenderDialog(show_dir / "show.rundown.json", "A,B", tmp_path / "bad.mp4")
    qtbot.addWidget(bad)
    with qtbot.waitSignal(bad.failed, timeout=WAIT_MS) as blocker:
        pass
    assert "passes only 1 branch point" in blocker.args[0]
    assert bad.wait()


def test_dock_opens_starts_and_stops_a_rundown_off_the_ui_thread(qtbot: QtBot, show_dir: Path) -> None:
    from studio.collections import load_collection
    from studio.rundown import load_rundown

    studio = Studio(load_collection(show_dir / "collection.json"))
    running: list[RundownExecutor] = []
    starter_threads: list[str] = []

    def start(path: Path) -> RundownExecutor:
        import threading

        starter_threads.append(threading.current_thread().name)
        executor = RundownExecutor(studio, load_rundown(path), FramePolls(), offline=True)
        executor.start()
        running.append(executor)
        return executor

    def stop() -> None:
        running.pop().stop()

    dock = RundownDock(start=start, stop=stop, path=show_dir / "show.rundown.json")
    qtbot.addWidget(dock)
    dock.show()
    try:
        assert dock.file_label.text() == "show.rundown.json"
        assert dock.start_button.text() == "Start show" and dock.start_button.isEnabled()
        qtbot.mouseClick(dock.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dock.executor is not None, timeout=WAIT_MS)
        assert starter_threads == ["rundown-start"]  # the files were read off the UI thread
        studio.render_offline(0)
        dock.refresh()
        assert dock.start_button.text() == "Stop show"
        qtbot.mouseClick(dock.start_button, Qt.MouseButton.LeftButton)
        assert dock.executor is None and not running
        assert dock.segment_label.text() == "No show running"
    finally:
        for executor in running:
            executor.stop()
        studio.stop()
