"""The rundown executor on the engine's frame counter, rendered offline with real clips.

Clips are tiny H.264 files whose pixels carry their identity: row 0 holds the frame number and
row 1 the clip number as black/white blocks, so every composited program frame says which clip
frame it shows (and a black or held frame cannot hide).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.engine import Studio
from studio.rundown import (
    BranchPoint,
    BranchTaken,
    DramaSegment,
    FramePolls,
    LiveSegment,
    MarkerFired,
    ProductMoment,
    Rundown,
    RundownExecutor,
    SegmentStarted,
    VotePoint,
)

FPS = 25
W, H = 320, 240
BITS = 8
BLOCK = W // BITS
CARD_AT = (1000, 500)


def _stamp(i: int, clip: int) -> np.ndarray:
    img = np.full((H, W, 3), 60, np.uint8)
    for row, value in ((0, i), (1, clip)):
        for b in range(BITS):
            img[row * BLOCK:(row + 1) * BLOCK, b * BLOCK:(b + 1) * BLOCK] = 255 if value >> b & 1 else 0
    return img


def make_clip(path: Path, clip: int, frames: int) -> str:
    """A 25 fps H.264 clip (with AAC sound) whose frame numbers are drawn as blocks."""
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=FPS)
        v.width, v.height, v.pix_fmt = W, H, "yuv420p"
        v.options = {"g": "10", "bf": "2", "preset": "ultrafast", "crf": "30"}
        a = out.add_stream("aac", rate=48_000)
        a.layout = "stereo"
        written = 0
        for i in range(frames):
            f = av.VideoFrame.from_ndarray(_stamp(i, clip), format="rgb24")
            f.pts = i
            for p in v.encode(f):
                out.mux(p)
            while written < (i + 1) * 48_000 // FPS:
                s = np.zeros((2, 1024), np.float32)
                af = av.AudioFrame.from_ndarray(s, format="fltp", layout="stereo")
                af.sample_rate, af.pts = 48_000, written
                written += 1024
                for p in a.encode(af):
                    out.mux(p)
        for p in v.encode():
            out.mux(p)
        for p in a.encode():
            out.mux(p)
    return str(path)


def identity(px: np.ndarray) -> tuple[int, int] | None:
    """(clip, frame) drawn in a program frame's top-left corner; None for anything else (black)."""
    def read(row: int) -> int:
        y = row * BLOCK + BLOCK // 2
        cells = [int(px[y, b * BLOCK + BLOCK // 2, 1]) for b in range(BITS)]
        reds = [int(px[y, b * BLOCK + BLOCK // 2, 2]) for b in range(BITS)]
        if any(40 < c < 215 or abs(c - r) > 40 for c, r in zip(cells, reds, strict=True)):
            raise ValueError("not a stamp")
        return sum(1 << b for b, c in enumerate(cells) if c > 128)
    try:
        clip = read(1)
        return (clip, read(0)) if clip else None
    except ValueError:
        return None


def card_visible(px: np.ndarray) -> bool:
    x, y = CARD_AT
    return bool(px[y + 10, x + 10, 2] > 200 and px[y + 10, x + 10, 1] < 50)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("clips")
    return {
        "episode": make_clip(d / "episode.mp4", 1, 40),
        "a": make_clip(d / "a.mp4", 2, 20),
        "b": make_clip(d / "b.mp4", 3, 20),
    }


def collection(episode: str) -> SceneCollection:
    col = SceneCollection("t", VideoFormat(1280, 720, FPS))
    col.add_source("drama", "media", {"path": episode, "loop": True})
    col.add_source("card", "color", {"color": "#FFFF0000", "width": 100, "height": 100})
    col.add_source("host", "color", {"color": "#FF00FF00", "width": 1280, "height": 720})
    drama = col.add_scene("Drama")
    drama.add_item(SceneItem("drama"))
    drama.add_item(SceneItem("card", x=CARD_AT[0], y=CARD_AT[1]))
    live = col.add_scene("Live")
    live.add_item(SceneItem("host"))
    live.add_item(SceneItem("card", x=CARD_AT[0], y=CARD_AT[1]))
    col.program_scene = "Live"
    return col


def show(clips: dict[str, str], tie_rule: str = "default", default_option: int = 0) -> Rundown:
    """episode (0.4 s product card for 0.4 s, vote at 0.2 s, branch at its end, 1.2 s) -> A | B -> live."""
    r = Rundown("test show", drama_source="drama", drama_scene="Drama")
    ep = DramaSegment("episode", clips["episode"], 0.0, 1.2, segment_id="ep")
    ep.add_marker(ProductMoment(0.4, "Drama", "card", 0.4, id="card1"))
    ep.add_marker(VotePoint(0.2, "她应该买吗?", ("买", "不买"), 10.0, tie_rule, default_option, id="v1"))  # type: ignore[arg-type]
    ep.add_marker(BranchPoint(1.2, "v1", ("a", "b"), id="br1"))
    r.add_segment(ep)
    r.add_segment(DramaSegment("ending A", clips["a"], segment_id="a", then="live"))
    r.add_segment(DramaSegment("ending B", clips["b"], segment_id="b", then="live"))
    live = LiveSegment("sell", "Live", 0.8, segment_id="live")
    live.add_marker(ProductMoment(0.2, "Live", "card", 0.4, id="card2"))
    r.add_segment(live)
    return r


class Recorder:
    def __init__(self, executor: RundownExecutor) -> None:
        self.started: list[SegmentStarted] = []
        self.fired: list[MarkerFired] = []
        self.branches: list[BranchTaken] = []
        executor.events.segment_started.connect(self.started.append)
        executor.events.marker_fired.connect(self.fired.append)
        executor.events.branch_taken.connect(self.branches.append)


@pytest.fixture
def studio(clips: dict[str, str]) -> Iterator[Studio]:
    s = Studio(collection(clips["episode"]))
    yield s
    s.stop()


def render(studio: Studio, executor: RundownExecutor, frames: int,
           votes: dict[int, list[int]] | None = None) -> list[np.ndarray]:
    """Render ``frames`` program frames offline; ``votes[frame]`` are cast just before that frame."""
    out = []
    for i in range(frames):
        for n, option in enumerate((votes or {}).get(i, [])):
            poll = executor.poll_for("v1")
            assert poll is not None and poll.vote(f"viewer{i}-{n}", option) == "accepted"
        out.append(studio.render_offline(i).pixels.copy())
        if executor.state == "finished":
            break
    return out


def test_markers_fire_on_their_frames_and_the_branch_is_gapless(studio: Studio, clips: dict[str, str]) -> None:
    polls = FramePolls()
    executor = RundownExecutor(studio, show(clips), polls, offline=True)
    rec = Recorder(executor)
    executor.start()
    frames = render(studio, executor, 100, votes={10: [1, 1, 0]})
    executor.stop()

    ids = [identity(px) for px in frames]
    # the show starts on frame 0 with the episode's first picture, then every frame is the next one
    assert ids[:30] == [(1, i) for i in range(30)]
    # branch at 1.2 s = frame 30: option B won 2:1, its first picture follows the episode's last
    assert ids[30:50] == [(3, i) for i in range(20)]
    assert [b.target for b in rec.branches] == ["b"]
    branch = rec.branches[0]
    assert (branch.frame, branch.scheduled_frame, branch.decided_by, branch.counts) == (30, 30, "votes", (1, 2))
    assert dict(branch.candidates_ready) == {"a": True, "b": True}  # pre-decoded before the branch frame
    assert [(s.segment, s.frame) for s in rec.started] == [("ep", 0), ("b", 30), ("live", 50)]
    assert all(s.prerolled for s in rec.started if s.kind == "drama")

    # product card: on at 0.4 s (frame 10) for 0.4 s; the live one at 50 + 5 for 10 frames
    shown = [i for i, px in enumerate(frames) if card_visible(px)]
    assert shown == list(range(10, 20)) + list(range(55, 65))
    product = [(f.marker, f.action, f.frame, f.offset_frames) for f in rec.fired if f.kind == "product"]
    assert product == [("card1", "show", 10, 0), ("card1", "hide", 20, 0),
                       ("card2", "show", 55, 0), ("card2", "hide", 65, 0)]
    vote = [f for f in rec.fired if f.kind == "vote"]
    assert [(f.frame, f.scheduled_frame) for f in vote] == [(5, 5)]
    assert polls.polls[0].state == "closed"  # the branch point closed it

    # live segment: 0.8 s of the host scene, then the show is over
    assert all(identity(px) is None and px[360, 640, 1] > 200 for px in frames[50:70])
    assert len(frames) == 71 and executor.state == "finished"
    assert executor.history == ["ep", "b", "live"]
    # the card's visibility is given back when the show stops
    items = [it for s in studio.collection.scenes for it in s.items if it.source == "card"]
    assert all(it.visible for it in items)


@pytest.mark.parametrize(
    ("votes", "tie_rule", "default", "winner", "decided_by"),
    [
        ({}, "default", 1, "b", "no_votes"),  # nobody voted: the default option
        ({3: [0, 1]}, "default", 1, "b", "default"),  # a tie: the default option
        ({3: [0, 1]}, "default", 0, "a", "default"),
        ({3: [0, 0, 1]}, "default", 1, "a", "votes"),  # the majority beats the default
        ({3: [0, 1]}, "director", 1, "b", "default"),  # a tie nobody picked by the branch frame
    ],
)
def test_branch_choice(studio: Studio, clips: dict[str, str], votes: dict[int, list[int]],
                       tie_rule: str, default: int, winner: str, decided_by: str) -> None:
    votes = {k + 5: v for k, v in votes.items()}  # the poll opens on frame 5
    executor = RundownExecutor(studio, show(clips, tie_rule, default), FramePolls(), offline=True)
    rec = Recorder(executor)
    executor.start()
    frames = render(studio, executor, 32, votes)
    executor.stop()
    assert [(b.target, b.decided_by) for b in rec.branches] == [(winner, decided_by)]
    assert identity(frames[31]) == ({"a": 2, "b": 3}[winner], 1)


def test_forced_path_and_director_next(studio: Studio, clips: dict[str, str]) -> None:
    executor = RundownExecutor(studio, show(clips), FramePolls(), offline=True, path=[0])
    rec = Recorder(executor)
    executor.start()
    frames = render(studio, executor, 12)
    executor.next()  # the director ends the episode early: the branch is taken now (forced: A)
    frames += [studio.render_offline(i).pixels.copy() for i in range(12, 15)]
    executor.next("live")  # and skips the rest of ending A
    frames += [studio.render_offline(i).pixels.copy() for i in range(15, 17)]
    executor.stop()
    assert [(b.target, b.decided_by, b.frame, b.scheduled_frame) for b in rec.branches] == [("a", "path", 12, 12)]
    assert [identity(px) for px in frames[10:15]] == [(1, 10), (1, 11), (2, 0), (2, 1), (2, 2)]
    assert identity(frames[15]) is None and studio.collection.program_scene == "Live"
    assert executor.history == ["ep", "a", "live"]


def test_status_reports_time_to_markers_and_upcoming_products(studio: Studio, clips: dict[str, str]) -> None:
    executor = RundownExecutor(studio, show(clips), FramePolls(), offline=True)
    executor.start()
    render(studio, executor, 3)
    status = executor.status()
    executor.stop()
    assert (status.state, status.segment, status.kind) == ("running", "ep", "drama")
    assert status.position_s == pytest.approx(2 / FPS)
    assert status.next_marker.startswith("vote") and status.next_marker_in_s == pytest.approx(3 / FPS)
    assert status.next_branch_in_s == pytest.approx(28 / FPS)
    assert [(p.marker, round(p.in_s * FPS)) for p in status.upcoming_products] == [("card1", 8)]


def test_start_rejects_a_rundown_that_does_not_fit_the_collection(studio: Studio, clips: dict[str, str]) -> None:
    r = show(clips)
    r.drama_scene = "Nowhere"
    executor = RundownExecutor(studio, r, FramePolls(), offline=True)
    with pytest.raises(ValueError, match="Nowhere"):
        executor.start()
    r.drama_scene, r.drama_source = "Drama", "card"
    with pytest.raises(ValueError, match="not a media source"):
        executor.start()


def test_branch_clips_are_prerolled_before_the_branch_frame(studio: Studio, clips: dict[str, str]) -> None:
    executor = RundownExecutor(studio, show(clips), FramePolls(), offline=True, preroll_lead_s=0.4)
    prerolled: list[tuple[tuple[str, ...], int]] = []
    executor.events.prerolled.connect(lambda e: prerolled.append((e.segments, e.frame)))
    rec = Recorder(executor)
    executor.start()
    frames = render(studio, executor, 32)
    executor.stop()
    assert prerolled == [(("a", "b"), 20)]  # 0.4 s before the branch on frame 30
    assert dict(rec.branches[0].candidates_ready) == {"a": True, "b": True}
    assert [identity(px) for px in frames[28:32]] == [(1, 28), (1, 29), (2, 0), (2, 1)]
