"""Segment lengths in frames and the route a show takes for given branch choices.

Used by the executor (where a segment ends) and by ``studio render --rundown --path A,B`` (which
option each branch point takes, and how many frames the render will have).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from studio.rundown.clips import frames_of
from studio.rundown.model import DramaSegment, LiveSegment, Rundown, Segment

ClipEnd = Callable[[str], float | None]  # clip path -> the clip's length in seconds (None: unknown)
MAX_ROUTE_SEGMENTS = 1000  # a rundown whose "then" links loop forever is cut here


def segment_frames(segment: Segment, fps: int, clip_end: ClipEnd, live_default_s: float | None = None) -> int | None:
    """How many program frames a segment shows before it ends by itself (None: open-ended)."""
    branch = segment.branch
    if isinstance(segment, DramaSegment):
        end = segment.out_s or clip_end(segment.path)
        if branch is not None:
            end = branch.at_s if end is None else min(end, branch.at_s)
        if end is None:
            return None
        return max(1, frames_of(end - segment.in_s, fps))
    if isinstance(segment, LiveSegment):
        end_s = segment.duration_s or live_default_s
        if branch is not None:
            end_s = branch.at_s if end_s is None else min(end_s, branch.at_s)
        return None if end_s is None else max(1, frames_of(end_s, fps))
    return None


def parse_path(path: str | Sequence[str | int], rundown: Rundown) -> list[int]:
    """``"A,B"`` -> option indices. Each item is a letter (A = first option), a 1-based number, or
    the option's text; ``rundown`` is only read to resolve option texts (in route order later)."""
    items: list[str | int] = [p.strip() for p in path.split(",")] if isinstance(path, str) else list(path)
    out: list[int] = []
    for n, item in enumerate(items, 1):
        if isinstance(item, int) and not isinstance(item, bool):
            if item < 0:
                raise ValueError(f"path choice {n}: {item} is not an option")
            out.append(item)
            continue
        if not isinstance(item, str) or not item:
            raise ValueError(f"path choice {n} is empty")
        if len(item) == 1 and item.isascii() and item.isalpha():
            out.append(ord(item.upper()) - ord("A"))
        elif item.isdigit():
            if int(item) < 1:
                raise ValueError(f"path choice {n}: options count from 1, got {item}")
            out.append(int(item) - 1)
        else:
            out.append(_option_by_text(item, rundown, n))
    return out


def _option_by_text(text: str, rundown: Rundown, n: int) -> int:
    for _segment, branch in rundown.branch_points():
        try:
            options = rundown.vote_point(branch.vote).options
        except ValueError:
            continue
        if text in options:
            return options.index(text)
    raise ValueError(f"path choice {n}: {text!r} is not an option letter, number or option text")


@dataclass(frozen=True)
class RouteStep:
    segment: Segment
    frames: int | None
    choice: int | None  # the option taken at this segment's branch point


def plan_route(rundown: Rundown, choices: Sequence[int], fps: int, clip_end: ClipEnd,
               live_default_s: float | None = None, start: str | None = None) -> list[RouteStep]:
    """The segments played for ``choices`` (one per branch point met, in order). Raises ValueError
    when the choices do not fit the route (too few, too many, an option that does not exist)."""
    with rundown.lock:
        if not rundown.segments:
            raise ValueError("the rundown has no segments")
        current: str | None = start or rundown.segments[0].id
        left = list(choices)
        steps: list[RouteStep] = []
        while current is not None:
            if len(steps) >= MAX_ROUTE_SEGMENTS:
                raise ValueError(f"the route passes more than {MAX_ROUTE_SEGMENTS} segments (a loop of 'then'?)")
            segment = rundown.segment(current)
            frames = segment_frames(segment, fps, clip_end, live_default_s)
            branch = segment.branch
            if branch is None:
                steps.append(RouteStep(segment, frames, None))
                current = rundown.following(segment.id)
                continue
            options = rundown.vote_point(branch.vote).options
            if not left:
                raise ValueError(
                    f"the path has {len(choices)} choice(s) but the route reaches another branch point "
                    f"({branch.id} in segment {segment.id!r}: {', '.join(options)})"
                )
            choice = left.pop(0)
            if not 0 <= choice < len(branch.targets):
                letters = ", ".join(f"{chr(65 + i)}={o}" for i, o in enumerate(options))
                raise ValueError(f"path choice {len(choices) - len(left)}: option {choice + 1} does not exist "
                                 f"at branch point {branch.id} ({letters})")
            steps.append(RouteStep(segment, frames, choice))
            current = branch.targets[choice]
        if left:
            raise ValueError(f"the path has {len(choices)} choices but the route passes only "
                             f"{len(choices) - len(left)} branch point(s)")
        return steps
