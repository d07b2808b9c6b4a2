"""Vendor requests for what OBS does not have (vendorName ``drama-live-studio``): the rundown,
audience polls, product cards and pinned danmaku. Reached through ``CallVendorRequest``; results
come back as ``responseData``, events as ``VendorEvent`` (see ``events``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from studio import commands as cmd
from studio.control.context import ControlContext
from studio.control.fields import Fields
from studio.control.protocol import RequestError, RequestStatus
from studio.control.session import Session

VENDOR_NAME = "drama-live-studio"

VendorHandler = Callable[[ControlContext, Fields], Awaitable[dict[str, Any]]]
VENDOR_REQUESTS: dict[str, VendorHandler] = {}


def vendor_request(name: str) -> Callable[[VendorHandler], VendorHandler]:
    def register(handler: VendorHandler) -> VendorHandler:
        VENDOR_REQUESTS[name] = handler
        return handler
    return register


def _interaction(ctx: ControlContext) -> Any:
    service = ctx.show.interaction
    if service is None:
        raise RequestError(RequestStatus.NOT_READY, "Audience interaction is not running (the show is not served locally).")
    return service


def _rundown(ctx: ControlContext) -> Any:
    executor = ctx.show.rundown
    if executor is None:
        raise RequestError(RequestStatus.INVALID_RESOURCE_STATE, "No rundown is running.")
    return executor


@vendor_request("StartRundown")
async def start_rundown(ctx: ControlContext, f: Fields) -> dict[str, Any]:
    import asyncio

    path = Path(f.string("path")) if f.has("path") else ctx.show.default_rundown()
    if path is None:
        raise RequestError(RequestStatus.MISSING_REQUEST_FIELD, "Your request is missing the `path` field (no default rundown).")
    segment = f.optional_string("segmentId")
    try:  # reads the rundown and probes clips: off the net thread
        executor = await asyncio.to_thread(ctx.show.start_rundown, path, segment)
    except (ValueError, OSError) as exc:
        raise RequestError(RequestStatus.REQUEST_PROCESSING_FAILED, str(exc)) from None
    return {"state": executor.state}


@vendor_request("StopRundown")
async def stop_rundown(ctx: ControlContext, f: Fields) -> dict[str, Any]:
    _rundown(ctx)
    ctx.show.stop_rundown()
    return {"state": "stopped"}


@vendor_request("NextSegment")
async def next_segment(ctx: ControlContext, f: Fields) -> dict[str, Any]:
    executor = _rundown(ctx)
    try:
        executor.next(f.optional_string("segmentId"))
    except (ValueError, KeyError) as exc:
        raise RequestError(RequestStatus.RESOURCE_NOT_FOUND, str(exc)) from None
    return {"segmentId": executor.running_segment}


@vendor_request("OpenPoll")
async def open_poll(ctx: ControlContext, f: Fields) -> dict[str, Any]:
    options = f.data.get("options")
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise RequestError(RequestStatus.INVALID_REQUEST_FIELD_TYPE, "The field `options` must be an array of strings.")
    duration = f.number("durationS", 5, 3600) if f.has("durationS") else 60.0
    try:
        poll = _interaction(ctx).open_poll(f.string("question"), options, duration)
    except ValueError as exc:
        raise RequestError(RequestStatus.INVALID_REQUEST_FIELD, str(exc)) from None
    return {"pollId": poll.id}


@vendor_request("ClosePoll")
async def close_poll(ctx: ControlContext, f: Fields) -> dict[str, Any]:
    try:
        result = _interaction(ctx).close_poll()
    except ValueError as exc:
        raise RequestError(RequestStatus.INVALID_RESOURCE_STATE, str(exc)) from None
    if result is None:
        return {"closed": False, "needsPick": True}
    return {"closed": True, "pollId": result.poll, "counts": list(getattr(result, "counts", ()))}


def _card_items(ctx: ControlContext, f: Fields) -> list[tuple[str, str]]:
    source = f.string("sourceName")
    col = ctx.show.collection
    with col.lock:
        cfg = col.sources.get(source)
        if cfg is None or cfg.type_id != "product_card":
            raise RequestError(RequestStatus.INVALID_RESOURCE_TYPE, f"`{source}` is not a product card.")
        scene = f.optional_string("sceneName") or col.program_scene
        if scene is None or not col.has_scene(scene):
            raise RequestError(RequestStatus.RESOURCE_NOT_FOUND, f"No scene was found by the name of `{scene}`.")
        found = [(scene, it.id) for it in col.scene(scene).items if it.source == source]
    if not found:
        raise RequestError(RequestStatus.RESOURCE_NOT_FOUND, f"`{source}` is not in the scene `{scene}`.")
    return found


async def _show_card(ctx: ControlContext, f: Fields, visible: bool) -> dict[str, Any]:
    for scene, item_id in _card_items(ctx, f):
        ctx.submit(cmd.UpdateItem(scene, item_id, {"visible": visible}))
    return {"visible": visible}


@vendor_request("ShowProductCard")
async def show_product_card(ctx: ControlContext, f: Fields) -> dict[str, Any]:
    return await _show_card(ctx, f, True)


@vendor_request("HideProductCard")
async def hide_product_card(ctx: ControlContext, f: Fields) -> dict[str, Any]:
    return await _show_card(ctx, f, False)


@vendor_request("PinDanmaku")
async def pin_danmaku(ctx: ControlContext, f: Fields) -> dict[str, Any]:
    moderator = _interaction(ctx).moderator
    if not f.has("messageId"):  # no message: unpin
        moderator.unpin()
        return {"pinned": None}
    try:
        message = moderator.pin(f.string("messageId"))
    except ValueError as exc:
        raise RequestError(RequestStatus.RESOURCE_NOT_FOUND, str(exc)) from None
    return {"pinned": message.id}


async def call_vendor_request(ctx: ControlContext, f: Fields, s: Session) -> dict[str, Any]:
    vendor = f.string("vendorName")
    request_type = f.string("requestType")
    if vendor != VENDOR_NAME:
        raise RequestError(RequestStatus.RESOURCE_NOT_FOUND, f"No vendor was found by that name: `{vendor}`.")
    handler = VENDOR_REQUESTS.get(request_type)
    if handler is None:
        raise RequestError(RequestStatus.UNKNOWN_REQUEST_TYPE, f"The vendor has no request `{request_type}`.")
    data = await handler(ctx, Fields(f.optional_obj("requestData")))
    return {"vendorName": vendor, "requestType": request_type, "responseData": data}


def _register() -> None:
    from studio.control.requests import REQUESTS

    REQUESTS["CallVendorRequest"] = call_vendor_request


_register()
