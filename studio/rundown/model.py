"""The rundown: a show as an ordered list of segments with markers. Setters validate and emit events.

A *drama* segment plays a clip from its in point to its out point (or its branch point) in the
rundown's drama source; a *live* segment cuts to a scene (the host stepping out of the drama to
sell). After a segment comes its ``then`` segment, or the next one in order; a branch point
instead picks the next segment by the vote's winner. Segments only reached by a branch (the
endings) set ``then`` to rejoin the show.

The executor reads the model on the video-clock thread; editors change it under ``lock``.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from scenes.events import Signal
from studio.rundown.markers import (
    BranchPoint,
    Marker,
    ProductMoment,
    VotePoint,
    check_id,
    check_text,
    check_time,
)

SegmentKind = Literal["drama", "live"]
MAX_SEGMENTS = 500
MAX_MARKERS = 200


# ---- events -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentChanged:
    segment: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class MarkersChanged:
    segment: str


@dataclass(frozen=True)
class SegmentsChanged:
    """Segments were added, removed or reordered."""


@dataclass(frozen=True)
class RundownSettingsChanged:
    fields: tuple[str, ...]


RundownEvent = SegmentChanged | MarkersChanged | SegmentsChanged | RundownSettingsChanged


def new_segment_id() -> str:
    return f"seg-{uuid.uuid4().hex[:8]}"


# ---- segments ---------------------------------------------------------------------------------


class Segment:
    """What drama and live segments share: an id, a title, markers and what comes after."""

    kind: SegmentKind = "drama"

    def __init__(self, title: str, segment_id: str | None = None, then: str | None = None) -> None:
        self.id = check_id("segment id", segment_id or new_segment_id())
        self._title = check_text(f"segment {self.id} title", title)
        self._then = self._check_then(then)
        self._markers: list[Marker] = []
        self._rundown: Rundown | None = None

    # -- fields --
    @property
    def title(self) -> str:
        return self._title

    @title.setter
    def title(self, value: str) -> None:
        self._set("title", check_text(f"segment {self.id} title", value))

    @property
    def then(self) -> str | None:
        """The segment after this one (None: the next in order). A branch point overrides it."""
        return self._then

    @then.setter
    def then(self, value: str | None) -> None:
        self._set("then", self._check_then(value))

    def _check_then(self, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        value = check_id(f"segment {self.id} then", value)
        if value == self.id:
            raise ValueError(f"segment {self.id} then: a segment cannot follow itself")
        return value

    def _set(self, name: str, value: Any) -> None:
        if getattr(self, "_" + name) != value:
            setattr(self, "_" + name, value)
            self._emit(SegmentChanged(self.id, (name,)))

    # -- time --
    @property
    def start_s(self) -> float:
        """Segment time at the first frame (a drama clip's in point)."""
        return 0.0

    @property
    def end_s(self) -> float:
        """Segment time of the planned end, 0 when open (clip end, or until the director's next)."""
        return 0.0

    def check_marker_time(self, at_s: float, what: str) -> None:
        if at_s < self.start_s:
            raise ValueError(f"segment {self.id}: {what} at {at_s:g} s is before the start ({self.start_s:g} s)")
        if self.end_s and at_s > self.end_s:
            raise ValueError(f"segment {self.id}: {what} at {at_s:g} s is after the end ({self.end_s:g} s)")

    # -- markers --
    @property
    def markers(self) -> tuple[Marker, ...]:
        """Sorted by time (stable for equal times)."""
        return tuple(sorted(self._markers, key=lambda m: m.at_s))

    def marker(self, marker_id: str) -> Marker:
        for m in self._markers:
            if m.id == marker_id:
                return m
        raise ValueError(f"segment {self.id} has no marker {marker_id!r}")

    @property
    def branch(self) -> BranchPoint | None:
        for m in self._markers:
            if isinstance(m, BranchPoint):
                return m
        return None

    def _check_marker(self, marker: Marker, replacing: str | None = None) -> None:
        if not isinstance(marker, ProductMoment | VotePoint | BranchPoint):
            raise ValueError(f"segment {self.id}: {marker!r} is not a marker")
        self.check_marker_time(marker.at_s, f"{marker.kind} marker {marker.id}")
        others = [m for m in self._markers if m.id != replacing]
        if any(m.id == marker.id for m in others):
            raise ValueError(f"segment {self.id} already has a marker {marker.id!r}")
        if isinstance(marker, BranchPoint) and any(isinstance(m, BranchPoint) for m in others):
            raise ValueError(f"segment {self.id} already has a branch point (one per segment)")
        if len(others) >= MAX_MARKERS:
            raise ValueError(f"segment {self.id} has the maximum of {MAX_MARKERS} markers")

    def add_marker(self, marker: Marker) -> Marker:
        with self._lock():
            self._check_marker(marker)
            self._markers.append(marker)
        self._emit(MarkersChanged(self.id))
        return marker

    def replace_marker(self, marker: Marker) -> None:
        """Put ``marker`` in place of the marker with the same id (markers are immutable values)."""
        with self._lock():
            old = self.marker(marker.id)
            self._check_marker(marker, replacing=marker.id)
            self._markers[self._markers.index(old)] = marker
        self._emit(MarkersChanged(self.id))

    def move_marker(self, marker_id: str, at_s: float) -> None:
        self.replace_marker(replace(self.marker(marker_id), at_s=at_s))

    def remove_marker(self, marker_id: str) -> None:
        with self._lock():
            self._markers.remove(self.marker(marker_id))
        self._emit(MarkersChanged(self.id))

    def _lock(self) -> threading.RLock:
        return self._rundown.lock if self._rundown is not None else _NO_LOCK

    def _emit(self, event: RundownEvent) -> None:
        if self._rundown is not None:
            self._rundown.changed.emit(event)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r}, {self._title!r})"


