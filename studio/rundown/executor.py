"""Runs a rundown on the engine: segments, product moments, polls and branches on exact frames.

Everything happens in ``Studio.frame_hooks`` on the video-clock thread (after commands, before the
sources tick), scheduled by the frame counter: a segment that starts on frame S puts a marker at
segment time t on frame ``S + round((t - start) * fps)``, because its clip starts counting on the
first tick that shows it (MediaSource anchors there when it is already decoded).

Gapless branches: the candidate clips are opened and pre-decoded paused (``MediaSource.preroll``)
``preroll_lead_s`` before the branch point. On the branch frame the winner's settings are written
to the drama source's config (so the runtime's next sync keeps it), the instance is adopted under
the drama source's name and played: the episode's last picture is on frame S+N-1, the ending's
first on S+N. A live switch never waits on a clip: when one is not decoded yet, the old picture
holds (counted) until it is. Offline (``studio.render_offline``) the engine waits for decoders, so
the same schedule renders the same frames every time.

Threads: none of its own. ``start``/``next``/``stop`` may be called from any thread; they queue
requests the hook applies. Events fire on the clock thread (``RundownEvents``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from scenes.registry import get_type
from scenes.sources.media import MediaSource
from studio import commands as cmd
from studio.engine import Studio
from studio.interaction.polls import Poll, PollClosed
from studio.rundown.clips import frames_of, probe_clip
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
from studio.rundown.markers import BranchPoint, Marker, ProductMoment, VotePoint
from studio.rundown.model import DramaSegment, Rundown, Segment
from studio.rundown.polls import FrameDriven, PollHost
from studio.rundown.route import segment_frames

log = logging.getLogger(__name__)

PREROLL_LEAD_S = 3.0  # open and pre-decode the next clips this long before they are needed
MAX_SWITCH_WAIT_S = 2.0  # live: hold the old picture at most this long for a clip still decoding
STATUS_EVERY_S = 0.25


@dataclass(order=True)
class _Action:
    frame: int
    order: int
    kind: str = field(compare=False)  # show | open | preroll
    marker: Marker | None = field(compare=False, default=None)


@dataclass
class _Run:
    segment: Segment
    start_frame: int
    start_s: float
    end_frame: int | None
    actions: list[_Action]


@dataclass
class _Pending:
    segment: Segment
    scheduled_frame: int
    first_try: int | None = None


class RundownExecutor:
    """Plays ``rundown`` on ``studio``. ``polls`` opens the vote points' polls (the InteractionService
    live, ``FramePolls`` offline). ``path`` forces the option taken at each branch point in order
    (renders); ``offline`` makes switches never wait (the engine waits for decoders instead)."""

    def __init__(self, studio: Studio, rundown: Rundown, polls: PollHost | None = None, *,
                 path: Sequence[int] | None = None, offline: bool = False,
                 preroll_lead_s: float = PREROLL_LEAD_S) -> None:
        if preroll_lead_s < 0:
            raise ValueError(f"preroll lead must be >= 0 s, got {preroll_lead_s}")
        self.studio = studio
        self.rundown = rundown
        self.polls = polls
        self.offline = offline
        self.fps = studio.fps
        self.events = RundownEvents()
        self._path = list(path) if path is not None else None
        self._lead = frames_of(preroll_lead_s, self.fps)
        self._lock = threading.Lock()  # requests and results from other threads
        self._hook_lock = threading.RLock()  # one hook at a time; stop() waits for it
        self._start_request: tuple[str, MediaSource | None] | None = None
        self._next_request: tuple[str | None] | None = None
        self._polls: dict[str, Poll] = {}
        self._run: _Run | None = None
        self._pending: _Pending | None = None
        self._prerolled: dict[str, MediaSource] = {}
        self._hides: list[tuple[int, ProductMoment, str]] = []
        self._saved_visibility: dict[tuple[str, str], bool] = {}
        self._clip_end: dict[str, float | None] = {}
        self._frame = 0
        self._state = "idle"
        self._status = RundownStatus()
        self._disconnect: Callable[[], None] | None = None
        self.switch_wait_frames = 0  # live frames the old picture was held for a clip still decoding
        self.history: list[str] = []  # segments started, in order

    # ---- control (any thread) ------------------------------------------------------------------

    def start(self, segment_id: str | None = None) -> None:
        """Check the rundown against the collection, read clip lengths (file I/O: call off the UI
        thread), and start ``segment_id`` (default: the first) on the next frame it is ready for."""
        col = self.studio.collection
        with col.lock:
            scenes = {s.name for s in col.scenes}
            sources = set(col.sources)
            drama = col.sources.get(self.rundown.drama_source)
            drama_type = drama.type_id if drama else None
        self.rundown.check(scenes, sources)
        if drama_type != "media":
            raise ValueError(f"the drama source {self.rundown.drama_source!r} is not a media source")
        with self.rundown.lock:
            first = segment_id or self.rundown.segments[0].id
            segment = self.rundown.segment(first)
            paths = {s.path for s in self.rundown.segments if isinstance(s, DramaSegment) and not s.out_s}
        for p in paths:
            try:
                self._clip_end[p] = probe_clip(p).duration_s
            except ValueError as exc:
                log.warning("rundown: %s", exc)
                self._clip_end[p] = None  # the segment ends when its clip does
        # open and pre-decode the first clip now, so the show starts on a decoded picture
        source = self._make_source(segment) if isinstance(segment, DramaSegment) else None
        if source is not None:
            source.preroll()
        with self._lock:
            old, self._start_request = self._start_request, (first, source)
            self._state = "starting"
        if old is not None and old[1] is not None:
            old[1].close()
        if self._disconnect is None:
            self._disconnect = self.studio.frame_hooks.connect(self._on_frame)

    def next(self, segment_id: str | None = None) -> None:
        """The director's override: end the running segment now and go to ``segment_id`` (default:
        where it would go; at a branch point the poll closes and its winner is taken)."""
        if segment_id is not None:
            self.rundown.segment(segment_id)
        with self._lock:
            self._next_request = (segment_id,)

    def stop(self) -> None:
        """Detach from the engine, close clips that were pre-rolled but not used, and give product
        cards back the visibility they had before the show."""
        if self._disconnect is not None:
            self._disconnect()
            self._disconnect = None
        with self._lock:
            request, self._start_request = self._start_request, None
        if request is not None and request[1] is not None:
            request[1].close()  # stopped before its first frame: the pre-rolled first clip is not adopted
        with self._hook_lock:
            for source in self._prerolled.values():
                source.close()
            self._prerolled.clear()
            self._restore_cards()
            self._run = None
            self._pending = None
            if self._state != "finished":
                self._state = "stopped"
            self._publish_status(force=True)

    @property
    def state(self) -> str:
        return self._state

    @property
    def running_segment(self) -> str | None:
        run = self._run
        return run.segment.id if run is not None else None

    def status(self) -> RundownStatus:
        return self._status

    def poll_for(self, vote_id: str) -> Poll | None:
        with self._lock:
            return self._polls.get(vote_id)

    # ---- the hook (video-clock thread) -----------------------------------------------------------

    def _on_frame(self, event: tuple[int, int]) -> None:
        index, pts_ns = event
        with self._hook_lock:
            try:
                self._step(index, pts_ns)
            except Exception as exc:  # the show goes on: report and keep the clock ticking
                log.exception("rundown step at frame %d failed", index)
                self.events.problem.emit(RundownProblem(f"internal error: {exc}", index))

    def _step(self, index: int, pts_ns: int) -> None:
        self._frame = index
        if isinstance(self.polls, FrameDriven):
            self.polls.on_frame(pts_ns)
        with self._lock:
            start, self._start_request = self._start_request, None
            nxt, self._next_request = self._next_request, None
        if start is not None:
            self._begin_show(*start, index)
        self._run_hides(index)
        run = self._run
        if run is not None and self._pending is None:
            self._fire_due(run, index)
            ended = run.end_frame is not None and index >= run.end_frame
            if not ended and run.end_frame is None and isinstance(run.segment, DramaSegment):
                ended = self._drama_ended()
            if nxt is not None or ended:
                target = self._decide_next(run, index, override=nxt)
                if target is None:
                    self._finish(index)
                else:
                    self._pending = _Pending(target, index)
        elif nxt is not None and self._pending is not None and nxt[0] is not None:
            self._pending = _Pending(self.rundown.segment(nxt[0]), index)
        if self._pending is not None:
            self._try_switch(index)
        if self._state in ("starting", "running"):
            self._publish_status(force=False)

    def _begin_show(self, first: str, source: MediaSource | None, index: int) -> None:
        self._hide_cards()
        for old in self._prerolled.values():
            old.close()
        self._prerolled.clear()
        if source is not None:
            self._prerolled[first] = source
        self._run = None
        self._pending = _Pending(self.rundown.segment(first), index)
        self._state = "starting"

    # -- segments --

    def _try_switch(self, index: int) -> None:
        pending = self._pending
        assert pending is not None
        segment = pending.segment
        prerolled = segment.id in self._prerolled
        if isinstance(segment, DramaSegment):
            source = self._prerolled.get(segment.id) or self._preroll(segment)
            if source is None:
                self._pending = None
                self._finish(index)
                return
            if not self.offline and not source.ready:
                if pending.first_try is None:
                    pending.first_try = index
                if index - pending.first_try < frames_of(MAX_SWITCH_WAIT_S, self.fps):
                    self.switch_wait_frames += 1  # the old picture holds one more frame
                    return
            self._prerolled.pop(segment.id, None)
            self._install(source)
            source.play()
        self._cut_to(self.rundown.scene_of(segment))
        self._pending = None
        self._start_segment(segment, index)
        self.events.segment_started.emit(
            SegmentStarted(segment.id, segment.title, segment.kind, index, pending.scheduled_frame, prerolled)
        )
        # markers at the segment's first frame (a vote at 0 s) happen now, not a frame late
        run = self._run
        if run is not None:
            self._fire_due(run, index)

    def _start_segment(self, segment: Segment, index: int) -> None:
        with self.rundown.lock:
            markers = segment.markers
            frames = segment_frames(segment, self.fps, self._clip_end.get)
        start_s = segment.start_s
        end = None if frames is None else index + frames
        actions: list[_Action] = []
        for order, m in enumerate(markers):
            if isinstance(m, BranchPoint):
                continue
            at = index + frames_of(m.at_s - start_s, self.fps)
            if end is not None and at >= end:
                continue  # past the segment's end (a branch point before it)
            actions.append(_Action(at, order, "show" if isinstance(m, ProductMoment) else "open", m))
        if end is not None:
            actions.append(_Action(max(index, end - self._lead), len(markers), "preroll"))
        actions.sort()
        self._run = _Run(segment, index, start_s, end, actions)
        self._state = "running"
        self.history.append(segment.id)

    def _drama_ended(self) -> bool:
        source = self.studio.sources.get(self.rundown.drama_source)
        return bool(getattr(source, "ended", False))

    def _decide_next(self, run: _Run, index: int, override: tuple[str | None] | None) -> Segment | None:
        segment = run.segment
        if override is not None and override[0] is not None:
            return self.rundown.segment(override[0])
        branch = segment.branch
        if branch is None:
            following = self.rundown.following(segment.id)
            return None if following is None else self.rundown.segment(following)
        scheduled = run.end_frame if run.end_frame is not None and override is None else index
        return self._take_branch(run, branch, index, scheduled, forced_by_director=override is not None)

    def _take_branch(self, run: _Run, branch: BranchPoint, index: int, scheduled: int,
                     forced_by_director: bool) -> Segment:
        vote = self.rundown.vote_point(branch.vote)
        winner, decided_by, counts = self._winner(vote)
        if forced_by_director and decided_by == "no_poll":
            decided_by = "next"
        target = self.rundown.segment(branch.targets[winner])
        ready = tuple((t, bool(self._prerolled[t].ready)) for t in branch.targets if t in self._prerolled)
        self.events.branch_taken.emit(BranchTaken(
            run.segment.id, branch.id, vote.id, winner, vote.options[winner], target.id, decided_by, counts,
            index, scheduled, ready,
        ))
        for t in branch.targets:  # the candidates that lost
            if t != target.id and t in self._prerolled:
                self._prerolled.pop(t).close()
        return target

    def _winner(self, vote: VotePoint) -> tuple[int, str, tuple[int, ...]]:
        with self._lock:
            poll = self._polls.get(vote.id)
        result: PollClosed | None = None
        if poll is not None:
            if poll.state == "open":
                with contextlib.suppress(ValueError):  # it may have closed on its own meanwhile
                    poll.close()  # the branch point closes the poll at the latest
            result = poll.result
        counts = result.counts if result is not None else (poll.counts if poll is not None else ())
        if self._path is not None:
            if not self._path:
                raise ValueError("the path has no choice left for this branch point")
            choice = self._path.pop(0)
            if not 0 <= choice < len(vote.options):
                raise ValueError(f"path choice {choice + 1} is not an option of {vote.id}")
            return choice, "path", counts
        if result is not None:
            return result.winner, result.decided_by, counts
        if poll is None:
            return vote.default_option, "no_poll", counts
        return vote.default_option, "default", counts  # a tie still waiting for the director's pick

    def _finish(self, index: int) -> None:
        self._run = None
        self._state = "finished"
        self._publish_status(force=True)
        self.events.finished.emit(RundownFinished(index))

    # -- the drama source --

    def _preroll(self, segment: DramaSegment) -> MediaSource | None:
        source = self._make_source(segment)
        if source is None:
            return None
        source.preroll()
        self._prerolled[segment.id] = source
        return source

    def _make_source(self, segment: DramaSegment) -> MediaSource | None:
        """A paused clip with the drama source's settings and this segment's clip and points."""
        col = self.studio.collection
        with col.lock:
            cfg = col.sources.get(self.rundown.drama_source)
            base: dict[str, Any] = dict(cfg.settings) if cfg is not None else {}
        base.update(path=segment.path, in_point=segment.in_s, out_point=segment.out_s, loop=False, autoplay=False)
        try:
            return MediaSource(get_type("media").validate(base))
        except ValueError as exc:
            self.events.problem.emit(RundownProblem(f"segment {segment.id}: {exc}", self._frame))
            return None

    def _install(self, source: MediaSource) -> None:
        name = self.rundown.drama_source
        col = self.studio.collection
        with col.lock:
            col.update_source(name, dict(source.settings))
        self.studio.sources.adopt(name, source)

    def _cut_to(self, scene: str | None) -> None:
        if scene is None:
            return
        col = self.studio.collection
        with col.lock:
            if col.program_scene == scene or not col.has_scene(scene):
                return
            col.program_scene = scene  # this very frame; the command tells the UI
        self.studio.submit(cmd.SetProgramScene(scene))

    # -- markers --

    def _fire_due(self, run: _Run, index: int) -> None:
        while run.actions and run.actions[0].frame <= index:
            action = run.actions.pop(0)
            if action.kind == "preroll":
                self._preroll_next(run, index)
            elif isinstance(action.marker, ProductMoment):
                self._show_card(run, action.marker, index, action.frame)
            elif isinstance(action.marker, VotePoint):
                self._open_vote(run, action.marker, index, action.frame)

    def _preroll_next(self, run: _Run, index: int) -> None:
        branch = run.segment.branch
        if branch is not None:
            ids = list(branch.targets)
        else:
            following = self.rundown.following(run.segment.id)
            ids = [] if following is None else [following]
        done: list[str] = []
        for sid in ids:
            segment = self.rundown.segment(sid)
            if isinstance(segment, DramaSegment) and sid not in self._prerolled and self._preroll(segment):
                done.append(sid)
        if done:
            self.events.prerolled.emit(Prerolled(tuple(done), index))

    def _card_items(self, scene: str, source: str) -> list[Any]:
        col = self.studio.collection
        if not col.has_scene(scene):
            return []
        return [it for it in col.scene(scene).items if it.source == source]

    def _show_card(self, run: _Run, m: ProductMoment, index: int, scheduled: int) -> None:
        col = self.studio.collection
        with col.lock:
            items = self._card_items(m.scene, m.source)
            for item in items:
                item.visible = True
        if not items:
            self.events.problem.emit(RundownProblem(f"product moment {m.id}: {m.source!r} is not in {m.scene!r}", index))
        self._hides.append((scheduled + frames_of(m.duration_s, self.fps), m, run.segment.id))
        self.events.marker_fired.emit(MarkerFired(run.segment.id, m.id, "product", "show", index, scheduled, m.source))

    def _run_hides(self, index: int) -> None:
        due = [h for h in self._hides if h[0] <= index]
        if not due:
            return
        self._hides = [h for h in self._hides if h[0] > index]
        col = self.studio.collection
        for scheduled, m, segment in due:
            if any(h[1].scene == m.scene and h[1].source == m.source for h in self._hides):
                continue  # another moment keeps the same card up
            with col.lock:
                for item in self._card_items(m.scene, m.source):
                    item.visible = False
            self.events.marker_fired.emit(MarkerFired(segment, m.id, "product", "hide", index, scheduled, m.source))

    def _hide_cards(self) -> None:
        """Cards with product moments are shown by the rundown only: hidden when the show starts."""
        col = self.studio.collection
        with self.rundown.lock:
            moments = [m for s in self.rundown.segments for m in s.markers if isinstance(m, ProductMoment)]
        with col.lock:
            for m in moments:
                for item in self._card_items(m.scene, m.source):
                    self._saved_visibility.setdefault((m.scene, item.id), item.visible)
                    item.visible = False

    def _restore_cards(self) -> None:
        col = self.studio.collection
        with col.lock:
            for (scene, item_id), visible in self._saved_visibility.items():
                if col.has_scene(scene):
                    with contextlib.suppress(ValueError):  # the item was removed meanwhile
                        col.scene(scene).item(item_id).visible = visible
        self._saved_visibility.clear()
        self._hides.clear()

    def _open_vote(self, run: _Run, vote: VotePoint, index: int, scheduled: int) -> None:
        if self.polls is None:
            self.events.problem.emit(RundownProblem(f"vote point {vote.id}: no poll service", index))
            return
        branch = next((b for _s, b in self.rundown.branch_points() if b.vote == vote.id), None)
        try:
            poll = self.polls.open_poll(vote.question, vote.options, vote.duration_s, tie_rule=vote.tie_rule,
                                        default_option=vote.default_option,
                                        branch_binding=branch.id if branch is not None else None)
        except ValueError as exc:
            self.events.problem.emit(RundownProblem(f"vote point {vote.id}: {exc}", index))
            return
        with self._lock:
            self._polls[vote.id] = poll
        self.events.marker_fired.emit(MarkerFired(run.segment.id, vote.id, "vote", "open", index, scheduled, poll.id))

    # -- status --

    def _publish_status(self, force: bool) -> None:
        index = self._frame
        every = max(1, frames_of(STATUS_EVERY_S, self.fps))
        run = self._run
        if run is None:
            status = RundownStatus(state=self._state, frame=index)
        else:
            status = self._running_status(run, index)
        self._status = status
        if force or index % every == 0:
            self.events.status.emit(status)

    def _running_status(self, run: _Run, index: int) -> RundownStatus:
        fps = self.fps
        seg = run.segment
        position = run.start_s + (index - run.start_frame) / fps
        remaining = None if run.end_frame is None else max(0, run.end_frame - index) / fps
        upcoming: list[UpcomingProduct] = []
        next_marker, next_in = "", None
        for a in run.actions:
            m = a.marker
            if m is None:
                continue
            in_s = max(0, a.frame - index) / fps
            if not next_marker:
                label = m.question if isinstance(m, VotePoint) else m.source if isinstance(m, ProductMoment) else ""
                next_marker, next_in = f"{m.kind}: {label}", in_s
            if isinstance(m, ProductMoment):
                upcoming.append(UpcomingProduct(m.id, m.source, m.scene, in_s))
        branch = seg.branch
        branch_in = remaining if branch is not None else None
        if branch is not None and (next_in is None or (branch_in is not None and branch_in < next_in)):
            next_marker, next_in = f"branch: {branch.id}", branch_in
        following = None if branch is not None else self.rundown.following(seg.id)
        return RundownStatus(
            state=self._state, frame=index, segment=seg.id, title=seg.title, kind=seg.kind,
            position_s=position, remaining_s=remaining, next_marker=next_marker, next_marker_in_s=next_in,
            next_branch_in_s=branch_in, upcoming_products=tuple(upcoming), next_segment=following,
        )

