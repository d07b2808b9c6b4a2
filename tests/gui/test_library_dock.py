"""The asset library dock through pytest-qt: a folder import on the worker with progress and
cancel (the UI thread keeps running while a probe is held), thumbnails with broken/missing badges,
search, tags, relink, "use in" a media source, drag data, and the Chinese UI."""

from __future__ import annotations

import shutil
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl

from scenes.model import SceneCollection
from studio.library import Library, ProbeResult
from widgets.i18n import translator
from widgets.library_dock import MIME_CLIP, LibraryDock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from library_clips import make_audio_only, make_clip, not_video, truncate, zero_bytes  # noqa: E402

WAIT_MS = 60_000


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dock-show")
    (root / "sub").mkdir()
    good = make_clip(root / "ep1.mp4", frames=50)
    make_clip(root / "sub" / "ending.mkv", frames=25, audio=False, fmt="matroska")
    truncate(good, root / "cut.mp4")
    zero_bytes(root / "empty.mp4")
    not_video(root / "notes.mp4")
    make_audio_only(root / "song.mp4")
    return root


@pytest.fixture
def dock(qtbot, tmp_path: Path, qapp_language):  # type: ignore[no-untyped-def]
    collection = SceneCollection()
    collection.add_source("剧集", "media", {})
    collection.add_source("背景", "color", {})
    widget = LibraryDock(Library(tmp_path / "lib" / "library.json"), collection)
    qtbot.addWidget(widget)
    widget.resize(800, 600)
    widget.show()
    yield widget
    widget.shutdown()


def texts(dock: LibraryDock) -> dict[str, str]:
    return {dock.list.item(i).text().split("\n")[0]: dock.list.item(i).text() for i in range(dock.list.count())}


def test_import_runs_on_the_worker_with_progress_and_cancel(qtbot, dock: LibraryDock, folder: Path) -> None:  # type: ignore[no-untyped-def]
    held = threading.Event()
    release = threading.Event()
    real_probe = dock.library.probe

    def gated_probe(path: str | Path, clip_id: str) -> ProbeResult:
        held.set()
        assert release.wait(WAIT_MS / 1000)  # the first probe waits until the test lets it go
        return real_probe(path, clip_id)

    dock.library.probe = gated_probe  # type: ignore[method-assign]
    values: list[int] = []
    dock.progress.valueChanged.connect(values.append)
    assert dock.import_folder(folder)
    assert held.wait(WAIT_MS / 1000)
    # the worker is stuck in a probe, and the UI thread is here, free: buttons follow the state
    assert not dock.import_button.isEnabled() and dock.cancel_button.isEnabled() and dock.progress.isVisible()
    assert not dock.import_folder(folder)  # one import at a time
    dock.cancel_import()
    with qtbot.waitSignal(dock.import_finished, timeout=WAIT_MS) as blocker:
        release.set()
    result = blocker.args[0]
    assert result.cancelled and len(result.added) == 1 and dock.list.count() == 1
    assert dock.import_button.isEnabled() and not dock.cancel_button.isVisible()

    dock.library.probe = real_probe  # type: ignore[method-assign]
    values.clear()
    with qtbot.waitSignal(dock.import_finished, timeout=WAIT_MS) as blocker:
        assert dock.import_folder(folder)
    result = blocker.args[0]
    # the file imported before the cancel (cut.mp4, broken) is probed again, the five others are new
    assert not result.cancelled and len(result.added) == 5 and len(result.updated) == 1
    assert values[-1] == 100 and len(values) >= 3  # it moved through the files, not only 0 and 100
    assert dock.list.count() == 6 and "5 added" in dock.status.text()
    assert dock.library.path.exists()


