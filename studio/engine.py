"""The Studio: owns the collection's live sources, the video clock, program/preview and transitions.

Threads: the ``video-clock`` thread runs ``_tick``; everything else talks to it through ``submit``
(commands) and listens to Signals (events). See DESIGN.md, "Threads" and "State flow".
"""

from __future__ import annotations

import logging
import queue
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from scenes.compositor import Compositor, ItemSnapshot, snapshot
from scenes.events import Signal
from scenes.filters.chain import FilterBank
from scenes.model import SceneCollection
from scenes.registry import get_type
from scenes.sources.base import Source, View
from scenes.transitions import TransitionKind, TransitionSpec, draw_transition
from studio import commands as cmd
from studio.clock import VideoClock
from studio.events import (
    ClockStats,
    CommandFailed,
    ProgramChanged,
    ProgramFrame,
    SourceProblem,
    TransitionState,
)
from studio.slots import CanvasRing, LatestSlot
from studio.sources_runtime import SourceRuntime
from studio.undo import EditHistory

log = logging.getLogger(__name__)


@dataclass
class _ActiveTransition:
    target: str
    spec: TransitionSpec
    start_pts: int | None  # None: manual (T-bar) position
    position: float = 0.0
    stinger: Source | None = None  # the clip played over a stinger transition

    def close(self) -> None:
        if self.stinger is not None:
            self.stinger.close()
            self.stinger = None


class StudioEvents:
    """Every engine event stream in one place, for the UI bridge and services to subscribe to."""

    def __init__(self) -> None:
        self.program_frame: Signal[ProgramFrame] = Signal()
        self.program_changed: Signal[ProgramChanged] = Signal()
        self.transition: Signal[TransitionState] = Signal()
        self.stats: Signal[ClockStats] = Signal()
        self.command_failed: Signal[CommandFailed] = Signal()
        self.source_problem: Signal[SourceProblem] = Signal()