_NO_LOCK = threading.RLock()


class DramaSegment(Segment):
    """A clip from ``in_s`` to ``out_s`` (0 = the clip's end)."""

    kind: SegmentKind = "drama"

    def __init__(self, title: str, path: str | Path, in_s: float = 0.0, out_s: float = 0.0, *,
                 scene: str | None = None, segment_id: str | None = None, then: str | None = None,
                 clip: str | None = None) -> None:
        super().__init__(title, segment_id, then)
        self._path = self._check_path(path)
        self._clip = self._check_clip(clip)
        self._in_s = check_time(f"segment {self.id} in point", in_s)
        self._out_s = check_time(f"segment {self.id} out point", out_s)
        self._check_range(self._in_s, self._out_s)
        self._scene = None if scene is None else check_text(f"segment {self.id} scene", scene)

    def _check_path(self, path: str | Path) -> str:
        if isinstance(path, Path):
            path = str(path)
        return check_text(f"segment {self.id} clip", path, 4096)

    def _check_range(self, in_s: float, out_s: float) -> None:
        if out_s and out_s <= in_s:
            raise ValueError(f"segment {self.id}: the out point ({out_s:g} s) must be after the in point ({in_s:g} s)")
        for m in self._markers:
            if m.at_s < in_s or (out_s and m.at_s > out_s):
                raise ValueError(
                    f"segment {self.id}: {m.kind} marker {m.id} at {m.at_s:g} s would fall outside "
                    f"{in_s:g}-{out_s:g} s; move or remove it first"
                )

    @property
    def path(self) -> str:
        return self._path

    @path.setter
    def path(self, value: str | Path) -> None:
        self._set("path", self._check_path(value))

    def _check_clip(self, clip: str | None) -> str | None:
        return None if clip is None or clip == "" else check_id(f"segment {self.id} clip id", clip)

    @property
    def clip(self) -> str | None:
        """The clip's asset-library id (studio.library); ``path`` is where it was last found."""
        return self._clip

    @clip.setter
    def clip(self, value: str | None) -> None:
        self._set("clip", self._check_clip(value))

    @property
    def in_s(self) -> float:
        return self._in_s

    @in_s.setter
    def in_s(self, value: float) -> None:
        value = check_time(f"segment {self.id} in point", value)
        with self._lock():
            self._check_range(value, self._out_s)
            self._set("in_s", value)

    @property
    def out_s(self) -> float:
        return self._out_s

    @out_s.setter
    def out_s(self, value: float) -> None:
        value = check_time(f"segment {self.id} out point", value)
        with self._lock():
            self._check_range(self._in_s, value)
            self._set("out_s", value)

    def set_points(self, in_s: float, out_s: float) -> None:
        """Set both points at once (a new range may not contain the old in or out point)."""
        in_s = check_time(f"segment {self.id} in point", in_s)
        out_s = check_time(f"segment {self.id} out point", out_s)
        with self._lock():
            self._check_range(in_s, out_s)
            changed = tuple(n for n, v in (("in_s", in_s), ("out_s", out_s)) if getattr(self, "_" + n) != v)
            self._in_s, self._out_s = in_s, out_s
        if changed:
            self._emit(SegmentChanged(self.id, changed))

    @property
    def scene(self) -> str | None:
        """The scene shown while this segment plays (None: the rundown's drama scene)."""
        return self._scene

    @scene.setter
    def scene(self, value: str | None) -> None:
        self._set("scene", None if value is None else check_text(f"segment {self.id} scene", value))

    @property
    def start_s(self) -> float:
        return self._in_s

    @property
    def end_s(self) -> float:
        return self._out_s


