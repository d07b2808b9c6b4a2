"""Pre-flight: every clip and image the show can reach is opened before going live, every branch.

Real clips (H.264 + AAC through PyAV), a clip damaged inside (its header intact, its pictures
zeroed: it opens, but nothing decodes), a missing clip, real image files; `studio headless`
in-process on the real engine.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.clip_writer import write_clip
from studio.collections import save_collection
from studio.headless import run_headless
from studio.rundown import BranchPoint, DramaSegment, LiveSegment, Rundown, VotePoint, save_rundown
from studio.rundown.preflight import Problem, check_clip, preflight, preflight_file, reachable_segments


def good_clip(path: Path, audio: bool = True, frames: int = 25) -> str:
    pictures = (np.full((72, 128, 3), 10 * i % 250, np.uint8) for i in range(frames))
    sound = np.zeros((48_000 * frames // 25, 2), np.float32) if audio else None
    write_clip(path, pictures, 25, (128, 72), sound)
    return str(path)


def damaged_clip(path: Path) -> str:
    """A clip whose container is fine but whose coded pictures are all zeros."""
    good_clip(path)
    data = bytearray(path.read_bytes())
    start, moov = data.find(b"mdat") + 4, data.find(b"moov") - 4
    assert 0 < start < moov
    data[start:moov] = bytes(moov - start)
    path.write_bytes(bytes(data))
    return str(path)


def audio_only(path: Path) -> str:
    import av

    with av.open(str(path), "w") as out:
        a = out.add_stream("aac", rate=48_000)
        a.layout = "stereo"
        for k in range(20):
            f = av.AudioFrame.from_ndarray(np.zeros((2, 1024), np.float32), format="fltp", layout="stereo")
            f.sample_rate, f.pts = 48_000, k * 1024
            for p in a.encode(f):
                out.mux(p)
        for p in a.encode():
            out.mux(p)
    return str(path)


def branching_show(episode: str, ending_a: str, ending_b: str, orphan: str) -> Rundown:
    """episode -> vote -> A | B -> live; the orphan segment is never reached (not listed)."""
    r = Rundown("preflight show", drama_source="drama", drama_scene="Drama")
    ep = DramaSegment("episode", episode, segment_id="ep")
    ep.add_marker(VotePoint(0.1, "她应该买吗?", ("买", "不买"), 10.0, id="v1"))
    ep.add_marker(BranchPoint(0.8, "v1", ("a", "b"), id="br1"))
    r.add_segment(ep)
    r.add_segment(DramaSegment("orphan", orphan, segment_id="orphan", then="live"))
    r.add_segment(DramaSegment("ending A", ending_a, segment_id="a", then="live"))
    r.add_segment(DramaSegment("ending B", ending_b, segment_id="b", then="live"))
    r.add_segment(LiveSegment("sell", "Live", 1.0, segment_id="live"))
    return r


def show_collection(episode: str) -> SceneCollection:
    col = SceneCollection("preflight", VideoFormat(1280, 720, 25))
    col.add_source("drama", "media", {"path": episode})
    col.add_source("host", "color", {"color": "#FF00FF00", "width": 1280, "height": 720})
    col.add_scene("Drama").add_item(SceneItem("drama"))
    col.add_scene("Live").add_item(SceneItem("host"))
    return col


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    return {
        "episode": good_clip(tmp_path / "episode.mp4"),
        "missing": str(tmp_path / "结局A-missing.mp4"),
        "damaged": damaged_clip(tmp_path / "ending-b.mp4"),
        "orphan": str(tmp_path / "never-reached.mp4"),
    }


def test_every_branch_path_is_walked(files: dict[str, str]) -> None:
    show = branching_show(files["episode"], files["missing"], files["damaged"], files["orphan"])
    assert [s.id for s in reachable_segments(show)] == ["ep", "a", "b", "live"]


def test_missing_and_damaged_clips_in_two_branches_are_both_listed(files: dict[str, str]) -> None:
    show = branching_show(files["episode"], files["missing"], files["damaged"], files["orphan"])
    problems = preflight(show, show_collection(files["episode"]))
    assert problems == [
        Problem(files["missing"], "file not found", "segment a (ending A)"),
        Problem(files["damaged"], "no decodable picture", "segment b (ending B)"),
    ]
    assert str(problems[0]) == f"segment a (ending A): {files['missing']}: file not found"


def test_streams_and_points_are_checked_as_the_clip_is_used(tmp_path: Path, files: dict[str, str]) -> None:
    sound = audio_only(tmp_path / "voice.m4a")
    assert check_clip(sound) is None  # a media source may play sound only ...
    assert check_clip(sound, need_video=True) == "no video stream (a drama segment needs pictures)"  # ... a drama not
    assert check_clip(files["episode"], True, in_s=0.5) is None
    reason = check_clip(files["episode"], True, in_s=3.0)
    assert reason is not None and reason.startswith("the in point (3 s) is past the clip's end")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(3).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    reason = check_clip(str(junk))
    assert reason is not None and reason.startswith("not a playable media file")


def test_the_scenes_files_are_checked_too(tmp_path: Path, files: dict[str, str]) -> None:
    png = tmp_path / "ok.png"
    assert cv2.imwrite(str(png), np.zeros((8, 8, 3), np.uint8))
    col = show_collection(files["episode"])
    col.add_source("poster", "image", {"path": str(tmp_path / "gone.png")})
    col.add_source("lipstick", "product_card", {"title": "口红", "image": str(tmp_path / "notes.png")})
    (tmp_path / "notes.png").write_text("not a picture")
    col.add_source("cam", "camera", {"device": "0", "fallback_image": str(png)})
    col.add_source("clip", "media", {"path": files["damaged"]})
    col.add_source("unused", "media", {"path": str(tmp_path / "unused.mp4")})  # in no scene: never on air
    live = col.scene("Live")
    for name in ("poster", "lipstick", "cam", "clip"):
        live.add_item(SceneItem(name))
    problems = preflight(None, col)
    assert [(p.where, p.path, p.reason) for p in problems] == [
        ("source poster (image)", str(tmp_path / "gone.png"), "file not found"),
        ("source lipstick (product_card) image", str(tmp_path / "notes.png"),
         "not a supported image (PNG, JPEG, BMP, WebP, TIFF)"),
        ("source clip (media)", files["damaged"], "no decodable picture"),
    ]


def test_a_rundown_that_does_not_load_or_does_not_fit_is_a_problem(tmp_path: Path, files: dict[str, str]) -> None:
    bad = tmp_path / "bad-rundown.json"
    bad.write_text("{ not json")
    problems = preflight_file(bad, None)
    assert len(problems) == 1 and problems[0].path == str(bad) and problems[0].where == "rundown"
    show = branching_show(files["episode"], files["episode"], files["episode"], files["episode"])
    col = show_collection(files["episode"])
    col.remove_scene("Live")
    assert [p.reason for p in preflight(show, col)] == ["segment live: no scene named 'Live' in the collection"]


def headless_args(tmp_path: Path, files: dict[str, str], strict: bool, **extra: object) -> argparse.Namespace:
    collection = tmp_path / "show.json"
    save_collection(show_collection(files["episode"]), collection)
    rundown = tmp_path / "show-rundown.json"
    save_rundown(branching_show(files["episode"], files["missing"], files["damaged"], files["orphan"]), rundown)
    base = {"collection": collection, "scene": None, "record": None, "stream": None, "token_env": None,
            "seconds": None, "rundown": rundown, "strict": strict}
    return argparse.Namespace(**{**base, **extra})


def test_headless_strict_lists_the_problems_and_does_not_go_live(
    tmp_path: Path, files: dict[str, str], studio_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_headless(headless_args(tmp_path, files, strict=True)) == 2
    out, err = capsys.readouterr()
    lines = [line for line in out.splitlines() if line.startswith("studio: pre-flight: ")]
    assert lines == [
        f"studio: pre-flight: segment a (ending A): {files['missing']}: file not found",
        f"studio: pre-flight: segment b (ending B): {files['damaged']}: no decodable picture",
        "studio: pre-flight: 2 problem(s)",
    ]
    assert "--strict" in err and "headless show of" not in out  # nothing started


def test_headless_lists_the_problems_and_still_goes_live(
    tmp_path: Path, files: dict[str, str], studio_home: Path, memory_keyring: object,
    capsys: pytest.CaptureFixture[str]
) -> None:
    # streaming to a closed port on loopback: no local relay to bind, and the show runs regardless
    args = headless_args(tmp_path, files, strict=False, stream="http://127.0.0.1:9/whip", seconds=0.5)
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(run_headless(args)), name="test-headless")
    worker.start()
    worker.join(120)
    assert not worker.is_alive()
    out = capsys.readouterr().out
    assert f"studio: pre-flight: segment a (ending A): {files['missing']}: file not found" in out
    assert f"studio: pre-flight: segment b (ending B): {files['damaged']}: no decodable picture" in out
    assert out.index("pre-flight: 2 problem(s)") < out.index("headless show of")
    assert "studio: running the rundown" in out