class Studio:
    """The engine for one scene collection. Headless; the UI binds to its slots and events."""

    def __init__(self, collection: SceneCollection, studio_mode: bool = False) -> None:
        self.collection = collection
        video = collection.video
        self.fps = video.fps
        self.width, self.height = video.width, video.height
        self.events = StudioEvents()
        self.sources = SourceRuntime(collection)
        self.program = LatestSlot[ProgramFrame]()
        self.preview = LatestSlot[ProgramFrame]()
        self.studio_mode = studio_mode
        self.transition_spec = TransitionSpec(TransitionKind.FADE, 300)
        self._commands: queue.SimpleQueue[cmd.Command] = queue.SimpleQueue()
        self.filters = FilterBank()  # shared: a source's filters run once per frame for both views
        self._compositor = Compositor(self.width, self.height, View.PROGRAM, self.filters)
        # its own compositor, so item caches of program and preview do not evict each other; the
        # preview is the operator's view, so it shows failed sources' status cards (never on air)
        self._preview_compositor = Compositor(self.width, self.height, View.PREVIEW, self.filters)
        self._program_ring = CanvasRing(self.width, self.height)
        self._preview_ring = CanvasRing(self.width, self.height, count=3)
        self._scratch_a = np.zeros((self.height, self.width, 4), np.uint8)
        self._scratch_b = np.zeros((self.height, self.width, 4), np.uint8)
        self._transition: _ActiveTransition | None = None
        self._clock = VideoClock(self.fps, self._tick, prepare=self._warm)
        self._render_ms: deque[float] = deque(maxlen=self.fps * 2)
        self._stats_at = 0
        self._frames_since_stats = 0
        self._errors: dict[str, str | None] = {}
        # Services that must act on an exact frame (the rundown's markers and branch points) run
        # here, on the clock thread, after commands and before sources tick: hook(index, pts_ns).
        self.frame_hooks: Signal[tuple[int, int]] = Signal()
        # undo/redo of scene edits: only the clock thread applies edits, so only it touches this
        self.history = EditHistory(collection)
        with collection.lock:
            if collection.program_scene is None and collection.scenes:
                collection.program_scene = collection.scenes[0].name
            if collection.preview_scene is None:
                collection.preview_scene = collection.program_scene

    # ---- public API (any thread) ----------------------------------------------------------------
    def submit(self, command: cmd.Command) -> None:
        self._commands.put(command)

    def start(self) -> None:
        # open the sources before the first deadline (nothing else runs yet, so this thread may),
        # so slow first renders (fonts, product cards) do not count as lagged frames
        for name, problem in self.sources.sync():
            self.events.source_problem.emit(SourceProblem(name, problem))
        self._clock.start()

    def _warm(self) -> None:
        """Clock thread, before frame 0: draw the first program (and preview) once, unpublished.

        First-time costs then fall outside every deadline: loading fonts and rasterising text,
        decoders reaching their first picture, the compositor's scaled copies, OpenCV's thread
        pool, and the first write to each preallocated canvas (its pages fault in).
        """
        col = self.collection
        with col.lock:
            scenes = [col.program_scene, col.preview_scene if self.studio_mode else None]
            groups = [self._items(name) if name else () for name in scenes]
        active = {it.source for group in groups for it in group}
        self.sources.tick(active, 0)
        self.sources.wait_ready(active, 0, timeout_s=0.5)  # bounded: a slow disk must not delay the show
        self.sources.tick(active, 0)
        self._compositor.render(groups[0], self.sources, self._scratch_a)
        self._preview_compositor.render(groups[1], self.sources, self._scratch_b)
        for ring in (self._program_ring, self._preview_ring):
            for _ in range(len(ring)):  # a full turn: the ring is back where it started
                ring.take().fill(0)
        self._scratch_a.fill(0)

    def stop(self) -> None:
        self._clock.stop()
        if self._transition is not None:
            self._transition.close()
            self._transition = None
        self.sources.close()

    @property
    def running(self) -> bool:
        return self._clock.running

    @property
    def lagged(self) -> int:
        return self._clock.lagged

    @property
    def frames(self) -> int:
        return self._clock.frames

    @property
    def started_ns(self) -> int:
        """perf_counter_ns of frame 0 (0 before start): the origin of every program pts."""
        return self._clock.started_ns

    def render_offline(self, index: int) -> ProgramFrame:
        """Render frame ``index`` now, waiting for decoders (``studio render``); no clock thread."""
        pts = self._clock.pts_of(index)
        self._tick(index, pts, offline=True)
        frame, _ = self.program.latest()
        assert frame is not None
        return frame

    # ---- clock thread -----------------------------------------------------------------------------
    def _tick(self, index: int, pts_ns: int, offline: bool = False) -> None:
        t0 = time.perf_counter_ns()
        self._apply_commands(pts_ns)
        for name, problem in self.sources.sync():
            self.events.source_problem.emit(SourceProblem(name, problem))
        self.frame_hooks.emit((index, pts_ns))

        col = self.collection
        with col.lock:
            program_name = col.program_scene
            preview_name = col.preview_scene if self.studio_mode else None
            transition = self._transition
            program_items = self._items(program_name)
            target_items = self._items(transition.target) if transition else ()
            preview_items = self._items(preview_name) if preview_name else ()
        active = {it.source for it in program_items + target_items + preview_items}
        self.sources.tick(active, pts_ns)
        if offline:
            self.sources.wait_ready(active, pts_ns)
        self._report_source_errors(active)

        out = self._program_ring.take()
        if transition is not None:
            stinger = transition.stinger
            if stinger is not None:
                if offline:
                    getattr(stinger, "wait_ready", lambda *_: True)(pts_ns, 10.0)
                stinger.tick(pts_ns)
            position = self._transition_position(transition, pts_ns)
            self._compositor.render(program_items, self.sources, self._scratch_a)
            self._compositor.render(target_items, self.sources, self._scratch_b)
            draw_transition(transition.spec.kind, position, self._scratch_a, self._scratch_b, out,
                            stinger=stinger.frame_for(View.PROGRAM) if stinger is not None else None,
                            cut_point=transition.spec.stinger_cut_point)
            if position >= 1.0:
                self._finish_transition(transition)
            else:
                self.events.transition.emit(TransitionState(True, position, transition.target))
        else:
            self._compositor.render(program_items, self.sources, out)
        done = time.perf_counter_ns()
        frame = ProgramFrame(out, index, pts_ns, done)
        self.program.put(frame)
        self.events.program_frame.emit(frame)

        if preview_name is not None:
            pv = self._preview_ring.take()
            self._preview_compositor.render(preview_items, self.sources, pv)
            self.preview.put(ProgramFrame(pv, index, pts_ns, time.perf_counter_ns()))
        self._account(t0, done)

    def _items(self, scene_name: str | None) -> tuple[ItemSnapshot, ...]:
        if scene_name is None or not self.collection.has_scene(scene_name):
            return ()
        return snapshot(self.collection.scene(scene_name))

    def _report_source_errors(self, names: set[str]) -> None:
        for name in names:
            source = self.sources.get(name)
            error = source.error if source is not None else None
            if self._errors.get(name) != error:
                self._errors[name] = error
                self.events.source_problem.emit(SourceProblem(name, error))

    def _account(self, t0: int, done: int) -> None:
        self._render_ms.append((done - t0) / 1e6)
        self._frames_since_stats += 1
        if done - self._stats_at >= 1_000_000_000:
            elapsed = (done - self._stats_at) / 1e9 if self._stats_at else 1.0
            ordered = sorted(self._render_ms)
            self.events.stats.emit(ClockStats(
                fps=self._frames_since_stats / elapsed if self._stats_at else float(self.fps),
                frames=self._clock.frames,
                lagged=self._clock.lagged,
                render_ms_p50=ordered[len(ordered) // 2],
                render_ms_p95=ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))],
            ))
            self._stats_at = done
            self._frames_since_stats = 0

    # ---- commands (clock thread) ----------------------------------------------------------------
    def _apply_commands(self, pts_ns: int) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            try:
                self._apply(command, pts_ns)
            except ValueError as exc:
                self.events.command_failed.emit(CommandFailed(command, str(exc)))
            except Exception as exc:  # never let a command stop the clock
                log.exception("command %r failed", command)
                self.events.command_failed.emit(CommandFailed(command, f"internal error: {exc}"))

    def _apply(self, c: cmd.Command, pts_ns: int) -> None:
        col = self.collection
        match c:
            case cmd.SetProgramScene(scene=name):
                with col.lock:
                    col.scene(name)
                    col.program_scene = name
                    self._transition = None
                self._emit_program()
            case cmd.SetPreviewScene(scene=name):
                with col.lock:
                    col.scene(name)
                    col.preview_scene = name
                self._emit_program()
            case cmd.SetStudioMode(enabled=enabled):
                self.studio_mode = enabled
                if enabled:
                    with col.lock:
                        col.preview_scene = col.program_scene
                self._emit_program()
            case cmd.SetTransition(spec=spec):
                self.transition_spec = spec
            case cmd.Transition(scene=scene, spec=spec):
                with col.lock:
                    target = scene or (col.preview_scene if self.studio_mode else None)
                    if target is None:
                        raise ValueError("no scene to transition to")
                    col.scene(target)
                spec = spec or self.transition_spec
                if self._transition is not None:
                    self._transition.close()
                if spec.kind is TransitionKind.CUT or spec.duration_ms == 0:
                    self._finish_transition(_ActiveTransition(target, spec, pts_ns))
                else:
                    self._transition = _ActiveTransition(target, spec, pts_ns, stinger=self._open_stinger(spec))
            case cmd.SetTransitionPosition(position=position):
                if not 0.0 <= position <= 1.0:
                    raise ValueError(f"T-bar position {position} is outside 0..1")
                if self._transition is None:
                    if position <= 0.0:
                        return
                    with col.lock:
                        target = col.preview_scene
                    if target is None:
                        raise ValueError("no preview scene for the T-bar")
                    self._transition = _ActiveTransition(target, self.transition_spec, None)
                self._transition.start_pts = None
                self._transition.position = position
                if position <= 0.0:
                    self._transition.close()
                    self._transition = None
                    self.events.transition.emit(TransitionState(False, 0.0, None))
            case cmd.Undo():
                self.history.undo()
            case cmd.Redo():
                self.history.redo()
            case _ if isinstance(c, cmd.EDIT_COMMANDS):
                self.history.perform(c)  # every scene edit, from any caller, is one undo step
            case cmd.MediaControl(source=name, action=action, seconds=seconds):
                source = self.sources.get(name)
                control = getattr(source, action, None)
                if control is None:
                    raise ValueError(f"source {name!r} does not support {action}")
                control(seconds) if action == "seek" else control()
            case _:
                raise ValueError(f"unknown command {c!r}")

    def _open_stinger(self, spec: TransitionSpec) -> Source | None:
        """A stinger's clip plays once over the switch; its decoder runs on its own thread."""
        if spec.kind is not TransitionKind.STINGER:
            return None
        return get_type("media").create({"path": spec.stinger_path, "loop": False})

    def _transition_position(self, t: _ActiveTransition, pts_ns: int) -> float:
        if t.start_pts is None:
            return t.position
        duration = max(1, t.spec.duration_ms) * 1_000_000
        t.position = min(1.0, (pts_ns - t.start_pts) / duration)
        return t.position

    def _finish_transition(self, t: _ActiveTransition) -> None:
        col = self.collection
        with col.lock:
            previous = col.program_scene
            col.program_scene = t.target
            if self.studio_mode and col.preview_scene == t.target and previous is not None:
                col.preview_scene = previous  # swap, as OBS does
        t.close()
        self._transition = None
        self.events.transition.emit(TransitionState(False, 1.0, None))
        self._emit_program()

    def _emit_program(self) -> None:
        col = self.collection
        self.events.program_changed.emit(ProgramChanged(col.program_scene, col.preview_scene, self.studio_mode))
