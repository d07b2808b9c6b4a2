"""obs-websocket v5 wire protocol: op codes, close codes, request status codes, event subscription
bits, and (de)serialisation of messages as JSON (text frames) or MessagePack (binary frames).

Numbers and names follow obs-websocket's generated protocol reference (rpcVersion 1).
"""

from __future__ import annotations

import json
from enum import IntEnum, IntFlag
from typing import Any

import msgpack

RPC_VERSION = 1
OBS_STUDIO_VERSION = "30.2.0"  # the OBS level whose requests we mirror; tools gate features on it
OBS_WEBSOCKET_VERSION = "5.5.0"
SUBPROTOCOL_JSON = "obswebsocket.json"
SUBPROTOCOL_MSGPACK = "obswebsocket.msgpack"
SUBPROTOCOLS = (SUBPROTOCOL_JSON, SUBPROTOCOL_MSGPACK)


class OpCode(IntEnum):
    HELLO = 0
    IDENTIFY = 1
    IDENTIFIED = 2
    REIDENTIFY = 3
    EVENT = 5
    REQUEST = 6
    REQUEST_RESPONSE = 7
    REQUEST_BATCH = 8
    REQUEST_BATCH_RESPONSE = 9


CLIENT_OPS = frozenset({OpCode.IDENTIFY, OpCode.REIDENTIFY, OpCode.REQUEST, OpCode.REQUEST_BATCH})


class CloseCode(IntEnum):
    UNKNOWN_REASON = 4000
    MESSAGE_DECODE_ERROR = 4002
    MISSING_DATA_FIELD = 4003
    INVALID_DATA_FIELD_TYPE = 4004
    INVALID_DATA_FIELD_VALUE = 4005
    UNKNOWN_OP_CODE = 4006
    NOT_IDENTIFIED = 4007
    ALREADY_IDENTIFIED = 4008
    AUTHENTICATION_FAILED = 4009
    UNSUPPORTED_RPC_VERSION = 4010
    SESSION_INVALIDATED = 4011
    UNSUPPORTED_FEATURE = 4012


class RequestStatus(IntEnum):
    SUCCESS = 100
    MISSING_REQUEST_TYPE = 203
    UNKNOWN_REQUEST_TYPE = 204
    GENERIC_ERROR = 205
    UNSUPPORTED_REQUEST_BATCH_EXECUTION_TYPE = 206
    NOT_READY = 207
    MISSING_REQUEST_FIELD = 300
    MISSING_REQUEST_DATA = 301
    INVALID_REQUEST_FIELD = 400
    INVALID_REQUEST_FIELD_TYPE = 401
    REQUEST_FIELD_OUT_OF_RANGE = 402
    REQUEST_FIELD_EMPTY = 403
    TOO_MANY_REQUEST_FIELDS = 404
    OUTPUT_RUNNING = 500
    OUTPUT_NOT_RUNNING = 501
    OUTPUT_PAUSED = 502
    OUTPUT_NOT_PAUSED = 503
    OUTPUT_DISABLED = 504
    STUDIO_MODE_ACTIVE = 505
    STUDIO_MODE_NOT_ACTIVE = 506
    RESOURCE_NOT_FOUND = 600
    RESOURCE_ALREADY_EXISTS = 601
    INVALID_RESOURCE_TYPE = 602
    NOT_ENOUGH_RESOURCES = 603
    INVALID_RESOURCE_STATE = 604
    INVALID_INPUT_KIND = 605
    RESOURCE_NOT_CONFIGURABLE = 606
    RESOURCE_CREATION_FAILED = 700
    RESOURCE_ACTION_FAILED = 701
    REQUEST_PROCESSING_FAILED = 702
    CANNOT_ACT = 703


class EventSubscription(IntFlag):
    NONE = 0
    GENERAL = 1 << 0
    CONFIG = 1 << 1
    SCENES = 1 << 2
    INPUTS = 1 << 3
    TRANSITIONS = 1 << 4
    FILTERS = 1 << 5
    OUTPUTS = 1 << 6
    SCENE_ITEMS = 1 << 7
    MEDIA_INPUTS = 1 << 8
    VENDORS = 1 << 9
    UI = 1 << 10
    CANVASES = 1 << 11
    ALL = (GENERAL | CONFIG | SCENES | INPUTS | TRANSITIONS | FILTERS | OUTPUTS | SCENE_ITEMS
           | MEDIA_INPUTS | VENDORS | UI | CANVASES)
    # high volume: only for sessions that ask for them by bit
    INPUT_VOLUME_METERS = 1 << 16
    INPUT_ACTIVE_STATE_CHANGED = 1 << 17
    INPUT_SHOW_STATE_CHANGED = 1 << 18
    SCENE_ITEM_TRANSFORM_CHANGED = 1 << 19