class LiveSegment(Segment):
    """Cut to ``scene``; ``duration_s`` is the planned length (0 = until the director's next)."""

    kind: SegmentKind = "live"

    def __init__(self, title: str, scene: str, duration_s: float = 0.0, *,
                 segment_id: str | None = None, then: str | None = None) -> None:
        super().__init__(title, segment_id, then)
        self._scene = check_text(f"segment {self.id} scene", scene)
        self._duration_s = self._check_duration(duration_s)

    def _check_duration(self, value: float) -> float:
        value = check_time(f"segment {self.id} duration", value)
        for m in self._markers:
            if value and m.at_s > value:
                raise ValueError(f"segment {self.id}: {m.kind} marker {m.id} at {m.at_s:g} s is after {value:g} s")
        return value

    @property
    def scene(self) -> str:
        return self._scene

    @scene.setter
    def scene(self, value: str) -> None:
        self._set("scene", check_text(f"segment {self.id} scene", value))

    @property
    def duration_s(self) -> float:
        return self._duration_s

    @duration_s.setter
    def duration_s(self, value: float) -> None:
        with self._lock():
            self._set("duration_s", self._check_duration(value))

    @property
    def end_s(self) -> float:
        return self._duration_s


# ---- the rundown ------------------------------------------------------------------------------


