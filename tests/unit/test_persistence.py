from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scenes.model import SceneCollection, SceneItem
from studio.collections import Autosaver, load_backup, load_collection, save_collection
from studio.storage import DamagedFileError, write_json_atomic


def sample() -> SceneCollection:
    col = SceneCollection("演出")
    col.add_source("bg", "color", {"color": "#FF112233", "width": 32, "height": 16})
    scene = col.add_scene("剧情")
    scene.add_item(SceneItem("bg", item_id="i1", x=5, opacity=0.5, crop=(1, 2, 3, 4)))
    return col


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "show.json"
    save_collection(sample(), path)
    loaded = load_collection(path)
    item = loaded.scene("剧情").item("i1")
    assert (item.x, item.opacity, item.crop) == (5.0, 0.5, (1, 2, 3, 4))
    assert loaded.source("bg").settings["color"] == "#FF112233"
    assert json.loads(path.read_text("utf-8"))["schema_version"] == 1


def test_second_save_keeps_backup(tmp_path: Path) -> None:
    path = tmp_path / "show.json"
    col = sample()
    save_collection(col, path)
    col.scene("剧情").item("i1").x = 99
    save_collection(col, path)
    assert load_backup(path).scene("剧情").item("i1").x == 5.0
    assert load_collection(path).scene("剧情").item("i1").x == 99.0


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (json.dumps({"schema_version": 99}).encode(), "newer than this studio"),
        (json.dumps({"schema_version": 1, "scenes": "x"}).encode(), "scenes: expected list"),
        (json.dumps({"schema_version": 1, "sources": [{"name": "a", "type": "color",
                                                        "settings": {"width": "wide"}}]}).encode(),
         "Width: expected int"),
    ],
)
def test_damaged_files_name_the_problem_and_offer_backup(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "show.json"
    save_collection(sample(), path)
    save_collection(sample(), path)  # now a .bak exists
    path.write_bytes(content)
    with pytest.raises(DamagedFileError) as info:
        load_collection(path)
    assert problem in str(info.value)
    assert str(path) in str(info.value)
    assert info.value.backup is not None
    assert path.read_bytes() == content  # never silently replaced


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DamagedFileError, match="file not found"):
        load_collection(tmp_path / "nope.json")


def test_crash_in_the_middle_of_a_save_leaves_a_loadable_file(tmp_path: Path) -> None:
    path = tmp_path / "show.json"
    save_collection(sample(), path)
    # a child process starts writing a huge document and is killed by os._exit mid-write
    script = f"""
import os, sys, json
sys.path.insert(0, {str(Path.cwd())!r})
import studio.storage as st
real = os.fsync
def crash(fd):
    os._exit(9)
st.os.fsync = crash
st.write_json_atomic(__import__('pathlib').Path({str(path)!r}), {{"junk": "x" * 5_000_000}})
"""
    result = subprocess.run([sys.executable, "-c", script], check=False)
    assert result.returncode == 9
    assert load_collection(path).scene("剧情").item("i1").x == 5.0
    leftovers = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    assert len(leftovers) <= 1  # a stray temp file may remain; the real file is intact


