"""The interaction wire protocol: JSON text frames, strictly validated (see docs/interaction-protocol.md).

Nothing here trusts its input: every field is type-checked, length-capped and checked for unknown
keys; anything wrong raises :class:`ProtocolError` carrying a stable error ``code`` that the hub
sends back in an error frame and counts in its stats.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from studio.interaction.messages import (
    DANMAKU_MODES,
    HOST_TYPES,
    HUB_PLATFORM,
    PLATFORM_USER_MAX,
    POLL_PHASES,
    VIEWER_TYPES,
    Announcement,
    GuestInvite,
    HostFrame,
    Message,
    PollState,
    ProductCard,
    ViewerMessage,
    new_id,
)

ERROR_CODES: tuple[str, ...] = (
    "bad_json",  # not JSON
    "bad_frame",  # JSON but not an object with a string "type", or a binary frame
    "unknown_type",  # "type" names no frame this protocol knows
    "forbidden",  # a known type this role may not send (e.g. a viewer sending "announcement")
    "bad_field",  # missing, unknown or mistyped field
    "too_long",  # a text field over its cap
    "too_large",  # the whole frame over the frame cap
    "rate_limited",  # over the per-viewer token bucket
    "invalid_utf8",  # text frame that is not UTF-8 (the connection is closed by websockets)
    "internal",  # a bug in the hub; the frame is dropped and the hub keeps serving
)

# control characters, lone surrogates (unencodable) and bidi overrides (overlay spoofing)
_BAD_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
_COMMON = frozenset({"type", "ref", "ts"})
MAX_POLL_OPTIONS = 5


class ProtocolError(ValueError):
    """A frame broke the protocol; ``code`` is one of :data:`ERROR_CODES`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Limits:
    """Caps on what a frame may carry (characters for text, bytes for the whole frame)."""

    text_max: int = 100
    user_max: int = 32
    name_max: int = 32
    ident_max: int = 64
    announcement_max: int = 200
    question_max: int = 120
    option_max: int = 40
    like_max: int = 100
    gift_count_max: int = 9999
    gift_value_max: float = 1e7
    frame_max: int = 4096

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"Limits.{f.name} must be a positive number, got {value!r}")

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class ClientFrame:
    """A validated viewer frame before the hub attaches who sent it."""

    type: str
    fields: dict[str, Any]
    ref: str | None = None
    ts: float | None = None


# ---- decoding -------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ProtocolError("bad_json", f"{name} is not valid JSON")


# built once: json.loads/dumps with options build a new decoder/encoder on every call
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def decode_frame(raw: str | bytes, limits: Limits = DEFAULT_LIMITS, *, allow_binary: bool = False) -> dict[str, Any]:
    """Size-check and parse one frame into a JSON object with a string ``type``."""
    if isinstance(raw, bytes | bytearray | memoryview):
        if not allow_binary:
            raise ProtocolError("bad_frame", "binary frames are not accepted: send UTF-8 JSON text")
        data = bytes(raw)
        if len(data) > limits.frame_max:
            raise ProtocolError("too_large", f"frame of {len(data)} bytes is over {limits.frame_max} bytes")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("invalid_utf8", f"frame is not UTF-8: {exc.reason}") from None
    elif isinstance(raw, str):
        text = raw
        if len(text) > limits.frame_max or (
            len(text) * 4 > limits.frame_max and len(text.encode("utf-8", "surrogatepass")) > limits.frame_max
        ):
            raise ProtocolError("too_large", f"frame is over {limits.frame_max} bytes")
    else:
        raise ProtocolError("bad_frame", f"frame must be text, got {type(raw).__name__}")
    try:
        obj = _DECODER.decode(text)
    except ProtocolError:
        raise
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("bad_json", f"frame is not valid JSON: {str(exc)[:80]}") from None
    if not isinstance(obj, dict):
        raise ProtocolError("bad_frame", f"frame must be a JSON object, got {type(obj).__name__}")
    kind = obj.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("bad_frame", 'frame needs a string "type"')
    return obj


# ---- field checks ---------------------------------------------------------------------------


def _where(obj: dict[str, Any], key: str) -> str:
    return f"{str(obj.get('type'))[:20]}.{key}"


def _text(obj: dict[str, Any], key: str, max_len: int, *, default: str | None = None) -> str:
    value = obj.get(key, default)
    if value is None:
        raise ProtocolError("bad_field", f"{_where(obj, key)} is required")
    if not isinstance(value, str):
        raise ProtocolError("bad_field", f"{_where(obj, key)} must be a string")
    if len(value) > max_len:
        raise ProtocolError("too_long", f"{_where(obj, key)} is longer than {max_len} characters")
    if _BAD_CHARS.search(value):
        raise ProtocolError("bad_field", f"{_where(obj, key)} contains control or unpaired characters")
    if not value.strip():
        raise ProtocolError("bad_field", f"{_where(obj, key)} must not be empty")
    return value


