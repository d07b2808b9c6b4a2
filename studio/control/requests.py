"""One handler per obs-websocket request, in a registry. Reads come from the show under the
collection's lock; every change is an engine command (``ControlContext.submit``), a mixer call (the
mixer is thread-safe by design) or an output start/stop run off the net thread.

A handler returns ``responseData`` (or None) and raises RequestError for a failed status.
"""

from __future__ import annotations

import asyncio
import base64
import os
import resource
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import cv2
import numpy as np

from scenes.model import SceneItem
from scenes.transitions import TransitionKind, TransitionSpec
from studio import commands as cmd
from studio.audio.mixer import MAX_VOLUME_DB, MIN_VOLUME_DB
from studio.control.context import ControlContext, stable_uuid
from studio.control.fields import Fields
from studio.control.protocol import (
    OBS_STUDIO_VERSION,
    OBS_WEBSOCKET_VERSION,
    RPC_VERSION,
    EventSubscription,
    OutputState,
    RequestError,
    RequestStatus,
)
from studio.control.session import Session
from studio.outputs.whip_events import OutputStatus

Handler = Callable[[ControlContext, Fields, Session], Awaitable[dict[str, Any] | None]]
REQUESTS: dict[str, Handler] = {}
# handled by the batch runner itself (it needs the batch's execution type)
SLEEP = "Sleep"

IMAGE_FORMATS = ("png", "jpg", "jpeg")
TRANSITION_NAMES = {TransitionKind.CUT: "Cut", TransitionKind.FADE: "Fade", TransitionKind.SLIDE: "Slide",
                    TransitionKind.STINGER: "Stinger"}
TRANSITION_KINDS = {TransitionKind.CUT: "cut_transition", TransitionKind.FADE: "fade_transition",
                    TransitionKind.SLIDE: "slide_transition", TransitionKind.STINGER: "obs_stinger_transition"}
HOTKEYS = ("OBSBasic.Transition", "OBSBasic.StartRecording", "OBSBasic.StopRecording",
           "OBSBasic.StartStreaming", "OBSBasic.StopStreaming")


