"""The drama rundown: segments, product moments, vote and branch points; saved as JSON and run on
the engine's frame clock by the executor. See model.py (what), executor.py (when)."""

from studio.rundown.events import (
    BranchTaken,
    MarkerFired,
    Prerolled,
    RundownEvents,
    RundownFinished,
    RundownProblem,
    RundownStatus,
    SegmentStarted,
    UpcomingProduct,
)
from studio.rundown.executor import RundownExecutor
from studio.rundown.markers import BranchPoint, Marker, ProductMoment, VotePoint
from studio.rundown.model import DramaSegment, LiveSegment, Rundown, Segment
from studio.rundown.persistence import load_rundown, load_rundown_backup, save_rundown
from studio.rundown.polls import FramePolls, PollHost

__all__ = [
    "BranchPoint", "BranchTaken", "DramaSegment", "FramePolls", "LiveSegment", "Marker", "MarkerFired",
    "PollHost", "Prerolled", "ProductMoment", "Rundown", "RundownEvents", "RundownExecutor",
    "RundownFinished", "RundownProblem", "RundownStatus", "Segment", "SegmentStarted", "UpcomingProduct",
    "VotePoint", "load_rundown", "load_rundown_backup", "save_rundown",
]  # fmt: skip