def _opt_text(obj: dict[str, Any], key: str, max_len: int) -> str:
    value = obj.get(key)
    if value is None or value == "":
        return ""
    return _text(obj, key, max_len)


def _int(obj: dict[str, Any], key: str, lo: int, hi: int, *, default: int | None = None) -> int:
    value = obj.get(key, default)
    if value is None:
        raise ProtocolError("bad_field", f"{_where(obj, key)} is required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError("bad_field", f"{_where(obj, key)} must be an integer")
    if not lo <= value <= hi:
        raise ProtocolError("bad_field", f"{_where(obj, key)} must be between {lo} and {hi}")
    return value


def _num(obj: dict[str, Any], key: str, lo: float, hi: float, *, default: float | None = None) -> float:
    value = obj.get(key, default)
    if value is None:
        raise ProtocolError("bad_field", f"{_where(obj, key)} is required")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProtocolError("bad_field", f"{_where(obj, key)} must be a number")
    if not math.isfinite(value) or not lo <= value <= hi:
        raise ProtocolError("bad_field", f"{_where(obj, key)} must be between {lo} and {hi}")
    return float(value)


def _opt_num(obj: dict[str, Any], key: str) -> float | None:
    if obj.get(key) is None:
        return None
    return _num(obj, key, -1e15, 1e15)


def _colour(obj: dict[str, Any]) -> str:
    value = obj.get("colour", "#FFFFFF")
    if not isinstance(value, str) or not _COLOUR.fullmatch(value):
        raise ProtocolError("bad_field", f'{_where(obj, "colour")} must be "#RRGGBB"')
    return value.upper()


def _mode(obj: dict[str, Any]) -> str:
    value = obj.get("mode", "scroll")
    if value not in DANMAKU_MODES:
        raise ProtocolError("bad_field", f"{_where(obj, 'mode')} must be one of {', '.join(DANMAKU_MODES)}")
    return str(value)


def _only(obj: dict[str, Any], allowed: frozenset[str]) -> None:
    extra = obj.keys() - allowed
    if extra:
        names = ", ".join(sorted(str(k)[:20] for k in extra)[:3])
        raise ProtocolError("bad_field", f"{str(obj.get('type'))[:20]} has unknown field(s): {names}")


# ---- per-type payloads (the fields a viewer chooses) ----------------------------------------

Payload = Callable[[dict[str, Any], Limits], dict[str, Any]]


def _danmaku(obj: dict[str, Any], lim: Limits) -> dict[str, Any]:
    return {"text": _text(obj, "text", lim.text_max), "colour": _colour(obj), "mode": _mode(obj)}


def _super_chat(obj: dict[str, Any], lim: Limits) -> dict[str, Any]:
    return {**_danmaku(obj, lim), "value": _num(obj, "value", 0.0, lim.gift_value_max, default=0.0)}


def _like(obj: dict[str, Any], lim: Limits) -> dict[str, Any]:
    return {"count": _int(obj, "count", 1, lim.like_max, default=1)}


def _gift(obj: dict[str, Any], lim: Limits) -> dict[str, Any]:
    return {
        "name": _text(obj, "name", lim.name_max),
        "count": _int(obj, "count", 1, lim.gift_count_max, default=1),
        "value": _num(obj, "value", 0.0, lim.gift_value_max, default=0.0),
    }


def _vote(obj: dict[str, Any], lim: Limits) -> dict[str, Any]:
    return {"poll": _text(obj, "poll", lim.ident_max), "option": _int(obj, "option", 0, MAX_POLL_OPTIONS - 1)}


def _product_click(obj: dict[str, Any], lim: Limits) -> dict[str, Any]:
    return {"product": _text(obj, "product", lim.ident_max)}


def _enter(obj: dict[str, Any], lim: Limits) -> dict[str, Any]:
    return {}


_PAYLOADS: dict[str, tuple[Payload, frozenset[str]]] = {
    "danmaku": (_danmaku, frozenset({"text", "colour", "mode"})),
    "super_chat": (_super_chat, frozenset({"text", "colour", "mode", "value"})),  # platforms only
    "like": (_like, frozenset({"count"})),
    "gift": (_gift, frozenset({"name", "count", "value"})),
    "vote": (_vote, frozenset({"poll", "option"})),
    "product_click": (_product_click, frozenset({"product"})),
    "guest_request": (_enter, frozenset()),  # ask to join as a co-host: no fields
    "enter": (_enter, frozenset()),
    "leave": (_enter, frozenset()),  # hub-sent, like enter
}
VIEWER_SENDABLE: frozenset[str] = frozenset({"danmaku", "like", "vote", "product_click", "guest_request"})
_CONTROL = frozenset({"ping"})
_KNOWN = frozenset(_PAYLOADS) | frozenset(HOST_TYPES) | _CONTROL


def parse_viewer_frame(
    obj: dict[str, Any], limits: Limits = DEFAULT_LIMITS, allowed: frozenset[str] = VIEWER_SENDABLE
) -> ClientFrame:
    """Validate a decoded viewer frame (``decode_frame`` first). ``ping`` is always allowed."""
    kind = obj["type"]
    if kind not in _KNOWN:
        raise ProtocolError("unknown_type", f"unknown frame type {kind[:20]!r}")
    if kind not in allowed and kind not in _CONTROL:
        raise ProtocolError("forbidden", f"viewers may not send {kind!r} frames")
    ref = _text(obj, "ref", limits.ident_max) if obj.get("ref") is not None else None
    ts = _opt_num(obj, "ts")
    if kind == "ping":
        _only(obj, _COMMON)
        return ClientFrame("ping", {}, ref, ts)
    payload, keys = _PAYLOADS[kind]
    _only(obj, _COMMON | keys)
    return ClientFrame(kind, payload(obj, limits), ref, ts)


def build_viewer_message(
    frame: ClientFrame, *, user: str, nick: str = "", id: str | None = None, received_at: float | None = None,
    address: str = "",
) -> ViewerMessage:
    """The typed message for a validated frame, stamped with who sent it and when it arrived."""
    cls = VIEWER_TYPES[frame.type]
    return cls(
        id=id or new_id(),
        received_at=time.time() if received_at is None else received_at,
        user=user,
        nick=nick,
        sent_at=frame.ts,
        address=address,
        **frame.fields,
    )


# ---- full messages (hub -> host, the generic adapter, replay files) --------------------------

_VIEWER_COMMON = frozenset({"type", "id", "received_at", "user", "nick", "sent_at", "address", "platform"})
_PLATFORM = re.compile(r"[a-z][a-z0-9_-]{0,15}")


def _platform(obj: dict[str, Any]) -> str:
    value = obj.get("platform", HUB_PLATFORM)
    if not isinstance(value, str) or not _PLATFORM.fullmatch(value):
        raise ProtocolError("bad_field", f"{_where(obj, 'platform')} must be a short lower-case platform name")
    return value


def _poll_state(obj: dict[str, Any], lim: Limits) -> dict[str, Any]:
    options = obj.get("options")
    if not isinstance(options, list) or not 2 <= len(options) <= MAX_POLL_OPTIONS:
        raise ProtocolError("bad_field", f"poll_state.options must be a list of 2-{MAX_POLL_OPTIONS} strings")
    opts = tuple(_text({"type": "poll_state", "option": o}, "option", lim.option_max) for o in options)
    counts = obj.get("counts")
    if not isinstance(counts, list) or len(counts) != len(opts):
        raise ProtocolError("bad_field", "poll_state.counts must be a list as long as options")
    cnts = tuple(_int({"type": "poll_state", "count": c}, "count", 0, 10**9) for c in counts)
    state = obj.get("state", "open")
    if state not in POLL_PHASES:
        raise ProtocolError("bad_field", f"poll_state.state must be one of {', '.join(POLL_PHASES)}")
    winner = obj.get("winner")
    if winner is not None:
        winner = _int(obj, "winner", 0, len(opts) - 1)
    return {
        "poll": _text(obj, "poll", lim.ident_max),
        "question": _text(obj, "question", lim.question_max),
        "options": opts,
        "counts": cnts,
        "remaining": _num(obj, "remaining", 0.0, 86400.0, default=0.0),
        "state": state,
        "winner": winner,
    }


def _announcement(obj: dict[str, Any], lim: Limits) -> dict[str, Any]:
    return {"text": _text(obj, "text", lim.announcement_max)}


LINK_MAX = 512
# scheme, host (no user:password@), optional port, then only the characters RFC 3986 allows
_LINK = re.compile(r"https?://[A-Za-z0-9.\-]{1,253}(?::[0-9]{1,5})?(?:[/?#][A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*)?")


def safe_link(url: str) -> str:
    """``url`` when it is a plain http(s) link a viewer page may show and open; else "" (no other
    schemes such as javascript:, no credentials, no spaces or control characters)."""
    url = url.strip()
    return url if len(url) <= LINK_MAX and _LINK.fullmatch(url) else ""


def _product_card(obj: dict[str, Any], lim: Limits) -> dict[str, Any]:
    state = obj.get("state", "show")
    if state not in ("show", "hide"):
        raise ProtocolError("bad_field", "product_card.state must be show or hide")
    moment = _text(obj, "moment", lim.ident_max) if obj.get("moment") is not None else ""
    link = _opt_text(obj, "link", LINK_MAX)
    if link and not safe_link(link):
        raise ProtocolError("bad_field", "product_card.link must be an http(s) link")
    return {"product": _text(obj, "product", lim.ident_max), "moment": moment, "state": state, "link": link}


# an invite link of the relay's guest page (studio.services.guests.CoHost.invite_url)
_GUEST_URL = re.compile(r"https?://[^\s/?#]{1,255}/guest/[A-Za-z0-9_.\-]{1,64}#invite=[A-Za-z0-9_\-%]{16,128}")
GUEST_URL_MAX = 512


def _guest_invite(obj: dict[str, Any], lim: Limits) -> dict[str, Any]:
    url = _text(obj, "url", GUEST_URL_MAX)
    if not _GUEST_URL.fullmatch(url):
        raise ProtocolError("bad_field", "guest_invite.url must be a guest page link with its invite")
    return {"viewer": _text(obj, "viewer", lim.user_max), "url": url}


_HOST_PAYLOADS: dict[str, tuple[Payload, frozenset[str]]] = {
    "announcement": (_announcement, frozenset({"text"})),
    "product_card": (_product_card, frozenset({"product", "moment", "state", "link"})),
    "guest_invite": (_guest_invite, frozenset({"viewer", "url"})),
    "poll_state": (
        _poll_state,
        frozenset({"poll", "question", "options", "counts", "remaining", "state", "winner"}),
    ),
}


def parse_host_frame(obj: dict[str, Any], limits: Limits = DEFAULT_LIMITS) -> HostFrame:
    """Validate a frame the host sends for viewers (``announcement`` or ``poll_state``)."""
    kind = obj["type"]
    if kind not in _KNOWN:
        raise ProtocolError("unknown_type", f"unknown frame type {kind[:20]!r}")
    if kind not in _HOST_PAYLOADS:
        raise ProtocolError("forbidden", f"the host may not send {kind!r} frames")
    payload, keys = _HOST_PAYLOADS[kind]
    _only(obj, _COMMON | {"id", "received_at"} | keys)
    data = payload(obj, limits)
    if kind == "announcement":
        return Announcement(**_stamp(obj, limits), **data)
    if kind == "product_card":
        return ProductCard(**_stamp(obj, limits), **data)
    if kind == "guest_invite":
        return GuestInvite(**_stamp(obj, limits), **data)
    return PollState(**_stamp(obj, limits), **data)


def _stamp(obj: dict[str, Any], limits: Limits) -> dict[str, Any]:
    ident = _text(obj, "id", limits.ident_max) if obj.get("id") is not None else new_id()
    received = _num(obj, "received_at", 0.0, 1e11) if obj.get("received_at") is not None else time.time()
    return {"id": ident, "received_at": received}


def message_from_wire(obj: dict[str, Any], limits: Limits = DEFAULT_LIMITS) -> Message:
    """A full message as the hub sends it to the host (also the replay and generic-adapter schema)."""
    kind = obj["type"]
    if kind in _HOST_PAYLOADS:
        return parse_host_frame(obj, limits)
    if kind not in _PAYLOADS:
        raise ProtocolError("unknown_type", f"unknown message type {kind[:20]!r}")
    payload, keys = _PAYLOADS[kind]
    _only(obj, _VIEWER_COMMON | keys)
    return VIEWER_TYPES[kind](
        **_stamp(obj, limits),
        user=_text(obj, "user", max(limits.user_max, PLATFORM_USER_MAX) if "platform" in obj else limits.user_max),
        nick=_opt_text(obj, "nick", limits.user_max),
        sent_at=_opt_num(obj, "sent_at"),
        address=_opt_text(obj, "address", limits.ident_max),
        platform=_platform(obj),
        **payload(obj, limits),
    )


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def message_to_wire(message: Message) -> dict[str, Any]:
    """The JSON object for a message (the inverse of :func:`message_from_wire`)."""
    cls = type(message)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(message))
    out: dict[str, Any] = {"type": cls.TYPE}
    for name in names:
        value = getattr(message, name)
        out[name] = list(value) if isinstance(value, tuple) else value
    return out


def encode(obj: dict[str, Any]) -> str:
    return _ENCODER.encode(obj)


def encode_message(message: Message) -> str:
    return encode(message_to_wire(message))


def error_frame(code: str, message: str, ref: str | None = None) -> str:
    out: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if ref is not None:
        out["ref"] = ref
    return encode(out)
