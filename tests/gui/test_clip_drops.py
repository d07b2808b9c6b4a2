"""Library clips dropped where they are needed, through real widgets and real drop events: on the
Sources list and the preview (new media sources, one undo step), on the rundown (a new drama
segment or a replaced clip); desktop video files go into the library first; a broken file gives a
message and changes nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from gui_helpers import render
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QAbstractItemView, QApplication, QWidget

from studio.library import Library
from studio.library.clip import Clip
from studio.rundown import DramaSegment, LiveSegment, Rundown, load_rundown, save_rundown
from studio.rundown.model import SegmentChanged
from widgets.clip_drop import DropResolver
from widgets.library_dock import MIME_CLIP, LibraryDock
from widgets.main_window import MainWindow
from widgets.rundown_dock import RundownDock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from library_clips import make_clip, not_video, truncate  # noqa: E402
from test_outputs_ui import START_S, show_window  # noqa: E402, F401 - the window-on-a-show fixture

WAIT_MS = 30_000


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("drops")
    good = make_clip(root / "第2集.mp4", frames=25, size=(320, 240))
    return {"good": good, "other": make_clip(root / "ending.mp4", frames=50, size=(160, 120), audio=False),
            "cut": truncate(good, root / "cut.mp4"), "text": not_video(root / "notes.mp4"),
            "doc": not_video(root / "readme.txt")}


def library_mime(clips: list[Clip]) -> QMimeData:
    """What the library dock's drag carries (its ``_ClipList.mimeData``)."""
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(c.path) for c in clips])
    data.setData(MIME_CLIP, "\n".join(c.id for c in clips).encode("utf-8"))
    return data


def desktop_mime(*paths: Path) -> QMimeData:
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return data


def drop_event(pos: QPointF, mime: QMimeData) -> QDropEvent:
    # QTest cannot run a drag (QDrag.exec blocks in the platform's loop): the widget gets the drop
    # event it would get, with the drag's data, at the pointer position
    return QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)


def drop_on_view(view: QAbstractItemView, row: int | None, mime: QMimeData, where: str = "middle") -> None:
    """Drop on list row ``row`` ("top" edge, "middle", "bottom" edge), or below the last row (None)."""
    if row is None:
        pos = QPointF(10, view.viewport().height() - 2)
    else:
        rect = view.visualRect(view.model().index(row, 0))
        y = {"top": rect.top() + 1, "middle": rect.center().y(), "bottom": rect.bottom() - 1}[where]
        pos = QPointF(rect.center().x(), y)
    view.dropEvent(drop_event(pos, mime))


def drop_on_widget(widget: QWidget, pos: QPointF, mime: QMimeData) -> bool:
    """The drag entering ``widget`` then dropped at ``pos`` (Qt delivers a drop only after an
    accepted enter). Whether the widget took the drop."""
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    event = drop_event(pos, mime)
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def settle(qtbot, drops: DropResolver | None) -> None:  # type: ignore[no-untyped-def]
    """Desktop files are probed on a worker: wait until their clips have been used."""
    assert drops is not None
    qtbot.waitUntil(lambda: not drops.busy, timeout=WAIT_MS)


def messages(window: MainWindow) -> str:
    return window.statusBar().currentMessage()


# ---- the Sources list and the preview ------------------------------------------------------------


def test_a_library_clip_dropped_on_the_sources_list_is_a_new_media_source_and_undo_takes_it_back(
        make_window, files: dict[str, Path]) -> None:  # type: ignore[no-untyped-def]
    window = make_window()
    library: Library = window.library_dock.library
    clip = library.add_file(files["good"])
    col = window.studio.collection
    scene = col.scene("Scene A")
    assert [it.id for it in scene.items] == ["bg-a", "box-a"]
    drop_on_view(window.sources.tree, 1, library_mime([clip]), "top")  # in front of the red background
    render(window)
    assert [it.source for it in scene.items] == ["red", "第2集", "box"]  # between them in the stack
    cfg = col.source("第2集")
    assert cfg.type_id == "media" and cfg.settings["clip"] == clip.id and cfg.settings["path"] == clip.path
    item = scene.items[1]
    assert (item.x, item.y, item.scale_x) == (640 - 160, 360 - 120, 1.0)  # native size, canvas centre
    assert window.state.selected == item.id
    window.edit_actions.undo()
    render(window, 2)
    assert [it.id for it in scene.items] == ["bg-a", "box-a"]
    assert "第2集" not in col.sources


