"""The producer's cut preview with pytest-qt: keys (I/O, M, J/K/L, arrows), mouse scrubbing, the
thumbnail strip and waveform from the worker, and a branch path preview. Real clips, real decoding."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from studio.rundown import BranchPoint, DramaSegment, ProductMoment, Rundown, VotePoint
from widgets.cut_preview import CutPreview
from widgets.timeline import timecode

FPS = 25
WAIT_MS = 20_000


def make_clip(path: Path, frames: int = 50, grey: int = 80) -> str:
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=FPS)
        v.width, v.height, v.pix_fmt = 160, 120, "yuv420p"
        v.options = {"g": "10", "preset": "ultrafast"}
        a = out.add_stream("aac", rate=48_000)
        a.layout = "stereo"
        written = 0
        for i in range(frames):
            img = np.full((120, 160, 3), grey, np.uint8)
            img[:, : (i * 160) // frames] = 255  # a bar that grows: every frame differs
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts = i
            for p in v.encode(f):
                out.mux(p)
            while written < (i + 1) * 48_000 // FPS:
                t = (np.arange(1024) + written) / 48_000
                s = (0.4 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
                af = av.AudioFrame.from_ndarray(np.stack([s, s]), format="fltp", layout="stereo")
                af.sample_rate, af.pts = 48_000, written
                written += 1024
                for p in a.encode(af):
                    out.mux(p)
        for p in v.encode():
            out.mux(p)
        for p in a.encode():
            out.mux(p)
    return str(path)


@pytest.fixture
def preview(qtbot: QtBot, tmp_path: Path) -> CutPreview:
    r = Rundown("t", drama_source="drama", drama_scene="Drama")
    r.add_segment(DramaSegment("episode", make_clip(tmp_path / "ep.mp4"), segment_id="ep"))
    r.add_segment(DramaSegment("A", make_clip(tmp_path / "a.mp4", 20, 30), segment_id="a"))
    r.add_segment(DramaSegment("B", make_clip(tmp_path / "b.mp4", 20, 200), segment_id="b"))
    widget = CutPreview(r, "ep", audio=False)
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    widget.show()
    qtbot.waitUntil(lambda: widget.info is not None, timeout=WAIT_MS)
    return widget


def _seek_by_mouse(qtbot: QtBot, preview: CutPreview, seconds: float) -> float:
    x = round(preview.timeline.x_of(seconds))
    qtbot.mouseClick(preview.timeline, Qt.MouseButton.LeftButton, pos=QPoint(x, 40))
    target = preview.timeline.seconds_at(x)
    qtbot.waitUntil(lambda: abs(preview.player.position - target) < 1e-6, timeout=WAIT_MS)
    return target


def test_overview_is_computed_off_the_ui_thread(preview: CutPreview) -> None:
    assert preview.info is not None and preview.info.frames == 50
    assert preview.timeline.thumbnail_count == 12
    assert preview.timeline.duration == pytest.approx(2.0)
    assert preview.audio_label.text().startswith("silent")  # no output device: noted, not an error
    preview.shutdown()


def test_scrub_in_out_and_frame_steps(qtbot: QtBot, preview: CutPreview) -> None:
    seg = preview.segment
    assert seg is not None
    at = _seek_by_mouse(qtbot, preview, 0.4)
    assert not preview.player.playing
    qtbot.keyClick(preview, Qt.Key.Key_I)
    assert seg.in_s == pytest.approx(round(at * FPS) / FPS)
    before = preview.player.position
    qtbot.keyClick(preview, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: preview.player.position == pytest.approx(before + 1 / FPS), timeout=WAIT_MS)
    qtbot.keyClick(preview, Qt.Key.Key_Left)
    qtbot.keyClick(preview, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: preview.player.position == pytest.approx(before - 1 / FPS), timeout=WAIT_MS)
    out = _seek_by_mouse(qtbot, preview, 1.6)
    qtbot.keyClick(preview, Qt.Key.Key_O)
    assert seg.out_s == pytest.approx(round(out * FPS) / FPS)
    assert preview.timeline.in_s == seg.in_s and preview.timeline.out_s == seg.out_s
    _seek_by_mouse(qtbot, preview, 0.2)  # before the in point: an out point here is refused, shown
    qtbot.keyClick(preview, Qt.Key.Key_O)
    assert seg.out_s == pytest.approx(round(out * FPS) / FPS)
    assert "must be after the in point" in preview.status.text()
    qtbot.waitUntil(lambda: "00:00:00:05" in preview.timecode.text(), timeout=WAIT_MS)
    assert timecode(1.6, FPS) == "00:00:01:15"
    preview.shutdown()


def test_markers_with_m_of_the_chosen_type(qtbot: QtBot, preview: CutPreview) -> None:
    seg = preview.segment
    assert seg is not None
    _seek_by_mouse(qtbot, preview, 0.2)
    preview.marker_kind.setCurrentIndex(preview.marker_kind.findData("vote"))
    qtbot.keyClick(preview, Qt.Key.Key_M)
    _seek_by_mouse(qtbot, preview, 0.8)
    preview.marker_kind.setCurrentIndex(preview.marker_kind.findData("product"))
    qtbot.keyClick(preview, Qt.Key.Key_M)
    _seek_by_mouse(qtbot, preview, 1.8)
    preview.marker_kind.setCurrentIndex(preview.marker_kind.findData("branch"))
    qtbot.keyClick(preview, Qt.Key.Key_M)
    kinds = [(type(m), round(m.at_s * FPS)) for m in seg.markers]
    assert [k for k, _ in kinds] == [VotePoint, ProductMoment, BranchPoint]
    assert [round(preview.timeline.seconds_at(round(preview.timeline.x_of(t))) * FPS) for t in (0.2, 0.8, 1.8)] == \
        [f for _, f in kinds]
    branch = seg.branch
    assert branch is not None and branch.targets == ("a", "b")
    assert [m[1] for m in preview.timeline.markers] == ["vote", "product", "branch"]
    assert preview.branch_option.count() == 2
    preview.shutdown()


def test_jkl_shuttle_and_space(qtbot: QtBot, preview: CutPreview) -> None:
    p = preview.player
    qtbot.keyClick(preview, Qt.Key.Key_L)
    assert p.rate == 1.0
    qtbot.waitUntil(lambda: p.position > 0.2, timeout=WAIT_MS)  # it plays
    qtbot.keyClick(preview, Qt.Key.Key_L)
    assert p.rate == 2.0
    qtbot.keyClick(preview, Qt.Key.Key_K)
    assert p.rate == 0.0 and not p.playing
    held = p.position
    qtbot.keyClick(preview, Qt.Key.Key_J)
    assert p.rate == -1.0
    qtbot.waitUntil(lambda: p.position < held, timeout=WAIT_MS)  # it steps backwards
    qtbot.keyClick(preview, Qt.Key.Key_Space)  # space stops any shuttle ...
    assert p.rate == 0.0
    qtbot.keyClick(preview, Qt.Key.Key_Space)  # ... and plays from a stop
    assert p.rate == 1.0
    preview.shutdown()


def test_preview_branch_plays_the_chosen_ending(qtbot: QtBot, preview: CutPreview) -> None:
    seg = preview.segment
    assert seg is not None and preview.rundown is not None
    seg.add_marker(VotePoint(0.0, "她应该买吗?", ("买", "不买"), 10.0, id="v"))
    seg.add_marker(BranchPoint(2.0, "v", ("a", "b"), id="br"))
    qtbot.waitUntil(lambda: preview.branch_option.count() == 2, timeout=WAIT_MS)  # the model event arrived
    preview.branch_option.setCurrentIndex(1)
    qtbot.mouseClick(preview.branch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: (preview.player.path or "").endswith("b.mp4"), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: preview.player.position > 0.1, timeout=WAIT_MS)
    preview.shutdown()
