"""The asset library: import a real folder (PyAV-encoded clips and broken files), probe results,
thumbnails, tags and search, missing files and relinking, persistence, and rundowns and media
sources referring to clips by id (with old plain-path files migrated on load)."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import cv2
import pytest
from library_clips import make_audio_only, make_clip, not_video, sparse_garbage, truncate, zero_bytes

from scenes.model import SceneCollection
from studio.library import ImportJob, ImportProgress, ImportResult, Library, import_folder, scan_folder
from studio.library.links import link_collection, link_rundown, use_clip_in_segment, use_clip_in_source
from studio.rundown.model import DramaSegment, LiveSegment, Rundown
from studio.rundown.persistence import load_rundown, save_rundown
from studio.storage import DamagedFileError


@pytest.fixture(scope="module")
def show_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """episodes/ep1.mp4 (h264+aac 160x120), episodes/结局/ending.mkv (h264, no sound, 320x180),
    teaser.webm (vp9+opus), and the broken: cut.mp4, empty.mp4, notes.mp4 (text), song.mp4
    (audio only), huge.mkv (2 GB sparse garbage); readme.txt is not a video name and is skipped."""
    root = tmp_path_factory.mktemp("show")
    (root / "episodes" / "结局").mkdir(parents=True)
    good = make_clip(root / "episodes" / "ep1.mp4", frames=50)
    make_clip(root / "episodes" / "结局" / "ending.mkv", frames=25, size=(320, 180), audio=False, fmt="matroska")
    make_clip(root / "teaser.webm", frames=10, codec="libvpx-vp9", fmt="webm")
    truncate(good, root / "cut.mp4")
    zero_bytes(root / "empty.mp4")
    not_video(root / "notes.mp4")
    make_audio_only(root / "song.mp4")
    sparse_garbage(root / "huge.mkv")
    (root / "readme.txt").write_text("not imported", encoding="utf-8")
    return root


@pytest.fixture
def library(tmp_path: Path) -> Library:
    return Library(tmp_path / "lib" / "library.json")


def by_name(library: Library) -> dict[str, object]:
    return {c.name: c for c in library.clips()}


def test_scan_finds_video_names_recursively(show_folder: Path) -> None:
    names = sorted(p.name for p in scan_folder(show_folder))
    assert names == ["cut.mp4", "empty.mp4", "ending.mkv", "ep1.mp4", "huge.mkv", "notes.mp4", "song.mp4",
                     "teaser.webm"]


def test_import_probes_every_file_and_flags_the_broken(show_folder: Path, library: Library) -> None:
    steps: list[ImportProgress] = []
    result = import_folder(library, show_folder, steps.append)
    assert len(result.added) == 8 and not result.cancelled and not result.error
    assert [s.done for s in steps] == list(range(9)) and steps[-1].total == 8
    clips = {c.name: c for c in library.clips()}
    ep1 = clips["ep1.mp4"]
    assert (ep1.status, ep1.codec, ep1.width, ep1.height, ep1.fps, ep1.has_audio, ep1.audio_codec) == \
        ("ok", "h264", 160, 120, 25.0, True, "aac")
    assert ep1.duration_s == pytest.approx(2.0, abs=0.05)
    ending = clips["ending.mkv"]
    assert (ending.status, ending.resolution, ending.has_audio) == ("ok", "320x180", False)
    assert ending.duration_s == pytest.approx(1.0, abs=0.05)
    teaser = clips["teaser.webm"]
    assert (teaser.status, teaser.codec, teaser.audio_codec) == ("ok", "vp9", "opus")
    reasons = {name: (clips[name].status, clips[name].reason) for name in
               ("cut.mp4", "empty.mp4", "notes.mp4", "song.mp4", "huge.mkv")}
    assert reasons["empty.mp4"] == ("broken", "empty file (0 bytes)")
    assert reasons["song.mp4"] == ("broken", "audio only, no video stream")
    for name in ("cut.mp4", "notes.mp4", "huge.mkv"):
        assert reasons[name][0] == "broken" and "not a playable media file" in reasons[name][1], name
    assert sorted(library.get(i).name for i in result.broken) == [  # type: ignore[union-attr]
        "cut.mp4", "empty.mp4", "huge.mkv", "notes.mp4", "song.mp4"]


def test_thumbnails_are_a_frame_from_ten_percent_in(show_folder: Path, library: Library) -> None:
    import_folder(library, show_folder)
    ep1 = library.by_path(show_folder / "episodes" / "ep1.mp4")
    assert ep1 is not None
    thumb = library.thumbnail_path(ep1)
    assert thumb is not None and thumb.parent == library.thumbs_dir
    img = cv2.imread(str(thumb))
    assert img.shape == (180, 240, 3)  # 240 wide, the clip's 4:3
    # frame n has grey n*8; 10 % of 50 frames is frame 5 -> grey 40 (JPEG and YUV round a little)
    assert abs(float(img.mean()) - 40) < 6
    broken = library.by_path(show_folder / "empty.mp4")
    assert broken is not None and library.thumbnail_path(broken) is None


def test_reimport_skips_unchanged_files_and_keeps_ids_and_tags(show_folder: Path, library: Library) -> None:
    first = import_folder(library, show_folder)
    ep1 = library.by_path(show_folder / "episodes" / "ep1.mp4")
    assert ep1 is not None
    library.add_tag(ep1.id, "Episode 1")
    again = import_folder(library, show_folder)
    assert not again.added and len(again.unchanged) == 3  # the usable ones; broken ones are probed again
    assert sorted(again.updated) == sorted(first.broken)
    assert library.get(ep1.id).tags == ["episode 1"]  # type: ignore[union-attr]


def test_tags_and_search(show_folder: Path, library: Library) -> None:
    import_folder(library, show_folder)
    ep1 = library.by_path(show_folder / "episodes" / "ep1.mp4")
    ending = library.by_path(show_folder / "episodes" / "结局" / "ending.mkv")
    assert ep1 is not None and ending is not None
    library.set_tags(ep1.id, ["第一集", "Lipstick", "lipstick "])
    library.add_tag(ending.id, "结局")
    assert library.get(ep1.id).tags == ["lipstick", "第一集"]  # type: ignore[union-attr]

    def names(query: str) -> list[str]:
        return [c.name for c in library.search(query)]

    assert names("ep1") == ["ep1.mp4"]
    assert names("LIPSTICK") == ["ep1.mp4"]
    assert names("tag:结局") == ["ending.mkv"]
    assert names("codec:vp9") == ["teaser.webm"]
    assert names("codec:opus") == ["teaser.webm"]
    assert names("h264 audio:no") == ["ending.mkv"]
    assert names("320x180") == ["ending.mkv"]
    assert names("is:broken") == ["cut.mp4", "empty.mp4", "huge.mkv", "notes.mp4", "song.mp4"]
    assert names("") == [c.name for c in library.clips()]
    assert names("tag:lipstick 第一集") == ["ep1.mp4"]
    library.remove_tag(ep1.id, "LIPSTICK")
    assert names("lipstick") == []
    with pytest.raises(ValueError, match="empty"):
        library.add_tag(ep1.id, "  ")


def test_missing_file_is_flagged_and_relinked(tmp_path: Path, library: Library) -> None:
    folder = tmp_path / "clips"
    folder.mkdir()
    clip = library.add_file(make_clip(folder / "ep.mp4"))
    library.add_tag(clip.id, "keep me")
    assert clip.status == "ok"
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.move(folder / "ep.mp4", moved / "ep.mp4")
    assert library.check_files() == [clip.id]
    gone = library.get(clip.id)
    assert gone is not None and gone.status == "missing" and "file not found" in gone.reason
    assert gone.thumbnail  # the old picture helps to find it
    assert [c.name for c in library.search("is:missing")] == ["ep.mp4"]
    assert library.relink_folder(tmp_path / "moved") == [clip.id]
    back = library.get(clip.id)
    assert back is not None and back.status == "ok" and back.path == str(moved / "ep.mp4")
    assert back.tags == ["keep me"] and library.by_path(moved / "ep.mp4") == back
    # relinking one clip by hand, to a file of another name
    renamed = moved / "第一集.mp4"
    shutil.move(moved / "ep.mp4", renamed)
    library.check_files()
    assert library.relink(clip.id, renamed).status == "ok"
    other = library.add_file(make_clip(moved / "other.mp4"))
    with pytest.raises(ValueError, match="already in the library"):
        library.relink(clip.id, moved / "other.mp4")
    assert other.id != clip.id


def test_missing_file_that_comes_back_is_probed_again(tmp_path: Path, library: Library) -> None:
    path = make_clip(tmp_path / "ep.mp4")
    clip = library.add_file(path)
    path.rename(tmp_path / "away.mp4")
    library.check_files()
    (tmp_path / "away.mp4").rename(path)
    assert library.check_files() == [clip.id]
    assert library.get(clip.id).status == "ok"  # type: ignore[union-attr]


def test_persistence_round_trip_with_backup(show_folder: Path, tmp_path: Path) -> None:
    path = tmp_path / "lib" / "library.json"
    library = Library(path)
    import_folder(library, show_folder)
    ep1 = library.by_path(show_folder / "episodes" / "ep1.mp4")
    assert ep1 is not None
    library.add_tag(ep1.id, "主角")
    library.save()
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema_version"] == 1 and data["kind"] == "drama-live-studio/library"
    again = Library.open(path)
    assert [c.to_dict() for c in again.clips()] == [c.to_dict() for c in library.clips()]
    assert (path.parent / "library.json.bak").exists()  # opened in full: the known-good copy
    path.write_text("{ broken", encoding="utf-8")
    with pytest.raises(DamagedFileError) as err:
        Library.open(path)
    assert err.value.backup is not None
    path.write_text(json.dumps({"schema_version": 99, "clips": []}), encoding="utf-8")
    with pytest.raises(DamagedFileError, match="newer"):
        Library.open(path)


def test_import_job_runs_on_a_worker_and_can_be_cancelled(show_folder: Path, library: Library) -> None:
    done = threading.Event()
    results: list[ImportResult] = []
    threads: set[str] = set()
    cancel_after_first = threading.Event()

    def progress(p: ImportProgress) -> None:
        threads.add(threading.current_thread().name)
        if p.done == 1:
            job.cancel()
            cancel_after_first.set()

    def finished(r: ImportResult) -> None:
        results.append(r)
        done.set()

    job = ImportJob(library, show_folder, progress, finished)
    job.start()
    assert done.wait(30) and job.join(10)
    assert threads == {"library-import"}
    assert results[0].cancelled and len(results[0].added) == 1 and len(library) == 1
    assert library.path.exists()  # what was imported before the cancel is saved


def test_import_of_a_missing_folder_reports_it(tmp_path: Path, library: Library) -> None:
    result = import_folder(library, tmp_path / "nowhere")
    assert "not a folder" in result.error and not result.added


# ---- rundowns and media sources by id --------------------------------------------------------


def old_rundown_file(path: Path, clip: Path) -> Path:
    """A rundown as studios before the library wrote it: a drama segment with a plain path."""
    data = {"schema_version": 1, "kind": "drama-live-studio/rundown", "name": "旧节目", "segments": [
        {"type": "drama", "id": "ep", "title": "第1集", "path": clip.name, "in_s": 0.0, "out_s": 0.0,
         "scene": None, "then": None, "markers": []},
        {"type": "live", "id": "live", "title": "直播", "scene": "Live", "duration_s": 0.0, "then": None,
         "markers": []}]}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_old_rundown_with_plain_paths_is_migrated_to_library_ids(tmp_path: Path, library: Library) -> None:
    clip_path = make_clip(tmp_path / "ep1.mp4")
    rundown_path = old_rundown_file(tmp_path / "show.json", clip_path)
    rundown = load_rundown(rundown_path)
    seg = rundown.segment("ep")
    assert isinstance(seg, DramaSegment) and seg.clip is None
    report = link_rundown(rundown, library)
    clip = library.by_path(clip_path)
    assert clip is not None and report.added == [clip.id] and seg.clip == clip.id
    save_rundown(rundown, rundown_path)
    saved = json.loads(rundown_path.read_text(encoding="utf-8"))["segments"][0]
    assert saved["clip"] == clip.id and saved["path"] == "ep1.mp4"  # the path stays as the fallback
    # the library id wins over the stored path once the clip moved and was relinked
    moved = tmp_path / "media" / "ep1.mp4"
    moved.parent.mkdir()
    shutil.move(clip_path, moved)
    library.check_files()
    library.relink(clip.id, moved)
    again = load_rundown(rundown_path)
    report = link_rundown(again, library)
    seg2 = again.segment("ep")
    assert isinstance(seg2, DramaSegment)
    assert report.linked == 1 and report.moved == ["ep"] and seg2.path == str(moved) and seg2.clip == clip.id


def test_rundown_from_another_machine_adds_its_clip_under_that_id(tmp_path: Path, library: Library) -> None:
    clip_path = make_clip(tmp_path / "ep1.mp4")
    rundown = Rundown("show")
    rundown.add_segment(DramaSegment("ep", clip_path, segment_id="ep", clip="clip-fromelse"))
    report = link_rundown(rundown, library)
    assert report.added == ["clip-fromelse"] and library.get("clip-fromelse") is not None


def test_broken_clip_is_reported_by_link(tmp_path: Path, library: Library) -> None:
    rundown = Rundown("show")
    rundown.add_segment(DramaSegment("ep", zero_bytes(tmp_path / "empty.mp4"), segment_id="ep"))
    rundown.add_segment(LiveSegment("live", "Live", segment_id="live"))
    report = link_rundown(rundown, library)
    assert report.unusable == [("segment ep", "empty.mp4: empty file (0 bytes)")]


def test_media_sources_refer_to_clips_by_id(tmp_path: Path, library: Library) -> None:
    clip_path = make_clip(tmp_path / "ep1.mp4")
    col = SceneCollection()
    col.add_source("剧集", "media", {"path": str(clip_path)})  # an old collection: a plain path
    col.add_source("背景", "color", {})
    report = link_collection(col, library)
    clip = library.by_path(clip_path)
    assert clip is not None and report.added == [clip.id]
    assert col.source("剧集").settings["clip"] == clip.id
    moved = tmp_path / "moved.mp4"
    shutil.move(clip_path, moved)
    library.check_files()
    library.relink(clip.id, moved)
    report = link_collection(col, library)
    assert report.moved == ["剧集"] and col.source("剧集").settings["path"] == str(moved)
    other = library.add_file(make_clip(tmp_path / "ending.mp4"))
    use_clip_in_source(col, "剧集", other)
    assert (col.source("剧集").settings["clip"], col.source("剧集").settings["path"]) == (other.id, other.path)
    with pytest.raises(ValueError, match="not a media source"):
        use_clip_in_source(col, "背景", other)
    rundown = Rundown("show")
    rundown.add_segment(DramaSegment("ep", clip_path, segment_id="ep"))
    use_clip_in_segment(rundown, "ep", other)
    seg = rundown.segment("ep")
    assert isinstance(seg, DramaSegment) and (seg.clip, seg.path) == (other.id, other.path)


def test_collection_round_trip_keeps_the_clip_id(tmp_path: Path, library: Library) -> None:
    from studio.collections import load_collection, save_collection

    clip = library.add_file(make_clip(tmp_path / "ep1.mp4"))
    col = SceneCollection()
    col.add_source("剧集", "media", {"path": clip.path, "clip": clip.id})
    save_collection(col, tmp_path / "col.json")
    assert load_collection(tmp_path / "col.json").source("剧集").settings["clip"] == clip.id


def test_demo_clips_are_in_the_library_on_first_run(studio_home: Path) -> None:
    from studio.demo import CLIPS, ensure_demo
    from studio.library.store import open_library

    assets = ensure_demo(size=(1280, 720))
    library = open_library()
    names = sorted(c.name for c in library.clips())
    assert names == sorted(p.file for p in CLIPS)
    assert all(c.status == "ok" and "demo" in c.tags for c in library.clips())
    assert library.path.exists()
    assert library.by_path(assets.clips["episode_01.mp4"]) is not None
    library.remove(library.clips()[0].id)
    library.save()
    assert len(open_library()) == 2  # only the first run adds them


def test_collections_and_rundowns_are_linked_as_the_studio_loads_them(studio_home: Path, tmp_path: Path) -> None:
    from studio.collections import save_collection
    from studio.library import store
    from studio.session import open_collection

    clip_path = make_clip(tmp_path / "ep1.mp4")
    col = SceneCollection()
    col.add_source("剧集", "media", {"path": str(clip_path)})
    save_collection(col, tmp_path / "col.json")
    opened, _ = open_collection(tmp_path / "col.json")
    library = store.shared_library()
    clip = library.by_path(clip_path)
    assert clip is not None and opened.source("剧集").settings["clip"] == clip.id
    assert Library.open(library.path).get(clip.id) is not None  # saved
    rundown = Rundown("show")
    rundown.add_segment(DramaSegment("ep", clip_path, segment_id="ep"))
    report = store.link_on_load(rundown)
    assert report is not None and report.linked == 1 and rundown.segment("ep").clip == clip.id  # type: ignore[attr-defined]


def test_a_damaged_library_file_never_stops_a_show(studio_home: Path, tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    from studio.library import store
    from studio.library.library import default_library_path

    default_library_path().parent.mkdir(parents=True, exist_ok=True)
    default_library_path().write_text("{ damaged", encoding="utf-8")
    rundown = Rundown("show")
    rundown.add_segment(DramaSegment("ep", make_clip(tmp_path / "ep1.mp4"), segment_id="ep"))
    assert store.link_on_load(rundown) is None
    assert rundown.segment("ep").clip is None  # type: ignore[attr-defined]
    assert "asset library not used" in caplog.text
    assert default_library_path().read_text(encoding="utf-8") == "{ damaged"  # never overwritten


def test_clips_gone_since_the_last_run_are_missing_when_the_library_opens(studio_home: Path, tmp_path: Path) -> None:
    from studio.library import store
    from studio.library.library import default_library_path

    first = Library(default_library_path())
    clip = first.add_file(make_clip(tmp_path / "ep1.mp4"))
    first.save()
    (tmp_path / "ep1.mp4").unlink()
    library = store.shared_library()
    assert library.get(clip.id).status == "missing"  # type: ignore[union-attr]
    assert Library.open(default_library_path()).get(clip.id).status == "missing"  # type: ignore[union-attr]