def test_a_clip_dropped_on_the_preview_lands_where_it_was_dropped(make_window, files: dict[str, Path]) -> None:  # type: ignore[no-untyped-def]
    window = make_window()
    library: Library = window.library_dock.library
    clips = [library.add_file(files["good"]), library.add_file(files["other"])]
    col = window.studio.collection
    view = window.preview_view
    accepted = drop_on_widget(view, window.preview_view.to_widget(900, 500), library_mime(clips))
    assert accepted
    render(window)
    scene = col.scene("Scene A")
    added = scene.items[2:]
    assert [it.source for it in added] == ["第2集", "ending"]
    for item, clip in zip(added, clips, strict=True):
        # centred on the drop point (to the pixel the view's scale allows)
        assert item.x + clip.width / 2 == pytest.approx(900, abs=2)
        assert item.y + clip.height / 2 == pytest.approx(500, abs=2)
        assert col.source(item.source).settings["clip"] == clip.id
    window.edit_actions.undo()  # both clips were one step
    render(window, 2)
    assert [it.id for it in scene.items] == ["bg-a", "box-a"]


def test_a_desktop_video_goes_into_the_library_first(make_window, qtbot, files: dict[str, Path]) -> None:  # type: ignore[no-untyped-def]
    window = make_window()
    library: Library = window.library_dock.library
    assert library.by_path(files["other"]) is None
    drop_on_widget(window.preview_view, window.preview_view.to_widget(200, 200), desktop_mime(files["other"]))
    assert window.clip_drops.busy  # probed on the worker, not on the UI thread
    settle(qtbot, window.clip_drops)
    render(window)
    clip = library.by_path(files["other"])
    assert clip is not None and clip.usable
    assert window.studio.collection.source("ending").settings["clip"] == clip.id
    assert Library.open(library.path).get(clip.id) is not None  # saved


@pytest.mark.parametrize("name", ["cut", "text", "doc"])
def test_a_broken_or_non_video_file_gives_a_message_and_changes_nothing(
        make_window, qtbot, files: dict[str, Path], name: str) -> None:  # type: ignore[no-untyped-def]
    window = make_window()
    library: Library = window.library_dock.library
    col = window.studio.collection
    before = (len(library), sorted(col.sources), [it.id for it in col.scene("Scene A").items])
    drop_on_view(window.sources.tree, None, desktop_mime(files[name]))
    settle(qtbot, window.clip_drops)
    drop_on_widget(window.preview_view, window.preview_view.to_widget(200, 200), desktop_mime(files[name]))
    settle(qtbot, window.clip_drops)
    render(window)
    assert (len(library), sorted(col.sources), [it.id for it in col.scene("Scene A").items]) == before
    assert files[name].name in messages(window)
    assert ("not a video file" if name == "doc" else "cannot be used") in messages(window)
    assert not window.studio.history.state().can_undo


# ---- the rundown -------------------------------------------------------------------------------------


@pytest.fixture
def rundown_dock(qtbot, tmp_path: Path, files: dict[str, Path]):  # type: ignore[no-untyped-def]
    library = Library(tmp_path / "lib" / "library.json")
    ep = library.add_file(files["good"])
    rundown = Rundown("周五", drama_source="drama", drama_scene="Drama")
    rundown.add_segment(DramaSegment("第1集", ep.path, 0.0, 0.8, segment_id="ep", clip=ep.id))
    rundown.add_segment(LiveSegment("带货", "Live", segment_id="live"))
    path = tmp_path / "show.rundown.json"
    save_rundown(rundown, path)
    dock = RundownDock(path=path, library=library)
    qtbot.addWidget(dock)
    dock.resize(400, 600)
    dock.show()
    qtbot.waitExposed(dock)
    yield dock
    dock.close()


def rows(dock: RundownDock) -> list[str]:
    return [dock.segment_list.item(i).text() for i in range(dock.segment_list.count())]


def test_a_clip_dropped_on_a_drama_segment_replaces_its_clip_by_library_id(
        rundown_dock: RundownDock, files: dict[str, Path]) -> None:
    dock = rundown_dock
    assert dock.library is not None and dock.rundown is not None and dock.path is not None
    other = dock.library.add_file(files["other"])
    heard: list[object] = []
    dock.rundown.changed.connect(heard.append)
    assert rows(dock) == ["第1集 [drama] · 第2集.mp4", "带货 [live]"]
    drop_on_view(dock.segment_list, 0, library_mime([other]), "middle")
    seg = dock.rundown.segment("ep")
    assert isinstance(seg, DramaSegment) and (seg.clip, seg.path) == (other.id, other.path)
    assert {f for e in heard if isinstance(e, SegmentChanged) for f in e.fields} == {"clip", "path"}
    assert rows(dock)[0] == "第1集 [drama] · ending.mp4"
    saved = load_rundown(dock.path).segment("ep")
    assert isinstance(saved, DramaSegment) and saved.clip == other.id  # and saved
    assert len(dock.rundown.segments) == 2
    assert dock.undo_button.isEnabled()
    dock.undo_button.click()  # the old clip back, through the model, saved
    assert (seg.clip, seg.path) != (other.id, other.path)
    assert rows(dock)[0] == "第1集 [drama] · 第2集.mp4"
    saved = load_rundown(dock.path).segment("ep")
    assert isinstance(saved, DramaSegment) and saved.clip == seg.clip
    assert not dock.undo_button.isEnabled()


