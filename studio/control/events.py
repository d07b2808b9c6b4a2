"""Engine, mixer, output and interaction signals -> obs-websocket events.

Signals fire on their own threads (video clock, audio, outputs); this module only notes edges there
and hands the event to the net thread (``NetLoop.call_soon``), which builds the data and broadcasts
it. Nothing is done for an event no session subscribed to. InputVolumeMeters (high volume) is a
50 ms timer on the net thread reading the mixer's last published levels: the audio thread does no
extra work however many clients watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from scenes.model import ItemChanged, SceneItemsChanged, ScenesChanged
from studio.audio.meters import AudioLevels, ChannelLevels
from studio.audio.mixer import MixerChange
from studio.control.context import ControlContext, stable_uuid
from studio.control.protocol import EventSubscription, OutputState
from studio.control.requests import TRANSITION_NAMES, input_entry, scene_list
from studio.control.vendor import VENDOR_NAME
from studio.events import ClockStats, ProgramChanged, TransitionState
from studio.outputs.recorder import RecorderEvent
from studio.outputs.whip_events import OutputState as WhipState
from studio.outputs.whip_events import OutputStatus

if TYPE_CHECKING:
    from studio.net.loop import NetLoop

log = logging.getLogger(__name__)

METER_INTERVAL_S = 0.05  # obs-websocket sends InputVolumeMeters every 50 ms
Data = dict[str, Any] | None
Build = Callable[[], Data]
_TRANSFORM = {"x", "y", "scale_x", "scale_y", "rotation", "crop"}


def _mul(db: float) -> float:
    return 10 ** (db / 20) if db > -120.0 else 0.0


def meter_inputs(levels: AudioLevels) -> list[dict[str, Any]]:
    """inputLevelsMul per channel: [magnitude (RMS), peak, input peak], linear, as OBS reports them."""
    def entry(ch: ChannelLevels) -> dict[str, Any]:
        return {"inputName": ch.name, "inputUuid": stable_uuid("input", ch.name),
                "inputLevelsMul": [[_mul(r), _mul(p), _mul(p)] for r, p in zip(ch.rms_db, ch.peak_db, strict=False)]}
    return [entry(ch) for ch in levels.sources]


class EventBridge:
    def __init__(self, ctx: ControlContext, net: NetLoop, wanted: Callable[[], int],
                 emit: Callable[[str, EventSubscription, Data], None]) -> None:
        self.ctx = ctx
        self.net = net
        self._wanted = wanted  # the union of all sessions' subscriptions (an int: read from any thread)
        self._emit = emit
        self._disconnects: list[Callable[[], None]] = []
        self._program: ProgramChanged | None = None
        self._transitioning = False
        self._mixer_state: dict[str, tuple[bool, float]] = {}
        self._stream_states = StreamStates()
        self._rundown: Any = None
        self._rundown_disconnects: list[Callable[[], None]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._last_meter_pts = -1

    # ---- life cycle (net thread) ----
    def start(self) -> None:
        show = self.ctx.show
        studio = show.studio
        col = show.collection
        with col.lock:
            self._program = ProgramChanged(col.program_scene, col.preview_scene, studio.studio_mode)
        self._mixer_state = {s.name: (s.muted, s.volume_db) for s in show.mixer.inputs}
        self._disconnects += [
            studio.events.program_changed.connect(self._on_program),
            studio.events.transition.connect(self._on_transition),
            studio.events.stats.connect(self._on_stats),
            col.changed.connect(self._on_model),
            show.mixer.changed.connect(self._on_mixer),
            show.pipeline.stream_state.connect(self._on_stream),
            show.pipeline.recorder_events.connect(self._on_recorder),
        ]
        if show.interaction is not None:
            self._disconnects.append(show.interaction.poll_closed.connect(self._on_poll_closed))
        self._timer = self.net.loop.call_later(METER_INTERVAL_S, self._tick)

    def close(self) -> None:
        for disconnect in self._disconnects + self._rundown_disconnects:
            disconnect()
        self._disconnects.clear()
        self._rundown_disconnects.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # ---- posting (any thread) ----
    def _post(self, event_type: str, intent: EventSubscription, build: Build) -> None:
        if not self._wanted() & intent:
            return
        with contextlib.suppress(RuntimeError):  # the net loop is stopping
            self.net.call_soon(self._deliver, event_type, intent, build)

    def _deliver(self, event_type: str, intent: EventSubscription, build: Build) -> None:
        try:
            data = build()
        except (KeyError, ValueError):  # the scene or item went away meanwhile
            return
        self._emit(event_type, intent, data)

    # ---- engine (clock thread) ----
    def _on_program(self, now: ProgramChanged) -> None:
        before, self._program = self._program, now
        if before is None:
            return
        if now.studio_mode != before.studio_mode:
            self._post("StudioModeStateChanged", EventSubscription.UI, lambda: {"studioModeEnabled": now.studio_mode})
        if now.program != before.program and now.program is not None:
            self._post("CurrentProgramSceneChanged", EventSubscription.SCENES, lambda: _scene(now.program))
        if now.studio_mode and now.preview is not None and (now.preview != before.preview or not before.studio_mode):
            self._post("CurrentPreviewSceneChanged", EventSubscription.SCENES, lambda: _scene(now.preview))

    def _on_transition(self, state: TransitionState) -> None:
        kind = self.ctx.studio.transition_spec.kind
        data = {"transitionName": TRANSITION_NAMES[kind], "transitionUuid": stable_uuid("transition", kind.value)}
        if state.active == self._transitioning:
            if not state.active and state.position >= 1.0:  # a cut: done within one frame
                self._post("SceneTransitionStarted", EventSubscription.TRANSITIONS, lambda: data)
                self._post("SceneTransitionEnded", EventSubscription.TRANSITIONS, lambda: data)
            return
        self._transitioning = state.active
        self._post("SceneTransitionStarted" if state.active else "SceneTransitionEnded",
                   EventSubscription.TRANSITIONS, lambda: data)

    def _on_stats(self, stats: ClockStats) -> None:
        self.ctx.clock_stats = stats  # type: ignore[attr-defined]  # GetStats reads it

    def _on_model(self, event: object) -> None:
        ctx = self.ctx
        if isinstance(event, ScenesChanged):
            self._post("SceneListChanged", EventSubscription.SCENES, lambda: {"scenes": scene_list(ctx)})
        elif isinstance(event, SceneItemsChanged):
            self._post("SceneItemListReindexed", EventSubscription.SCENE_ITEMS, lambda: self._reindexed(event.scene))
        elif isinstance(event, ItemChanged):
            fields = set(event.fields)
            if "visible" in fields:
                self._post("SceneItemEnableStateChanged", EventSubscription.SCENE_ITEMS,
                           lambda: self._item_event(event, "sceneItemEnabled", "visible"))
            if "locked" in fields:
                self._post("SceneItemLockStateChanged", EventSubscription.SCENE_ITEMS,
                           lambda: self._item_event(event, "sceneItemLocked", "locked"))
            if fields & _TRANSFORM:
                self._post("SceneItemTransformChanged", EventSubscription.SCENE_ITEM_TRANSFORM_CHANGED,
                           lambda: self._transform_event(event))

    def _item(self, event: ItemChanged) -> Any:
        col = self.ctx.show.collection
        with col.lock:
            return col.scene(event.scene).item(event.item_id)

    def _item_event(self, event: ItemChanged, key: str, field: str) -> Data:
        item = self._item(event)
        return {**_scene(event.scene), "sceneItemId": self.ctx.item_number(event.item_id),
                key: getattr(item, field)}

    def _transform_event(self, event: ItemChanged) -> Data:
        from studio.control.requests import transform_of

        return {**_scene(event.scene), "sceneItemId": self.ctx.item_number(event.item_id),
                "sceneItemTransform": transform_of(self.ctx, self._item(event))}

    def _reindexed(self, scene: str) -> Data:
        col = self.ctx.show.collection
        with col.lock:
            items = list(col.scene(scene).items)
        return {**_scene(scene), "sceneItems": [{"sceneItemId": self.ctx.item_number(it.id), "sceneItemIndex": i}
                                                for i, it in enumerate(items)]}

    # ---- mixer (any thread) ----
    def _on_mixer(self, change: MixerChange) -> None:
        st = change.state
        name = st.name
        if change.kind == "added":
            self._mixer_state[name] = (st.muted, st.volume_db)
            self._post("InputCreated", EventSubscription.INPUTS,
                       lambda: {**input_entry(self.ctx, name), "inputSettings": {}, "defaultInputSettings": {}})
            return
        if change.kind == "removed":
            self._mixer_state.pop(name, None)
            self._post("InputRemoved", EventSubscription.INPUTS,
                       lambda: {"inputName": name, "inputUuid": stable_uuid("input", name)})
            return
        muted, volume = self._mixer_state.get(name, (st.muted, st.volume_db))
        self._mixer_state[name] = (st.muted, st.volume_db)
        ident = {"inputName": name, "inputUuid": stable_uuid("input", name)}
        if st.muted != muted:
            self._post("InputMuteStateChanged", EventSubscription.INPUTS, lambda: {**ident, "inputMuted": st.muted})
        if st.volume_db != volume:
            db = st.volume_db
            self._post("InputVolumeChanged", EventSubscription.INPUTS,
                       lambda: {**ident, "inputVolumeMul": 0.0 if db <= -60 else 10 ** (db / 20),
                                "inputVolumeDb": db if db > -60 else -100.0})

    # ---- outputs ----
    def _on_stream(self, state: WhipState) -> None:
        mapped = self._stream_states.feed(state.state)
        if mapped is not None and mapped["outputState"] == OutputState.STARTED:
            self.ctx.stream_started = time.monotonic()  # type: ignore[attr-defined]  # GetStreamStatus
        if mapped is not None:
            self._post("StreamStateChanged", EventSubscription.OUTPUTS, lambda: mapped)

    def _on_recorder(self, event: RecorderEvent) -> None:
        if event.kind not in ("started", "stopped"):
            return
        started = event.kind == "started"
        path = str(event.path)
        self._post("RecordStateChanged", EventSubscription.OUTPUTS,
                   lambda: {"outputActive": started,
                            "outputState": OutputState.STARTED if started else OutputState.STOPPED,
                            "outputPath": path})

    # ---- drama: polls, branches, product moments (vendor events) ----
    def _vendor(self, event_type: str, data: dict[str, Any]) -> None:
        self._post("VendorEvent", EventSubscription.VENDORS,
                   lambda: {"vendorName": VENDOR_NAME, "eventType": event_type, "eventData": data})

    def _on_poll_closed(self, result: Any) -> None:
        self._vendor("PollClosed", {"pollId": result.poll, "question": result.question,
                                    "options": list(result.options), "counts": list(result.counts),
                                    "winner": result.winner, "decidedBy": result.decided_by, "tie": result.tie})

    def _on_branch(self, b: Any) -> None:
        self._vendor("BranchTaken", {"segmentId": b.segment, "branch": b.branch, "option": b.option,
                                     "target": b.target, "decidedBy": b.decided_by, "counts": list(b.counts),
                                     "frame": b.frame})

    def _on_marker(self, m: Any) -> None:
        if m.kind == "product":
            self._vendor("ProductMoment", {"segmentId": m.segment, "marker": m.marker, "action": m.action,
                                           "sourceName": m.detail, "frame": m.frame})

    def _on_segment(self, s: Any) -> None:
        self._vendor("SegmentStarted", {"segmentId": s.segment, "title": s.title, "kind": s.kind, "frame": s.frame})

    def _follow_rundown(self) -> None:
        """The rundown is started by the GUI, headless or a vendor request: follow whichever runs."""
        executor = self.ctx.show.rundown
        if executor is self._rundown:
            return
        for disconnect in self._rundown_disconnects:
            disconnect()
        self._rundown_disconnects = []
        self._rundown = executor
        if executor is not None:
            ev = executor.events
            self._rundown_disconnects = [ev.branch_taken.connect(self._on_branch),
                                         ev.marker_fired.connect(self._on_marker),
                                         ev.segment_started.connect(self._on_segment)]

    # ---- the 50 ms timer (net thread) ----
    def _tick(self) -> None:
        self._timer = self.net.loop.call_later(METER_INTERVAL_S, self._tick)
        try:
            self._follow_rundown()
            if self._wanted() & EventSubscription.INPUT_VOLUME_METERS:
                levels = self.ctx.show.mixer.meters.last
                if levels is not None and levels.pts != self._last_meter_pts:
                    self._last_meter_pts = levels.pts
                    self._emit("InputVolumeMeters", EventSubscription.INPUT_VOLUME_METERS,
                               {"inputs": meter_inputs(levels)})
        except Exception:  # the timer must keep running
            log.exception("control: event timer failed")


class StreamStates:
    """Our WHIP output's states as obs-websocket's StreamStateChanged data. A retry after a lost
    connection is RECONNECTING (still active) until it is live again: RECONNECTED."""

    def __init__(self) -> None:
        self._before: OutputStatus | None = None
        self._reconnecting = False

    def feed(self, now: OutputStatus) -> dict[str, Any] | None:
        """The event data for this change; None when there is nothing new to say."""
        before, self._before = self._before, now
        if now is OutputStatus.RECONNECTING:
            if self._reconnecting:
                return None  # the countdown to the next attempt ticks, or another attempt failed
            self._reconnecting = True
            return {"outputActive": True, "outputState": OutputState.RECONNECTING}
        if now is OutputStatus.CONNECTING:
            if self._reconnecting:
                return None  # a retry's attempt: still reconnecting
            return {"outputActive": False, "outputState": OutputState.STARTING}
        if now is OutputStatus.LIVE:
            state = OutputState.RECONNECTED if self._reconnecting else OutputState.STARTED
            self._reconnecting = False
            return {"outputActive": True, "outputState": state}
        if now in (OutputStatus.FAILED, OutputStatus.STOPPED):
            self._reconnecting = False
            if before in (None, OutputStatus.FAILED, OutputStatus.STOPPED, OutputStatus.IDLE):
                return None
            return {"outputActive": False, "outputState": OutputState.STOPPED}
        return None


def _scene(name: str | None) -> dict[str, Any]:
    return {"sceneName": name, "sceneUuid": stable_uuid("scene", name) if name else None}