class BatchExecution(IntEnum):
    NONE = -1
    SERIAL_REALTIME = 0
    SERIAL_FRAME = 1
    PARALLEL = 2


class OutputState:
    """ObsOutputState strings carried by StreamStateChanged / RecordStateChanged."""

    UNKNOWN = "OBS_WEBSOCKET_OUTPUT_UNKNOWN"
    STARTING = "OBS_WEBSOCKET_OUTPUT_STARTING"
    STARTED = "OBS_WEBSOCKET_OUTPUT_STARTED"
    STOPPING = "OBS_WEBSOCKET_OUTPUT_STOPPING"
    STOPPED = "OBS_WEBSOCKET_OUTPUT_STOPPED"
    RECONNECTING = "OBS_WEBSOCKET_OUTPUT_RECONNECTING"
    RECONNECTED = "OBS_WEBSOCKET_OUTPUT_RECONNECTED"
    PAUSED = "OBS_WEBSOCKET_OUTPUT_PAUSED"
    RESUMED = "OBS_WEBSOCKET_OUTPUT_RESUMED"


class ProtocolError(Exception):
    """The session must be closed with ``code`` (a WebSocketCloseCode) and ``reason``."""

    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason[:120]  # a close frame's reason must fit 123 bytes of UTF-8


class RequestError(Exception):
    """A request failed with a RequestStatus; ``comment`` tells the client why."""

    def __init__(self, status: RequestStatus, comment: str = "") -> None:
        super().__init__(comment or status.name)
        self.status = status
        self.comment = comment


# ---- (de)serialisation ---------------------------------------------------------------------------

class Codec:
    """One subprotocol's encoding. JSON travels in text frames, MessagePack in binary ones."""

    def __init__(self, subprotocol: str) -> None:
        if subprotocol not in SUBPROTOCOLS:
            raise ValueError(f"unknown subprotocol {subprotocol!r}")
        self.subprotocol = subprotocol
        self.binary = subprotocol == SUBPROTOCOL_MSGPACK

    def encode(self, message: dict[str, Any]) -> str | bytes:
        if self.binary:
            return msgpack.packb(message, use_bin_type=True)  # type: ignore[no-any-return]
        return json.dumps(message, ensure_ascii=False, separators=(",", ":"))

    def decode(self, frame: str | bytes) -> dict[str, Any]:
        """A message object ``{"op": int, "d": {...}}``, or ProtocolError with the close code."""
        if isinstance(frame, bytes) != self.binary:
            kind = "binary" if isinstance(frame, bytes) else "text"
            raise ProtocolError(CloseCode.MESSAGE_DECODE_ERROR, f"{kind} frame on {self.subprotocol}")
        try:
            if self.binary:
                message = msgpack.unpackb(frame, raw=False, strict_map_key=True)
            else:
                message = json.loads(frame)
        except (ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError,
                RecursionError):
            raise ProtocolError(CloseCode.MESSAGE_DECODE_ERROR, "the message could not be decoded") from None
        if not isinstance(message, dict):
            raise ProtocolError(CloseCode.MESSAGE_DECODE_ERROR, "a message must be an object")
        return message


def split_message(message: dict[str, Any]) -> tuple[OpCode, dict[str, Any]]:
    """``op`` and ``d`` of a client message, checked as obs-websocket checks them."""
    op = message.get("op")
    if isinstance(op, bool) or not isinstance(op, int):
        raise ProtocolError(CloseCode.UNKNOWN_OP_CODE, "missing or invalid op")
    if op not in CLIENT_OPS:
        raise ProtocolError(CloseCode.UNKNOWN_OP_CODE, f"unknown op {op}")
    if "d" not in message:
        raise ProtocolError(CloseCode.MISSING_DATA_FIELD, "missing d")
    data = message["d"]
    if not isinstance(data, dict):
        raise ProtocolError(CloseCode.INVALID_DATA_FIELD_TYPE, "d must be an object")
    return OpCode(op), data


def envelope(op: OpCode, data: dict[str, Any]) -> dict[str, Any]:
    return {"op": int(op), "d": data}


def request_status(status: RequestStatus, comment: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"result": status is RequestStatus.SUCCESS, "code": int(status)}
    if comment:
        out["comment"] = comment
    return out


def event_message(event_type: str, intent: EventSubscription, data: dict[str, Any] | None) -> dict[str, Any]:
    d: dict[str, Any] = {"eventType": event_type, "eventIntent": int(intent)}
    if data is not None:
        d["eventData"] = data
    return envelope(OpCode.EVENT, d)


def choose_subprotocol(offered: list[str] | tuple[str, ...]) -> str | None:
    """The first offered subprotocol we speak; None (JSON, no header) when none is offered."""
    for name in offered:
        if name in SUBPROTOCOLS:
            return name
    return None