class Rundown:
    """The show: which source plays the drama, which scene shows it, and the segments in order.

    ``collection`` is the scene collection file the rundown runs against (relative paths are
    relative to the rundown file; persistence resolves them).
    """

    def __init__(self, name: str = "Untitled show", drama_source: str = "剧集 Episode",
                 drama_scene: str = "Drama", collection: str | None = None) -> None:
        self.changed: Signal[RundownEvent] = Signal()
        self.lock = threading.RLock()
        self._name = check_text("rundown name", name)
        self._drama_source = check_text("rundown drama source", drama_source)
        self._drama_scene = check_text("rundown drama scene", drama_scene)
        self._collection = None if collection is None else check_text("rundown collection", collection, 4096)
        self._segments: list[Segment] = []

    # -- settings --
    def _set(self, name: str, value: Any) -> None:
        if getattr(self, "_" + name) != value:
            setattr(self, "_" + name, value)
            self.changed.emit(RundownSettingsChanged((name,)))

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._set("name", check_text("rundown name", value))

    @property
    def drama_source(self) -> str:
        """The collection's media source the drama segments play in (swapped at each segment)."""
        return self._drama_source

    @drama_source.setter
    def drama_source(self, value: str) -> None:
        self._set("drama_source", check_text("rundown drama source", value))

    @property
    def drama_scene(self) -> str:
        return self._drama_scene

    @drama_scene.setter
    def drama_scene(self, value: str) -> None:
        self._set("drama_scene", check_text("rundown drama scene", value))

    @property
    def collection(self) -> str | None:
        return self._collection

    @collection.setter
    def collection(self, value: str | None) -> None:
        self._set("collection", None if value is None else check_text("rundown collection", value, 4096))

    # -- segments --
    @property
    def segments(self) -> tuple[Segment, ...]:
        return tuple(self._segments)

    def segment(self, segment_id: str) -> Segment:
        for s in self._segments:
            if s.id == segment_id:
                return s
        raise ValueError(f"the rundown has no segment {segment_id!r}")

    def has_segment(self, segment_id: str) -> bool:
        return any(s.id == segment_id for s in self._segments)

    def add_segment(self, segment: Segment, index: int | None = None) -> Segment:
        with self.lock:
            if not isinstance(segment, Segment):
                raise ValueError(f"{segment!r} is not a segment")
            if self.has_segment(segment.id):
                raise ValueError(f"the rundown already has a segment {segment.id!r}")
            if len(self._segments) >= MAX_SEGMENTS:
                raise ValueError(f"a rundown holds at most {MAX_SEGMENTS} segments")
            if index is not None and not 0 <= index <= len(self._segments):
                raise ValueError(f"position {index} is outside 0..{len(self._segments)}")
            segment._rundown = self
            self._segments.insert(len(self._segments) if index is None else index, segment)
        self.changed.emit(SegmentsChanged())
        return segment

    def remove_segment(self, segment_id: str) -> None:
        with self.lock:
            segment = self.segment(segment_id)
            self._segments.remove(segment)
            segment._rundown = None
        self.changed.emit(SegmentsChanged())

    def move_segment(self, segment_id: str, index: int) -> None:
        with self.lock:
            segment = self.segment(segment_id)
            if not 0 <= index < len(self._segments):
                raise ValueError(f"position {index} is outside 0..{len(self._segments) - 1}")
            self._segments.remove(segment)
            self._segments.insert(index, segment)
        self.changed.emit(SegmentsChanged())

    def following(self, segment_id: str) -> str | None:
        """The segment after ``segment_id`` when no branch decides: its ``then``, else the next in order."""
        with self.lock:
            segment = self.segment(segment_id)
            if segment.then is not None:
                return segment.then
            i = self._segments.index(segment)
            return self._segments[i + 1].id if i + 1 < len(self._segments) else None

    def scene_of(self, segment: Segment) -> str | None:
        """The scene a segment shows."""
        if isinstance(segment, LiveSegment):
            return segment.scene
        if isinstance(segment, DramaSegment):
            return segment.scene or self._drama_scene
        return None

    def vote_point(self, vote_id: str) -> VotePoint:
        for s in self._segments:
            for m in s.markers:
                if isinstance(m, VotePoint) and m.id == vote_id:
                    return m
        raise ValueError(f"the rundown has no vote point {vote_id!r}")

    def branch_points(self) -> list[tuple[Segment, BranchPoint]]:
        out: list[tuple[Segment, BranchPoint]] = []
        for s in self._segments:
            b = s.branch
            if b is not None:
                out.append((s, b))
        return out

    def problems(self, scenes: set[str] | None = None, sources: set[str] | None = None) -> list[str]:
        """Cross-references a setter cannot check alone (ids, option counts, the collection's names)."""
        found: list[str] = []
        with self.lock:
            if not self._segments:
                found.append("the rundown has no segments")
            ids = {s.id for s in self._segments}
            marker_ids: set[str] = set()
            for s in self._segments:
                if s.then is not None and s.then not in ids:
                    found.append(f"segment {s.id}: 'then' names unknown segment {s.then!r}")
                scene = self.scene_of(s)
                if scenes is not None and scene is not None and scene not in scenes:
                    found.append(f"segment {s.id}: no scene named {scene!r} in the collection")
                for m in s.markers:
                    if m.id in marker_ids:
                        found.append(f"segment {s.id}: marker id {m.id!r} is used twice")
                    marker_ids.add(m.id)
                    if isinstance(m, ProductMoment):
                        if scenes is not None and m.scene not in scenes:
                            found.append(f"product moment {m.id}: no scene named {m.scene!r}")
                        if sources is not None and m.source not in sources:
                            found.append(f"product moment {m.id}: no source named {m.source!r}")
                    elif isinstance(m, BranchPoint):
                        found.extend(self._branch_problems(s, m, ids))
            if sources is not None and self._drama_source not in sources:
                found.append(f"the drama source {self._drama_source!r} is not in the collection")
            if scenes is not None and self._drama_scene not in scenes:
                found.append(f"the drama scene {self._drama_scene!r} is not in the collection")
        return found

    def _branch_problems(self, segment: Segment, branch: BranchPoint, ids: set[str]) -> list[str]:
        found: list[str] = []
        try:
            vote = self.vote_point(branch.vote)
        except ValueError:
            return [f"branch point {branch.id}: no vote point {branch.vote!r}"]
        if len(vote.options) != len(branch.targets):
            found.append(
                f"branch point {branch.id}: {len(branch.targets)} targets for {len(vote.options)} vote options"
            )
        for t in branch.targets:
            if t not in ids:
                found.append(f"branch point {branch.id}: unknown target segment {t!r}")
            elif t == segment.id:
                found.append(f"branch point {branch.id}: a segment cannot branch to itself")
        return found

    def check(self, scenes: set[str] | None = None, sources: set[str] | None = None) -> None:
        found = self.problems(scenes, sources)
        if found:
            raise ValueError("; ".join(found))