def request(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        REQUESTS[name] = handler
        return handler
    return register


def available_requests() -> list[str]:
    return sorted([*REQUESTS, SLEEP])


# ---- shared helpers -------------------------------------------------------------------------------

def _scene_from(ctx: ControlContext, f: Fields) -> str:
    key = f.one_of("sceneName", "sceneUuid")
    return ctx.resolve_scene(f.string(key) if key == "sceneName" else None,
                             f.string(key) if key == "sceneUuid" else None)


def _input_from(ctx: ControlContext, f: Fields) -> str:
    key = f.one_of("inputName", "inputUuid")
    return ctx.resolve_input(f.string(key) if key == "inputName" else None,
                             f.string(key) if key == "inputUuid" else None)


def _item_from(ctx: ControlContext, f: Fields) -> tuple[str, SceneItem]:
    scene = _scene_from(ctx, f)
    return scene, ctx.item(scene, f.integer("sceneItemId", 0))


def _require_studio_mode(ctx: ControlContext) -> None:
    if not ctx.studio.studio_mode:
        raise RequestError(RequestStatus.STUDIO_MODE_NOT_ACTIVE, "Studio mode is not active.")


def _scene_pair(name: str | None, prefix: str) -> dict[str, Any]:
    return {"sceneName": name, "sceneUuid": stable_uuid("scene", name) if name else None,
            f"current{prefix}SceneName": name,
            f"current{prefix}SceneUuid": stable_uuid("scene", name) if name else None}


def _timecode(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


async def _off_loop(func: Callable[..., Any], *args: Any) -> Any:
    """Output starts/stops block (encoders, files, the relay handshake): never on the net thread."""
    try:
        return await asyncio.to_thread(func, *args)
    except ValueError as exc:
        raise RequestError(RequestStatus.REQUEST_PROCESSING_FAILED, str(exc)) from None
    except OSError as exc:
        raise RequestError(RequestStatus.REQUEST_PROCESSING_FAILED, f"{type(exc).__name__}: {exc}") from None


# ---- general --------------------------------------------------------------------------------------

@request("GetVersion")
async def get_version(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    import platform

    return {"obsVersion": OBS_STUDIO_VERSION, "obsWebSocketVersion": OBS_WEBSOCKET_VERSION,
            "rpcVersion": RPC_VERSION, "availableRequests": available_requests(),
            "supportedImageFormats": ["png", "jpg", "jpeg"], "platform": platform.system().lower(),
            "platformDescription": f"Drama Live Studio on {platform.platform()}"}


_cpu_mark: list[float] = []


def _cpu_percent() -> float:
    now, cpu = time.monotonic(), time.process_time()
    if not _cpu_mark:
        _cpu_mark[:] = [now, cpu]
        return 0.0
    wall, used = now - _cpu_mark[0], cpu - _cpu_mark[1]
    _cpu_mark[:] = [now, cpu]
    return round(100.0 * used / wall, 1) if wall > 0 else 0.0


def _rss_mb() -> float:
    """Resident memory now (Linux), else the peak: what OBS reports as memoryUsage (MB)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1_048_576
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@request("GetStats")
async def get_stats(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    from studio.paths import recordings_dir

    studio = ctx.studio
    try:
        free_mb = shutil.disk_usage(recordings_dir()).free / 1_048_576
    except OSError:
        free_mb = 0.0
    snap = ctx.show.pipeline.snapshot()
    video = snap.video
    stats = getattr(ctx, "clock_stats", None)
    return {"cpuUsage": _cpu_percent(), "memoryUsage": round(_rss_mb(), 1),
            "availableDiskSpace": round(free_mb, 1),
            "activeFps": round(stats.fps, 2) if stats is not None else float(studio.fps),
            "averageFrameRenderTime": round(stats.render_ms_p50, 3) if stats is not None else 0.0,
            "renderSkippedFrames": studio.lagged, "renderTotalFrames": studio.frames + studio.lagged,
            "outputSkippedFrames": video.skipped if video else 0,
            "outputTotalFrames": (video.encoded + video.skipped) if video else 0,
            "webSocketSessionIncomingMessages": s.incoming, "webSocketSessionOutgoingMessages": s.outgoing}


@request("BroadcastCustomEvent")
async def broadcast_custom_event(ctx: ControlContext, f: Fields, s: Session) -> None:
    ctx.emit("CustomEvent", EventSubscription.GENERAL, f.obj("eventData"))


@request("GetHotkeyList")
async def get_hotkey_list(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    return {"hotkeys": list(HOTKEYS)}


@request("TriggerHotkeyByName")
async def trigger_hotkey_by_name(ctx: ControlContext, f: Fields, s: Session) -> None:
    name = f.string("hotkeyName")
    actions: dict[str, Handler] = {
        "OBSBasic.Transition": trigger_studio_mode_transition, "OBSBasic.StartRecording": start_record,
        "OBSBasic.StopRecording": stop_record, "OBSBasic.StartStreaming": start_stream,
        "OBSBasic.StopStreaming": stop_stream}
    action = actions.get(name)
    if action is None:
        raise RequestError(RequestStatus.RESOURCE_NOT_FOUND, "No hotkeys were found by that name.")
    await action(ctx, Fields({}), s)


# ---- config ---------------------------------------------------------------------------------------

@request("GetVideoSettings")
async def get_video_settings(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    st = ctx.studio
    return {"fpsNumerator": st.fps, "fpsDenominator": 1, "baseWidth": st.width, "baseHeight": st.height,
            "outputWidth": st.width, "outputHeight": st.height}


@request("GetProfileList")
async def get_profile_list(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    return {"currentProfileName": "Default", "profiles": ["Default"]}


@request("GetSceneCollectionList")
async def get_scene_collection_list(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    name = ctx.show.collection.name
    return {"currentSceneCollectionName": name, "sceneCollections": [name]}


# ---- scenes ---------------------------------------------------------------------------------------

def scene_list(ctx: ControlContext) -> list[dict[str, Any]]:
    """As obs-websocket lists them: bottom of the scene list first, ``sceneIndex`` counting from it."""
    names = ctx.scene_names()
    count = len(names)
    return [{"sceneIndex": count - i - 1, "sceneName": n, "sceneUuid": stable_uuid("scene", n)}
            for i, n in reversed(list(enumerate(names)))]


@request("GetSceneList")
async def get_scene_list(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    col = ctx.show.collection
    with col.lock:
        program = col.program_scene
        preview = col.preview_scene if ctx.studio.studio_mode else None
    return {"currentProgramSceneName": program, "currentProgramSceneUuid": stable_uuid("scene", program) if program else None,
            "currentPreviewSceneName": preview, "currentPreviewSceneUuid": stable_uuid("scene", preview) if preview else None,
            "scenes": scene_list(ctx)}


@request("GetCurrentProgramScene")
async def get_current_program_scene(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    return _scene_pair(ctx.show.collection.program_scene, "Program")


@request("SetCurrentProgramScene")
async def set_current_program_scene(ctx: ControlContext, f: Fields, s: Session) -> None:
    # as OBS does: the program changes with the current transition
    ctx.submit(cmd.Transition(scene=_scene_from(ctx, f)))


@request("GetCurrentPreviewScene")
async def get_current_preview_scene(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    _require_studio_mode(ctx)
    return _scene_pair(ctx.show.collection.preview_scene, "Preview")


@request("SetCurrentPreviewScene")
async def set_current_preview_scene(ctx: ControlContext, f: Fields, s: Session) -> None:
    _require_studio_mode(ctx)
    ctx.submit(cmd.SetPreviewScene(_scene_from(ctx, f)))


# ---- ui -------------------------------------------------------------------------------------------

@request("GetStudioModeEnabled")
async def get_studio_mode_enabled(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    return {"studioModeEnabled": bool(ctx.studio.studio_mode)}


@request("SetStudioModeEnabled")
async def set_studio_mode_enabled(ctx: ControlContext, f: Fields, s: Session) -> None:
    ctx.submit(cmd.SetStudioMode(f.boolean("studioModeEnabled")))
    await ctx.applied()  # preview and transition requests check studio mode: answer once it holds


# ---- transitions ----------------------------------------------------------------------------------

def _transition_info(spec: TransitionSpec) -> dict[str, Any]:
    return {"transitionName": TRANSITION_NAMES[spec.kind],
            "transitionUuid": stable_uuid("transition", spec.kind.value),
            "transitionKind": TRANSITION_KINDS[spec.kind], "transitionFixed": spec.kind is TransitionKind.CUT,
            "transitionConfigurable": False}


@request("GetSceneTransitionList")
async def get_scene_transition_list(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    current: TransitionSpec = ctx.studio.transition_spec
    kinds = [TransitionKind.CUT, TransitionKind.FADE, TransitionKind.SLIDE]
    if current.kind is TransitionKind.STINGER:
        kinds.append(TransitionKind.STINGER)
    info = _transition_info(current)
    return {"currentSceneTransitionName": info["transitionName"], "currentSceneTransitionUuid": info["transitionUuid"],
            "currentSceneTransitionKind": info["transitionKind"],
            "transitions": [_transition_info(TransitionSpec(k, current.duration_ms, current.stinger_path))
                            for k in kinds]}


@request("GetCurrentSceneTransition")
async def get_current_scene_transition(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    spec: TransitionSpec = ctx.studio.transition_spec
    fixed = spec.kind is TransitionKind.CUT
    return {**_transition_info(spec), "transitionDuration": None if fixed else spec.duration_ms,
            "transitionSettings": None}


@request("SetCurrentSceneTransition")
async def set_current_scene_transition(ctx: ControlContext, f: Fields, s: Session) -> None:
    name = f.string("transitionName")
    current: TransitionSpec = ctx.studio.transition_spec
    for kind, label in TRANSITION_NAMES.items():
        if label == name and (kind is not TransitionKind.STINGER or current.stinger_path):
            ctx.submit(cmd.SetTransition(replace(current, kind=kind)))
            return
    raise RequestError(RequestStatus.RESOURCE_NOT_FOUND, "No scene transition was found by that name.")


@request("SetCurrentSceneTransitionDuration")
async def set_current_scene_transition_duration(ctx: ControlContext, f: Fields, s: Session) -> None:
    duration = f.integer("transitionDuration", 50, 10_000)  # the engine's transitions last at most 10 s
    ctx.submit(cmd.SetTransition(replace(ctx.studio.transition_spec, duration_ms=duration)))


@request("TriggerStudioModeTransition")
async def trigger_studio_mode_transition(ctx: ControlContext, f: Fields, s: Session) -> None:
    _require_studio_mode(ctx)
    ctx.submit(cmd.Transition())


@request("SetTBarPosition")
async def set_tbar_position(ctx: ControlContext, f: Fields, s: Session) -> None:
    _require_studio_mode(ctx)
    position = f.number("position", 0.0, 1.0)
    release = f.optional_boolean("release", True)
    ctx.submit(cmd.SetTransitionPosition(position))
    if release and 0.0 < position < 1.0:
        # letting go of the T-bar finishes the transition past half way, as OBS's does, else undoes it
        ctx.submit(cmd.SetTransitionPosition(1.0 if position >= 0.5 else 0.0))


# ---- inputs ---------------------------------------------------------------------------------------

def input_entry(ctx: ControlContext, name: str) -> dict[str, Any]:
    kind = ctx.input_kind(name)
    return {"inputName": name, "inputUuid": stable_uuid("input", name), "inputKind": kind,
            "unversionedInputKind": kind}


@request("GetInputList")
async def get_input_list(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    kind = f.optional_string("inputKind")
    entries = [input_entry(ctx, n) for n in ctx.input_names()]
    return {"inputs": [e for e in entries if kind is None or e["inputKind"] == kind]}


@request("GetInputKindList")
async def get_input_kind_list(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    from scenes.registry import all_types

    return {"inputKinds": sorted([*(t.id for t in all_types()), "audio_input"])}


@request("GetSpecialInputs")
async def get_special_inputs(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    mics = [st.name for st in ctx.show.mixer.inputs if st.name not in ctx.show.collection.sources]
    return {"desktop1": None, "desktop2": None, **{f"mic{i + 1}": (mics[i] if i < len(mics) else None) for i in range(4)}}


@request("GetInputSettings")
async def get_input_settings(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    name = _input_from(ctx, f)
    col = ctx.show.collection
    with col.lock:
        cfg = col.sources.get(name)
        settings = dict(cfg.settings) if cfg is not None else {}
    return {"inputSettings": settings, "inputKind": ctx.input_kind(name)}


@request("SetInputSettings")
async def set_input_settings(ctx: ControlContext, f: Fields, s: Session) -> None:
    name = _input_from(ctx, f)
    settings = f.obj("inputSettings")
    if not f.optional_boolean("overlay", True):
        raise RequestError(RequestStatus.CANNOT_ACT, "Only overlay (merging) settings is supported.")
    col = ctx.show.collection
    with col.lock:
        cfg = col.sources.get(name)
    if cfg is None:
        raise RequestError(RequestStatus.RESOURCE_NOT_CONFIGURABLE, f"The input `{name}` has no settings.")
    from scenes.registry import get_type

    try:  # checked now so the client hears about bad settings; applied by the engine
        get_type(cfg.type_id).validate({**cfg.settings, **settings})
    except ValueError as exc:
        raise RequestError(RequestStatus.INVALID_REQUEST_FIELD, str(exc)) from None
    ctx.submit(cmd.UpdateSource(name, settings))


@request("GetInputMute")
async def get_input_mute(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    return {"inputMuted": ctx.audio_input(_input_from(ctx, f)).muted}


def _set_muted(ctx: ControlContext, name: str, muted: bool) -> None:
    try:
        ctx.show.mixer.set_muted(name, muted)
    except (KeyError, ValueError) as exc:  # the strip went away meanwhile
        raise RequestError(RequestStatus.RESOURCE_NOT_FOUND, str(exc)) from None


@request("SetInputMute")
async def set_input_mute(ctx: ControlContext, f: Fields, s: Session) -> None:
    name = _input_from(ctx, f)
    ctx.audio_input(name)
    _set_muted(ctx, name, f.boolean("inputMuted"))


@request("ToggleInputMute")
async def toggle_input_mute(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    name = _input_from(ctx, f)
    muted = not ctx.audio_input(name).muted
    _set_muted(ctx, name, muted)
    return {"inputMuted": muted}


def _volume(db: float) -> dict[str, Any]:
    mul = 0.0 if db <= MIN_VOLUME_DB else 10 ** (db / 20)
    return {"inputVolumeMul": mul, "inputVolumeDb": db if db > MIN_VOLUME_DB else -100.0}


@request("GetInputVolume")
async def get_input_volume(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    return _volume(ctx.audio_input(_input_from(ctx, f)).volume_db)


@request("SetInputVolume")
async def set_input_volume(ctx: ControlContext, f: Fields, s: Session) -> None:
    name = _input_from(ctx, f)
    ctx.audio_input(name)
    if f.has("inputVolumeMul") and f.has("inputVolumeDb"):
        raise RequestError(RequestStatus.TOO_MANY_REQUEST_FIELDS, "Give inputVolumeMul or inputVolumeDb, not both.")
    if f.has("inputVolumeMul"):
        mul = f.number("inputVolumeMul", 0.0, 10 ** (MAX_VOLUME_DB / 20))
        db = MIN_VOLUME_DB if mul <= 10 ** (MIN_VOLUME_DB / 20) else 20 * float(np.log10(mul))
    else:
        db = max(MIN_VOLUME_DB, f.number("inputVolumeDb", -100.0, MAX_VOLUME_DB))
    try:
        ctx.show.mixer.set_volume(name, db)
    except (KeyError, ValueError) as exc:
        raise RequestError(RequestStatus.RESOURCE_NOT_FOUND, str(exc)) from None


# ---- scene items ----------------------------------------------------------------------------------

def transform_of(ctx: ControlContext, item: SceneItem) -> dict[str, Any]:
    col = ctx.show.collection
    with col.lock:
        cfg = col.sources.get(item.source)
        settings = cfg.settings if cfg is not None else {}
        state = item.state()
    width = float(settings.get("width") or ctx.studio.width)
    height = float(settings.get("height") or ctx.studio.height)
    left, top, right, bottom = state["crop"]
    return {"positionX": state["x"], "positionY": state["y"], "rotation": state["rotation"],
            "scaleX": state["scale_x"], "scaleY": state["scale_y"], "alignment": 5,
            "sourceWidth": width, "sourceHeight": height,
            "width": (width - left - right) * state["scale_x"], "height": (height - top - bottom) * state["scale_y"],
            "cropLeft": left, "cropTop": top, "cropRight": right, "cropBottom": bottom, "cropToBounds": False,
            "boundsType": "OBS_BOUNDS_NONE", "boundsAlignment": 0, "boundsWidth": 0.0, "boundsHeight": 0.0}


def item_entry(ctx: ControlContext, item: SceneItem, index: int) -> dict[str, Any]:
    state = item.state()
    return {"sceneItemId": ctx.item_number(item.id), "sceneItemIndex": index, "sourceName": item.source,
            "sourceUuid": stable_uuid("input", item.source), "sourceType": "OBS_SOURCE_TYPE_INPUT",
            "inputKind": ctx.input_kind(item.source), "isGroup": None, "sceneItemEnabled": state["visible"],
            "sceneItemLocked": state["locked"], "sceneItemBlendMode": "OBS_BLEND_NORMAL",
            "sceneItemTransform": transform_of(ctx, item)}


@request("GetSceneItemList")
async def get_scene_item_list(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    name = _scene_from(ctx, f)
    col = ctx.show.collection
    with col.lock:
        items = list(col.scene(name).items)
        return {"sceneItems": [item_entry(ctx, it, i) for i, it in enumerate(items)]}


@request("GetSceneItemId")
async def get_scene_item_id(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    name = _scene_from(ctx, f)
    source = f.string("sourceName")
    offset = f.integer("searchOffset", -1) if f.has("searchOffset") else 0
    col = ctx.show.collection
    with col.lock:
        matches = [it for it in col.scene(name).items if it.source == source]
    if offset == -1 and matches:
        return {"sceneItemId": ctx.item_number(matches[-1].id)}
    if 0 <= offset < len(matches):
        return {"sceneItemId": ctx.item_number(matches[offset].id)}
    raise RequestError(RequestStatus.RESOURCE_NOT_FOUND, "No scene items were found in the specified scene by that name or offset.")


def _item_flag(name: str, attribute: str) -> None:
    """Get/SetSceneItem<name>: one boolean of a scene item, read from the model, set by a command."""
    field = f"sceneItem{name}"

    @request(f"GetSceneItem{name}")
    async def get_flag(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
        _, item = _item_from(ctx, f)
        return {field: getattr(item, attribute)}

    @request(f"SetSceneItem{name}")
    async def set_flag(ctx: ControlContext, f: Fields, s: Session) -> None:
        scene, item = _item_from(ctx, f)
        ctx.submit(cmd.UpdateItem(scene, item.id, {attribute: f.boolean(field)}))


_item_flag("Enabled", "visible")
_item_flag("Locked", "locked")


@request("GetSceneItemTransform")
async def get_scene_item_transform(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    _, item = _item_from(ctx, f)
    return {"sceneItemTransform": transform_of(ctx, item)}


_TRANSFORM_FIELDS = {"positionX": "x", "positionY": "y", "rotation": "rotation", "scaleX": "scale_x",
                     "scaleY": "scale_y"}
_CROP_FIELDS = ("cropLeft", "cropTop", "cropRight", "cropBottom")


@request("SetSceneItemTransform")
async def set_scene_item_transform(ctx: ControlContext, f: Fields, s: Session) -> None:
    scene, item = _item_from(ctx, f)
    t = Fields(f.obj("sceneItemTransform"))
    changes: dict[str, Any] = {ours: t.number(theirs) for theirs, ours in _TRANSFORM_FIELDS.items() if t.has(theirs)}
    if any(t.has(c) for c in _CROP_FIELDS):
        current = list(item.crop)
        for i, c in enumerate(_CROP_FIELDS):
            if t.has(c):
                current[i] = t.integer(c, 0)
        changes["crop"] = tuple(current)
    if not changes:
        raise RequestError(RequestStatus.REQUEST_FIELD_EMPTY, "The field `sceneItemTransform` changes nothing we support.")
    try:  # the model's own checks, on a throwaway item, so the client hears about bad values now
        SceneItem(item.source, **changes)
    except ValueError as exc:
        raise RequestError(RequestStatus.REQUEST_FIELD_OUT_OF_RANGE, str(exc)) from None
    ctx.submit(cmd.UpdateItem(scene, item.id, changes))


# ---- sources --------------------------------------------------------------------------------------

def _encode_image(pixels: np.ndarray, fmt: str, width: int | None, height: int | None, quality: int) -> str:
    """BGRA canvas -> data URL. Runs on a worker thread (PNG of a 1080p frame takes ~30 ms)."""
    bgr = cv2.cvtColor(pixels, cv2.COLOR_BGRA2BGR)
    h, w = bgr.shape[:2]
    if width or height:
        tw = width or max(1, round(w * (height or h) / h))
        th = height or max(1, round(h * tw / w))
        bgr = cv2.resize(bgr, (tw, th), interpolation=cv2.INTER_AREA)
    ext = ".png" if fmt == "png" else ".jpg"
    params = [cv2.IMWRITE_JPEG_QUALITY, quality if quality >= 0 else 90] if ext == ".jpg" else []
    ok, data = cv2.imencode(ext, bgr, params)
    if not ok:
        raise RequestError(RequestStatus.REQUEST_PROCESSING_FAILED, "The image could not be encoded.")
    mime = "image/png" if ext == ".png" else "image/jpeg"
    return f"data:{mime};base64," + base64.b64encode(data.tobytes()).decode("ascii")


@request("GetSourceScreenshot")
async def get_source_screenshot(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    key = f.one_of("sourceName", "sourceUuid")
    fmt = f.string("imageFormat").lower()
    if fmt not in IMAGE_FORMATS:
        raise RequestError(RequestStatus.INVALID_REQUEST_FIELD, f"Your specified image format is invalid: {fmt}")
    width = f.integer("imageWidth", 8, 4096) if f.has("imageWidth") else None
    height = f.integer("imageHeight", 8, 4096) if f.has("imageHeight") else None
    quality = f.integer("imageCompressionQuality", -1, 100) if f.has("imageCompressionQuality") else -1
    scene = ctx.resolve_scene(f.string(key) if key == "sourceName" else None,
                              f.string(key) if key == "sourceUuid" else None)
    studio = ctx.studio
    col = ctx.show.collection
    if scene == col.program_scene:
        slot = studio.program
    elif studio.studio_mode and scene == col.preview_scene:
        slot = studio.preview
    else:  # other scenes are not rendered: drawing one here would race the clock thread's sources
        raise RequestError(RequestStatus.INVALID_RESOURCE_STATE,
                           "Only the program scene (and the preview scene in studio mode) can be captured.")
    frame, _ = slot.latest()
    if frame is None:
        raise RequestError(RequestStatus.NOT_READY, "No frame has been rendered yet.")
    pixels = frame.pixels.copy()  # the canvas ring reuses it a few frames later
    image = await asyncio.to_thread(_encode_image, pixels, fmt, width, height, quality)
    return {"imageData": image}


# ---- outputs --------------------------------------------------------------------------------------

def _stream_active(ctx: ControlContext) -> tuple[bool, bool]:
    stream = ctx.show.pipeline.stream
    if stream is None:
        return False, False
    status = stream.state.state
    return status in (OutputStatus.CONNECTING, OutputStatus.LIVE, OutputStatus.RECONNECTING), \
        status is OutputStatus.RECONNECTING


@request("GetStreamStatus")
async def get_stream_status(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    active, reconnecting = _stream_active(ctx)
    started = getattr(ctx, "stream_started", None)
    duration = time.monotonic() - started if active and started is not None else 0.0
    stats = ctx.show.pipeline.snapshot()
    whip = stats.stream
    video = stats.video
    return {"outputActive": active, "outputReconnecting": reconnecting, "outputTimecode": _timecode(duration),
            "outputDuration": int(duration * 1000),
            "outputCongestion": (min(1.0, whip.packet_loss_pct / 10.0) if whip else 0.0),
            "outputBytes": 0, "outputSkippedFrames": (whip.packets_dropped if whip else 0),
            "outputTotalFrames": (video.encoded if video and active else 0)}


@request("StartStream")
async def start_stream(ctx: ControlContext, f: Fields, s: Session) -> None:
    if ctx.show.pipeline.stream is not None:
        raise RequestError(RequestStatus.OUTPUT_RUNNING, "The stream output is already running.")
    await _off_loop(ctx.show.start_streaming)


@request("StopStream")
async def stop_stream(ctx: ControlContext, f: Fields, s: Session) -> None:
    if ctx.show.pipeline.stream is None:
        raise RequestError(RequestStatus.OUTPUT_NOT_RUNNING, "The stream output is not running.")
    ctx.emit("StreamStateChanged", EventSubscription.OUTPUTS,
             {"outputActive": False, "outputState": OutputState.STOPPING})
    await _off_loop(ctx.show.stop_streaming)


@request("ToggleStream")
async def toggle_stream(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    running = ctx.show.pipeline.stream is not None
    await (stop_stream if running else start_stream)(ctx, f, s)
    return {"outputActive": not running}


@request("GetRecordStatus")
async def get_record_status(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    recorder = ctx.show.pipeline.recorder
    if recorder is None:
        return {"outputActive": False, "outputPaused": False, "outputTimecode": _timecode(0), "outputDuration": 0,
                "outputBytes": 0}
    st = recorder.stats()
    return {"outputActive": True, "outputPaused": False, "outputTimecode": _timecode(st.duration_s),
            "outputDuration": int(st.duration_s * 1000), "outputBytes": st.bytes_written}


@request("StartRecord")
async def start_record(ctx: ControlContext, f: Fields, s: Session) -> None:
    if ctx.show.pipeline.recorder is not None:
        raise RequestError(RequestStatus.OUTPUT_RUNNING, "The record output is already running.")
    ctx.emit("RecordStateChanged", EventSubscription.OUTPUTS,
             {"outputActive": False, "outputState": OutputState.STARTING, "outputPath": None})
    await _off_loop(ctx.show.start_recording)


@request("StopRecord")
async def stop_record(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    recorder = ctx.show.pipeline.recorder
    if recorder is None:
        raise RequestError(RequestStatus.OUTPUT_NOT_RUNNING, "The record output is not running.")
    ctx.emit("RecordStateChanged", EventSubscription.OUTPUTS,
             {"outputActive": False, "outputState": OutputState.STOPPING, "outputPath": None})
    stats = await _off_loop(ctx.show.stop_recording)
    path = stats.path if stats is not None else recorder.path
    return {"outputPath": os.fspath(path)}


@request("ToggleRecord")
async def toggle_record(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    running = ctx.show.pipeline.recorder is not None
    await (stop_record if running else start_record)(ctx, f, s)
    return {"outputActive": not running}


@request("GetReplayBufferStatus")
async def get_replay_buffer_status(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    return {"outputActive": False}  # there is no replay buffer: never running


@request("GetOutputList")
async def get_output_list(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    st = ctx.studio
    stream_active, _ = _stream_active(ctx)
    def entry(name: str, kind: str, active: bool) -> dict[str, Any]:
        return {"outputName": name, "outputKind": kind, "outputWidth": st.width, "outputHeight": st.height,
                "outputActive": active, "outputFlags": {"OBS_OUTPUT_VIDEO": True, "OBS_OUTPUT_AUDIO": True,
                                                         "OBS_OUTPUT_ENCODED": True,
                                                         "OBS_OUTPUT_SERVICE": kind == "whip_output"}}
    return {"outputs": [entry("simple_stream", "whip_output", stream_active),
                        entry("simple_file_output", "ffmpeg_muxer", ctx.show.pipeline.recorder is not None)]}


from studio.control import vendor as _vendor  # noqa: E402  registers CallVendorRequest

__all__ = ["REQUESTS", "SLEEP", "available_requests", "_vendor"]