def test_grid_badges_search_tags_and_use(qtbot, dock: LibraryDock, folder: Path) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(dock.import_finished, timeout=WAIT_MS):
        dock.import_folder(folder)
    shown = texts(dock)
    assert shown["ep1.mp4"] == "ep1.mp4\n0:02 · 160x120"
    assert shown["empty.mp4"] == "empty.mp4\nBroken" and shown["song.mp4"] == "song.mp4\nBroken"
    assert all(not dock.list.item(i).icon().isNull() for i in range(dock.list.count()))

    dock.search.setText("is:broken")
    assert dock.list.count() == 4
    dock.search.setText("ending")
    assert list(texts(dock)) == ["ending.mkv"]
    dock.search.setText("")

    ep1 = dock.library.by_path(folder / "ep1.mp4")
    assert ep1 is not None
    with qtbot.waitSignal(dock.job_finished, timeout=WAIT_MS) as blocker:
        dock.set_tags(ep1.id, ["第一集", "口红"])
    assert blocker.args == ["save"]
    assert Library.open(dock.library.path).get(ep1.id).tags == ["口红", "第一集"]  # type: ignore[union-attr]
    dock.search.setText("tag:口红")
    assert list(texts(dock)) == ["ep1.mp4"]
    dock.search.setText("")

    # use in a media source (the menu lists media sources only), and drag data
    assert dock.media_sources() == ["剧集"]
    dock.select(ep1.id)
    assert dock.use_in_source("剧集")
    assert dock.collection is not None
    settings = dock.collection.source("剧集").settings
    assert (settings["clip"], settings["path"]) == (ep1.id, ep1.path)
    broken = dock.library.by_path(folder / "empty.mp4")
    assert broken is not None and not dock.use_in_source("剧集", broken.id)
    assert "cannot be used" in dock.status.text()
    item = next(dock.list.item(i) for i in range(dock.list.count()) if dock.list.item(i).isSelected())
    mime = dock.list.mimeData([item])
    assert mime.urls() == [QUrl.fromLocalFile(ep1.path)]
    assert bytes(mime.data(MIME_CLIP).data()).decode() == ep1.id

    translator().set_language("zh_CN")
    assert texts(dock)["empty.mp4"] == "empty.mp4\n损坏" and dock.import_button.text() == "导入文件夹…"


def test_missing_clip_is_badged_and_relinked(qtbot, dock: LibraryDock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    media = tmp_path / "media"
    media.mkdir()
    make_clip(media / "ep.mp4")
    with qtbot.waitSignal(dock.import_finished, timeout=WAIT_MS):
        dock.import_folder(media)
    clip = dock.library.clips()[0]
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.move(media / "ep.mp4", moved / "第一集.mp4")
    with qtbot.waitSignal(dock.job_finished, timeout=WAIT_MS) as blocker:
        assert dock.check_files()
    assert blocker.args == ["check"] and texts(dock)["ep.mp4"] == "ep.mp4\nMissing"
    assert dock.status.text() == "1 missing"
    dock.select(clip.id)
    assert dock.relink_button.isEnabled()
    with qtbot.waitSignal(dock.job_finished, timeout=WAIT_MS) as blocker:
        assert dock.relink_selected(moved / "第一集.mp4")
    assert blocker.args == ["relink"]
    assert texts(dock)["第一集.mp4"].startswith("第一集.mp4\n0:01")
    assert Library.open(dock.library.path).get(clip.id).status == "ok"  # type: ignore[union-attr]


def test_the_main_window_has_the_library_dock_and_use_is_a_command(make_window, qtbot, folder: Path) -> None:  # type: ignore[no-untyped-def]
    from gui_helpers import make_collection

    collection = make_collection()
    collection.add_source("剧集", "media", {"autoplay": False})
    window = make_window(collection)
    dock = window.library_dock
    assert window.docks["library"].widget() is dock and dock.library.path.parent.name == "library"
    with qtbot.waitSignal(dock.import_finished, timeout=WAIT_MS):
        dock.import_folder(folder)
    ending = dock.library.by_path(folder / "sub" / "ending.mkv")
    assert ending is not None
    dock.select(ending.id)
    assert dock.use_in_source("剧集")
    window.studio.render_offline(1)  # the engine applies the submitted UpdateSource
    settings = window.studio.collection.source("剧集").settings
    assert (settings["clip"], settings["path"]) == (ending.id, ending.path)
