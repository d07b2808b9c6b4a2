"""`studio render --rundown FILE --path A,B -o out.mp4`: one branch path of a show, rendered offline.

The rundown runs on a Studio driven by ``studio.render.render_studio`` (the same offline loop,
encoders, audio mixing and muxer as a scene render); the executor hooks the engine's frame hooks,
so its product moments, polls (on the frame clock) and branch switches land on exact frames.
``path`` picks the option taken at each branch point in order. The frame count is known before
rendering (``plan_route``), so the progress callback can draw a bar; returning False from it
cancels (the partial file is removed).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from studio.collections import load_collection
from studio.engine import Studio
from studio.interaction.overlays import show_polls_on_overlays
from studio.render import RenderCancelled, RenderResult, render_studio
from studio.rundown.clips import probe_clip
from studio.rundown.events import BranchTaken
from studio.rundown.executor import RundownExecutor
from studio.rundown.persistence import load_rundown
from studio.rundown.polls import FramePolls
from studio.rundown.route import parse_path, plan_route

log = logging.getLogger(__name__)

Progress = Callable[[int, int], bool | None]  # (frames done, frames total) -> False cancels
LIVE_DEFAULT_S = 10.0  # an open-ended live segment (until the director's next) renders this long


@dataclass(frozen=True)
class RundownRenderResult(RenderResult):
    segments: tuple[str, ...] = ()
    branches: tuple[tuple[str, str], ...] = ()  # (branch point, option taken)
    cancelled: bool = False

    @property
    def output(self) -> Path | None:
        """The file written; None when the render was cancelled."""
        return None if self.cancelled else self.path


def render_rundown(rundown_path: str | Path, path_choices: str | Sequence[str | int], output: str | Path,
                   progress: Progress | None = None, *, collection_path: str | Path | None = None,
                   live_default_s: float = LIVE_DEFAULT_S, encoder: str = "libx264") -> RundownRenderResult:
    """Render the show along ``path_choices`` ("A,B": the option at each branch point in order).

    Raises DamagedFileError for a bad rundown or collection file, ValueError for a path that does
    not fit the rundown (checked before anything is rendered) or a bad output path."""
    rundown = load_rundown(Path(rundown_path))
    col_file = collection_path or rundown.collection
    if col_file is None:
        raise ValueError(f"{rundown_path}: the rundown names no scene collection (pass collection_path)")
    collection = load_collection(Path(col_file))
    fps = collection.video.fps
    choices = parse_path(path_choices, rundown) if path_choices not in ("", ()) else []
    ends: dict[str, float | None] = {}

    def clip_end(p: str) -> float | None:
        if p not in ends:
            try:
                ends[p] = probe_clip(p).duration_s
            except ValueError:
                ends[p] = None
        return ends[p]

    route = plan_route(rundown, choices, fps, clip_end, live_default_s)
    if any(step.frames is None for step in route):
        open_ended = next(step.segment.id for step in route if step.frames is None)
        raise ValueError(f"segment {open_ended!r} has no known length (its clip cannot be read)")
    total = sum(step.frames or 0 for step in route)
    out = Path(output)

    studio = Studio(collection)
    polls = FramePolls()
    show_polls_on_overlays(polls, studio)  # the poll's live result is part of the picture
    executor = RundownExecutor(studio, rundown, polls, path=choices, offline=True)
    branches: list[BranchTaken] = []
    executor.events.branch_taken.connect(branches.append)
    rendered = 0
    cancel = False

    def on_progress(frames: int, of: int) -> None:
        nonlocal rendered, cancel
        rendered = frames
        if progress is not None and progress(frames, of) is False:
            cancel = True

    started = time.perf_counter()
    try:
        executor.start()
        result = render_studio(studio, total, out, encoder, on_progress, cancelled=lambda: cancel)
    except RenderCancelled:
        with contextlib.suppress(OSError):
            out.unlink()
        return RundownRenderResult(out, rendered, rendered / fps, time.perf_counter() - started,
                                   tuple(executor.history), (), cancelled=True)
    finally:
        executor.stop()
        studio.stop()
    return RundownRenderResult(result.path, result.frames, result.seconds, result.wall_s, tuple(executor.history),
                               tuple((b.branch, b.option) for b in branches))
