"""Runs a Request or a RequestBatch against the registry and builds the response objects."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from studio.control.context import ControlContext
from studio.control.fields import Fields
from studio.control.protocol import (
    BatchExecution,
    CloseCode,
    ProtocolError,
    RequestError,
    RequestStatus,
    request_status,
)
from studio.control.requests import REQUESTS, SLEEP
from studio.control.session import Session

log = logging.getLogger(__name__)

MAX_BATCH = 500  # more than any tool sends; keeps one message from queueing minutes of work


async def run_request(ctx: ControlContext, session: Session, request_type: Any, request_data: Any,
                      execution: BatchExecution = BatchExecution.NONE) -> tuple[RequestStatus, str, dict[str, Any] | None]:
    """(status, comment, responseData) for one request. Never raises for a client's mistake."""
    if request_data is not None and not isinstance(request_data, dict):
        return RequestStatus.INVALID_REQUEST_FIELD_TYPE, "Your request data is not an object.", None
    if not isinstance(request_type, str) or not request_type:
        return RequestStatus.MISSING_REQUEST_TYPE, "Your request's `requestType` may not be empty.", None
    fields = Fields(request_data or {})
    try:
        if request_type == SLEEP:
            await _sleep(ctx, fields, execution)
            return RequestStatus.SUCCESS, "", None
        handler = REQUESTS.get(request_type)
        if handler is None:
            return RequestStatus.UNKNOWN_REQUEST_TYPE, f"Drama Live Studio does not support `{request_type}`.", None
        data = await handler(ctx, fields, session)
        return RequestStatus.SUCCESS, "", data
    except RequestError as exc:
        return exc.status, exc.comment, None
    except ValueError as exc:  # a model check (a name that just went away, a bad value)
        return RequestStatus.INVALID_REQUEST_FIELD, str(exc), None
    except Exception as exc:
        log.exception("control: %s failed", request_type)
        return RequestStatus.REQUEST_PROCESSING_FAILED, f"internal error: {type(exc).__name__}", None


async def _sleep(ctx: ControlContext, f: Fields, execution: BatchExecution) -> None:
    if execution is BatchExecution.SERIAL_REALTIME:
        await asyncio.sleep(f.integer("sleepMillis", 0, 50_000) / 1000)
    elif execution is BatchExecution.SERIAL_FRAME:
        frames = f.integer("sleepFrames", 0, 10_000)
        await asyncio.sleep(frames / max(1, ctx.studio.fps))  # frames of the program clock
    else:
        raise RequestError(RequestStatus.UNSUPPORTED_REQUEST_BATCH_EXECUTION_TYPE,
                           "Sleep works only in a SerialRealtime or SerialFrame request batch.")


def response(request_type: Any, request_id: Any, status: RequestStatus, comment: str,
             data: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"requestType": request_type if isinstance(request_type, str) else "",
                           "requestStatus": request_status(status, comment)}
    if request_id is not None:
        out["requestId"] = request_id
    if data is not None:
        out["responseData"] = data
    return out


def check_request(data: dict[str, Any]) -> None:
    """The checks obs-websocket makes before a request runs; failing one closes the session."""
    if "requestId" not in data:
        raise ProtocolError(CloseCode.MISSING_DATA_FIELD, "Your payload data is missing a `requestId`.")
    if "requestType" not in data:
        raise ProtocolError(CloseCode.MISSING_DATA_FIELD, "Your payload's data is missing an `requestType`.")
    if not isinstance(data["requestType"], str):
        raise ProtocolError(CloseCode.INVALID_DATA_FIELD_TYPE, "Your `requestType` is not a string.")


def check_batch(data: dict[str, Any]) -> tuple[BatchExecution, bool, list[Any]]:
    if "requestId" not in data:
        raise ProtocolError(CloseCode.MISSING_DATA_FIELD, "Your payload data is missing a `requestId`.")
    execution = BatchExecution.SERIAL_REALTIME
    value = data.get("executionType")
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ProtocolError(CloseCode.INVALID_DATA_FIELD_TYPE, "Your `executionType` is not a number.")
        if value not in (0, 1, 2):
            raise ProtocolError(CloseCode.INVALID_DATA_FIELD_VALUE, "Your `executionType` has an invalid value.")
        execution = BatchExecution(value)
    halt = data.get("haltOnFailure")
    if halt is not None and not isinstance(halt, bool):
        raise ProtocolError(CloseCode.INVALID_DATA_FIELD_TYPE, "Your `haltOnFailure` is not a boolean.")
    if "requests" not in data:
        raise ProtocolError(CloseCode.MISSING_DATA_FIELD, "Your payload data is missing a `requests`.")
    requests = data["requests"]
    if not isinstance(requests, list):
        raise ProtocolError(CloseCode.INVALID_DATA_FIELD_TYPE, "Your `requests` is not an array.")
    if len(requests) > MAX_BATCH:
        raise ProtocolError(CloseCode.INVALID_DATA_FIELD_VALUE, f"A batch may hold at most {MAX_BATCH} requests.")
    return execution, bool(halt), requests


async def run_batch(ctx: ControlContext, session: Session, execution: BatchExecution, halt: bool,
                    requests: list[Any], allow: Any) -> list[dict[str, Any]]:
    """Results in order; ``allow()`` is the session's rate limit, one token per request."""
    items = [r if isinstance(r, dict) else {} for r in requests]

    async def one(item: dict[str, Any]) -> dict[str, Any]:
        if not allow():
            return response(item.get("requestType"), item.get("requestId"), RequestStatus.NOT_READY,
                            "rate limited: too many requests, retry later", None)
        status, comment, data = await run_request(ctx, session, item.get("requestType"), item.get("requestData"),
                                                  execution)
        return response(item.get("requestType"), item.get("requestId"), status, comment, data)

    if execution is BatchExecution.PARALLEL:
        return list(await asyncio.gather(*(one(i) for i in items)))
    results = []
    for item in items:
        result = await one(item)
        results.append(result)
        if halt and not result["requestStatus"]["result"]:
            break
    return results