def test_write_failure_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "show.json"
    write_json_atomic(path, {"a": 1})

    def broken(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("studio.storage.os.replace", broken)
    with pytest.raises(OSError):
        write_json_atomic(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 1}
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_autosave_writes_after_changes(tmp_path: Path) -> None:
    path = tmp_path / "auto.json"
    col = sample()
    saver = Autosaver(col, path, delay_s=0.05)
    try:
        col.scene("剧情").item("i1").x = 42
        assert saver.wait_saved(1, timeout=10)
        assert load_collection(path).scene("剧情").item("i1").x == 42.0
    finally:
        saver.close()


# ---- no crash point leaves no main file; the backup is a last known-good copy ----------------------


def test_every_crash_point_of_a_save_leaves_a_whole_main_file(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """At every rename and fsync (where a crash or power cut may stop the save) the main file is
    there and whole: the new text is renamed over the old file, never after moving it away."""
    import studio.storage as storage

    path = tmp_path / "show.json"
    write_json_atomic(path, {"v": 1})
    write_json_atomic(path, {"v": 2})
    seen: list[object] = []

    def check_then(real):  # type: ignore[no-untyped-def]
        def step(*args: object) -> object:
            seen.append(json.loads(path.read_text("utf-8"))["v"])  # FileNotFoundError = no main file
            return real(*args)
        return step

    monkeypatch.setattr(storage.os, "replace", check_then(os.replace))
    monkeypatch.setattr(storage.os, "fsync", check_then(os.fsync))
    monkeypatch.setattr(storage, "BACKUP_REFRESH_S", 0.0)  # the backup is refreshed during this save too
    write_json_atomic(path, {"v": 3})
    assert len(seen) >= 4 and set(seen) <= {2, 3}
    assert json.loads(path.read_text("utf-8")) == {"v": 3}
    assert json.loads((tmp_path / "show.json.bak").read_text("utf-8")) == {"v": 2}


def test_backup_is_the_file_that_opened_not_the_previous_autosave(tmp_path: Path) -> None:
    from studio.collections import open_collection_file

    path = tmp_path / "show.json"
    col = sample()
    save_collection(col, path)
    opened = open_collection_file(path)  # the studio opens it: this copy is known to load
    item = opened.scene("剧情").item("i1")
    for x in (10, 20, 30):  # autosaves every few seconds
        item.x = x
        save_collection(opened, path)
    assert load_backup(path).scene("剧情").item("i1").x == 5.0  # not 20 (the save before the last)
    assert load_collection(path).scene("剧情").item("i1").x == 30.0


def test_backup_is_refreshed_only_from_a_file_that_still_loads(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import studio.storage as storage
    from studio.collections import open_collection_file

    path = tmp_path / "show.json"
    save_collection(sample(), path)
    col = open_collection_file(path)
    monkeypatch.setattr(storage, "BACKUP_REFRESH_S", 0.0)  # "ten minutes later"
    col.scene("剧情").item("i1").x = 7
    save_collection(col, path)  # the backup is refreshed from the file on disk (x=5), which loads
    assert load_backup(path).scene("剧情").item("i1").x == 5.0
    # the file on disk gets damaged in a way JSON alone does not show
    path.write_text(json.dumps({"schema_version": 1, "scenes": "x"}), "utf-8")
    save_collection(col, path)
    assert load_backup(path).scene("剧情").item("i1").x == 5.0  # the damage never became the backup
    assert load_collection(path).scene("剧情").item("i1").x == 7.0


def test_opening_the_backup_keeps_the_damaged_file(tmp_path: Path) -> None:
    from studio.collections import open_backup, open_collection_file

    path = tmp_path / "show.json"
    save_collection(sample(), path)
    open_collection_file(path)
    path.write_bytes(b"{truncated")
    with pytest.raises(DamagedFileError) as info:
        load_collection(path)
    assert info.value.backup == tmp_path / "show.json.bak"
    col, aside = open_backup(path)
    assert col.scene("剧情").item("i1").x == 5.0
    assert aside.read_bytes() == b"{truncated" and aside.name.startswith("show.json.damaged-")
    assert load_collection(path).scene("剧情").item("i1").x == 5.0


def test_a_backup_that_does_not_load_is_not_offered(tmp_path: Path) -> None:
    path = tmp_path / "show.json"
    path.write_text(json.dumps({"schema_version": 1, "scenes": "x"}), "utf-8")
    (tmp_path / "show.json.bak").write_text(json.dumps({"schema_version": 1, "scenes": "y"}), "utf-8")
    with pytest.raises(DamagedFileError) as info:
        load_collection(path)
    assert info.value.backup is None
