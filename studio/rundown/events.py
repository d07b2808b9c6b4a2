"""What the rundown executor tells the UI and services (scenes.events.Signal, emitted on the clock thread)."""

from __future__ import annotations

from dataclasses import dataclass, field

from scenes.events import Signal


@dataclass(frozen=True)
class SegmentStarted:
    segment: str
    title: str
    kind: str  # drama | live
    frame: int  # the program frame that shows the segment's first picture
    scheduled_frame: int  # where it was due (later only when a live switch had to wait for a clip)
    prerolled: bool  # the clip was opened and decoded before its first frame


@dataclass(frozen=True)
class MarkerFired:
    segment: str
    marker: str
    kind: str  # product | vote | branch
    action: str  # show | hide | open
    frame: int
    scheduled_frame: int
    detail: str = ""  # the poll id, the card source

    @property
    def offset_frames(self) -> int:
        return self.frame - self.scheduled_frame


@dataclass(frozen=True)
class BranchTaken:
    segment: str
    branch: str
    vote: str
    winner: int
    option: str
    target: str
    decided_by: str  # votes | default | director | no_votes | no_poll | path | next
    counts: tuple[int, ...]
    frame: int
    scheduled_frame: int
    candidates_ready: tuple[tuple[str, bool], ...]  # (segment, decoded before the branch frame)


@dataclass(frozen=True)
class Prerolled:
    segments: tuple[str, ...]
    frame: int


@dataclass(frozen=True)
class RundownFinished:
    frame: int


@dataclass(frozen=True)
class RundownProblem:
    message: str
    frame: int


@dataclass(frozen=True)
class UpcomingProduct:
    marker: str
    source: str
    scene: str
    in_s: float  # seconds until it shows


@dataclass(frozen=True)
class RundownStatus:
    """A snapshot for the director's dock (plain values, safe to read on any thread)."""

    state: str = "idle"  # idle | starting | running | finished | stopped
    frame: int = 0
    segment: str | None = None
    title: str = ""
    kind: str = ""
    position_s: float = 0.0  # segment time (clip time for drama)
    remaining_s: float | None = None  # to the segment's planned end; None when open-ended
    next_marker: str = ""  # e.g. "vote: 她应该买吗?"
    next_marker_in_s: float | None = None
    next_branch_in_s: float | None = None
    upcoming_products: tuple[UpcomingProduct, ...] = field(default_factory=tuple)
    next_segment: str | None = None  # what "next" or the planned end leads to (None: a branch decides)


class RundownEvents:
    def __init__(self) -> None:
        self.segment_started: Signal[SegmentStarted] = Signal()
        self.marker_fired: Signal[MarkerFired] = Signal()
        self.branch_taken: Signal[BranchTaken] = Signal()
        self.prerolled: Signal[Prerolled] = Signal()
        self.finished: Signal[RundownFinished] = Signal()
        self.problem: Signal[RundownProblem] = Signal()
        self.status: Signal[RundownStatus] = Signal()
