"""Rundown files: round trip, relative clip paths, atomic write with backup, damaged and newer files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.rundown import (
    BranchPoint,
    DramaSegment,
    LiveSegment,
    ProductMoment,
    Rundown,
    VotePoint,
    load_rundown,
    load_rundown_backup,
    save_rundown,
)
from studio.rundown.persistence import SCHEMA_VERSION, rundown_to_dict
from studio.storage import DamagedFileError


def sample(folder: Path) -> Rundown:
    r = Rundown("周五晚场", drama_source="剧集 Episode", drama_scene="Drama", collection=str(folder / "show.json"))
    ep = DramaSegment("第1集", folder / "clips" / "ep.mp4", 0.5, 9.5, segment_id="ep")
    ep.add_marker(ProductMoment(3.0, "Drama", "商品卡 Product", 4.0, id="p1"))
    ep.add_marker(VotePoint(1.0, "她应该买吗?", ("买", "不买"), 20.0, "director", 1, id="v1"))
    ep.add_marker(BranchPoint(9.5, "v1", ("a", "b"), id="br"))
    r.add_segment(ep)
    r.add_segment(DramaSegment("结局A", "/elsewhere/a.mp4", segment_id="a", then="live"))
    r.add_segment(DramaSegment("结局B", folder / "b.mp4", 0.0, 6.0, scene="Drama + Host", segment_id="b", then="live"))
    r.add_segment(LiveSegment("带货", "Live", 30.0, segment_id="live"))
    return r


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "show.rundown.json"
    original = sample(tmp_path)
    save_rundown(original, path)
    data = json.loads(path.read_text("utf-8"))
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["segments"][0]["path"] == "clips/ep.mp4"  # inside the show folder: stored relative
    assert data["segments"][1]["path"] == "/elsewhere/a.mp4"
    assert data["collection"] == "show.json"
    loaded = load_rundown(path)
    assert rundown_to_dict(loaded, tmp_path) == rundown_to_dict(original, tmp_path)
    ep = loaded.segment("ep")
    assert isinstance(ep, DramaSegment) and ep.path == str(tmp_path / "clips" / "ep.mp4")
    vote = loaded.vote_point("v1")
    assert (vote.options, vote.tie_rule, vote.default_option) == (("买", "不买"), "director", 1)
    assert loaded.collection == str(tmp_path / "show.json")


def test_second_save_keeps_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "show.rundown.json"
    r = sample(tmp_path)
    save_rundown(r, path)
    r.name = "renamed"
    save_rundown(r, path)
    assert load_rundown(path).name == "renamed"
    assert load_rundown_backup(path).name == "周五晚场"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", "is not valid JSON"),
        (b"\xff\xfe\x00", "is not UTF-8"),
        (json.dumps({"schema_version": 99, "segments": []}).encode(), "schema_version 99 is newer"),
        (json.dumps({"segments": []}).encode(), "missing or bad schema_version"),
        (json.dumps({"schema_version": 1, "kind": "scene-collection"}).encode(), "not a rundown"),
        (json.dumps({"schema_version": 1, "segments": [{"type": "drama", "id": "x", "title": "t"}]}).encode(),
         "segment 1: missing field 'path'"),
        (json.dumps({"schema_version": 1, "segments": [
            {"type": "drama", "id": "x", "title": "t", "path": "a.mp4", "in_s": 5, "out_s": 2}]}).encode(),
         "segment 1: segment x: the out point"),
        (json.dumps({"schema_version": 1, "segments": [{"type": "live", "id": "x", "title": "t", "scene": "L",
                                                        "markers": [{"type": "boom", "id": "m", "at_s": 1}]}]}).encode(),
         "segment 1 marker 1: unknown marker type 'boom'"),
        (json.dumps({"schema_version": 1, "segments": [{"type": "live", "id": "x", "title": "t", "scene": "L",
                                                        "markers": [{"type": "branch", "id": "b", "at_s": 1,
                                                                     "vote": "v", "targets": ["x", "y"]}]}]}).encode(),
         "no vote point 'v'"),
        (json.dumps([1, 2]).encode(), "rundown: expected an object"),
    ],
)
def test_damaged_files_name_the_file_and_problem(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "bad.rundown.json"
    path.write_bytes(content)
    with pytest.raises(DamagedFileError) as info:
        load_rundown(path)
    assert problem in str(info.value) and str(path) in str(info.value)
    assert info.value.backup is None


def test_damaged_file_offers_its_backup(tmp_path: Path) -> None:
    path = tmp_path / "show.rundown.json"
    save_rundown(sample(tmp_path), path)
    save_rundown(sample(tmp_path), path)
    path.write_text("{", "utf-8")
    with pytest.raises(DamagedFileError) as info:
        load_rundown(path)
    assert info.value.backup == tmp_path / "show.rundown.json.bak"
    assert "A backup is available" in str(info.value)
    assert load_rundown_backup(path).segment("ep").title == "第1集"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DamagedFileError, match="file not found"):
        load_rundown(tmp_path / "nope.json")