def test_a_clip_dropped_between_segments_is_a_new_drama_segment(
        rundown_dock: RundownDock, files: dict[str, Path]) -> None:
    dock = rundown_dock
    assert dock.library is not None and dock.rundown is not None and dock.path is not None
    other = dock.library.add_file(files["other"])
    drop_on_view(dock.segment_list, 1, library_mime([other]), "top")  # between the episode and the live
    drop_on_view(dock.segment_list, 2, library_mime([other]), "middle")  # on the live segment: after it
    drop_on_view(dock.segment_list, None, library_mime([other]))  # below the last row: the end
    kinds = [(s.kind, getattr(s, "clip", None)) for s in dock.rundown.segments]
    assert kinds == [("drama", getattr(dock.rundown.segment("ep"), "clip", None)), ("drama", other.id), ("live", None),
                     ("drama", other.id), ("drama", other.id)]
    assert rows(dock)[1] == "ending [drama] · ending.mp4"
    assert [s.id for s in load_rundown(dock.path).segments] == [s.id for s in dock.rundown.segments]
    first = dock.library.add_file(files["good"])
    drop_on_view(dock.segment_list, 0, library_mime([first, other]), "top")  # two clips: one undo step
    assert len(dock.rundown.segments) == 7
    assert dock.undo() and dock.undo()
    assert [s.kind for s in dock.rundown.segments] == ["drama", "drama", "live", "drama"]
    assert dock.undo() and dock.undo()
    assert [s.id for s in dock.rundown.segments] == ["ep", "live"]
    assert [s.id for s in load_rundown(dock.path).segments] == ["ep", "live"]
    assert not dock.undo()


def test_a_desktop_video_dropped_on_the_rundown_joins_the_library(
        qtbot, rundown_dock: RundownDock, files: dict[str, Path]) -> None:  # type: ignore[no-untyped-def]
    dock = rundown_dock
    assert dock.library is not None and dock.rundown is not None
    drop_on_view(dock.segment_list, None, desktop_mime(files["other"]))
    settle(qtbot, dock.drops)
    clip = dock.library.by_path(files["other"])
    assert clip is not None
    assert getattr(dock.rundown.segments[-1], "clip", None) == clip.id


@pytest.mark.parametrize("name", ["cut", "text", "short"])
def test_a_broken_file_or_a_too_short_clip_changes_nothing_in_the_rundown(
        qtbot, rundown_dock: RundownDock, files: dict[str, Path], tmp_path: Path,  # type: ignore[no-untyped-def]
        name: str) -> None:
    dock = rundown_dock
    assert dock.library is not None and dock.rundown is not None and dock.path is not None
    if name == "short":  # a 0.2 s clip cannot play a segment whose out point is 0.8 s
        mime = library_mime([dock.library.add_file(make_clip(tmp_path / "short.mp4", frames=5))])
    else:
        mime = desktop_mime(files[name])
    clips_before, saved_before = len(dock.library), dock.path.read_bytes()
    state = [(s.id, getattr(s, "clip", None)) for s in dock.rundown.segments]
    drop_on_view(dock.segment_list, 0, mime, "middle")
    settle(qtbot, dock.drops)
    assert [(s.id, getattr(s, "clip", None)) for s in dock.rundown.segments] == state
    assert dock.path.read_bytes() == saved_before
    assert len(dock.library) == clips_before
    assert ("long" if name == "short" else "cannot be used") in dock.message_label.text()


def test_use_in_rundown_from_the_library_dock(qtbot, rundown_dock: RundownDock, files: dict[str, Path]) -> None:  # type: ignore[no-untyped-def]
    dock = rundown_dock
    assert dock.library is not None and dock.rundown is not None
    other = dock.library.add_file(files["other"])
    library_dock = LibraryDock(dock.library)
    qtbot.addWidget(library_dock)
    library_dock.rundown_target = dock
    library_dock.refresh()
    library_dock.select(other.id)
    dock.select_segment("ep")
    menu = library_dock._build_rundown_menu(library_dock)
    assert [a.text() for a in menu.actions()] == ["Add as a new segment", "Replace the clip of 第1集"]
    assert library_dock.add_to_rundown()  # after the selected segment
    assert [getattr(s, "clip", None) for s in dock.rundown.segments][1] == other.id
    dock.select_segment("ep")
    assert library_dock.replace_in_rundown()
    assert getattr(dock.rundown.segment("ep"), "clip", None) == other.id
    assert library_dock.status.text() == "第1集 now plays ending.mp4"
    dock.select_segment("live")
    assert not library_dock.replace_in_rundown()
    assert library_dock.status.text() == "Select a drama segment in the rundown first"
    library_dock.shutdown()


def test_the_shows_rundown_dock_is_where_the_library_uses_clips(show_window, qtbot) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    window = show_window()
    qtbot.waitUntil(lambda: "rundown" in window.docks, timeout=START_S)
    dock = window.docks["rundown"]
    assert isinstance(dock, RundownDock)
    assert window.library_dock.rundown_target is dock and dock.library is window.library_dock.library
