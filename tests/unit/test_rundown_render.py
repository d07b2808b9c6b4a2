"""`studio render --rundown`: one branch path rendered to MP4, checked frame by frame after decoding."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from test_rundown_executor import collection, identity, make_clip, show

from studio.collections import save_collection
from studio.render_rundown import render_rundown
from studio.rundown import save_rundown


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("show")
    clips = {"episode": make_clip(d / "episode.mp4", 1, 40), "a": make_clip(d / "a.mp4", 2, 20),
             "b": make_clip(d / "b.mp4", 3, 20)}
    save_collection(collection(clips["episode"]), d / "collection.json")
    rundown = show(clips)
    rundown.collection = str(d / "collection.json")
    save_rundown(rundown, d / "show.rundown.json")
    return d


def test_renders_the_chosen_branch_gaplessly(files: Path, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> bool:
        seen.append((done, total))
        return True

    result = render_rundown(files / "show.rundown.json", "B", tmp_path / "out.mp4", progress)
    assert result.output == tmp_path / "out.mp4" and not result.cancelled
    assert result.segments == ("ep", "b", "live") and result.branches == (("br1", "不买"),)
    assert result.frames == 70 and seen[-1] == (70, 70) and len(seen) == 70
    with av.open(str(result.output)) as c:
        assert c.streams.audio and c.streams.video
        ids = [identity(f.to_ndarray(format="bgra")) for f in c.decode(video=0)]
    assert ids[:50] == [(1, i) for i in range(30)] + [(3, i) for i in range(20)]
    assert ids[50:] == [None] * 20  # the live scene
    assert not (tmp_path / "out.mp4.part").exists()


def test_bad_path_is_refused_before_rendering(files: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="passes only 1 branch point"):
        render_rundown(files / "show.rundown.json", "A,B", tmp_path / "out.mp4")
    with pytest.raises(ValueError, match="reaches another branch point"):
        render_rundown(files / "show.rundown.json", "", tmp_path / "out.mp4")
    assert list(tmp_path.iterdir()) == []


def test_cancel_leaves_no_file(files: Path, tmp_path: Path) -> None:
    result = render_rundown(files / "show.rundown.json", "A", tmp_path / "out.mp4", lambda done, _t: done < 5)
    assert result.cancelled and result.output is None and result.frames == 5
    assert list(tmp_path.iterdir()) == []
