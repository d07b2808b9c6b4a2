"""Bilibili live commands (the JSON in operation-5 packets) turned into the studio's typed messages.

Web stream (``/sub``): DANMU_MSG, SEND_GIFT, SUPER_CHAT_MESSAGE, GUARD_BUY, LIKE_INFO_V3_CLICK,
LIKE_INFO_V3_UPDATE, INTERACT_WORD, INTERACT_WORD_V2, WATCHED_CHANGE. Open platform:
LIVE_OPEN_PLATFORM_DM, _SEND_GIFT, _LIKE, _SUPER_CHAT, _GUARD (its messages carry ``msg_id``; a
repeat is dropped). Anything else is counted by name and ignored. Fields are read defensively: a
missing or mistyped field gives a default or drops that one message, never the connection.

Prices: gift ``price`` is in 1/1000 yuan (gold coins); super chat ``price``/``rmb`` in yuan.
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from typing import Any

from studio.interaction.messages import Danmaku, Enter, Gift, Like, Message, SuperChat, platform_user
from studio.interaction.platform_text import RecentIds, clean_int, clean_number, clean_text
from studio.interaction.protocol import DEFAULT_LIMITS, Limits

PLATFORM = "bilibili"
MODES = {4: "bottom", 5: "top"}  # everything else scrolls
MAX_UNKNOWN_NAMES = 200  # distinct unknown command names counted (a hostile server cannot grow this)
INTERACT_ENTER = 1  # INTERACT_WORD msg_type: 1 enter, 2 follow, 3 share ...


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _at(seq: list[Any], i: int) -> Any:
    return seq[i] if len(seq) > i else None


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while i < len(data) and shift < 64:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7
    raise ValueError("bad varint")


def protobuf_fields(data: bytes, limit: int = 64) -> dict[int, int | bytes]:
    """The top-level varint and length-delimited fields of a protobuf message (first of each)."""
    out: dict[int, int | bytes] = {}
    i = 0
    while i < len(data) and len(out) < limit:
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
            out.setdefault(number, value)
        elif wire == 2:
            size, i = _varint(data, i)
            if size > len(data) - i:
                raise ValueError("field runs past the message")
            out.setdefault(number, data[i:i + size])
            i += size
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise ValueError(f"wire type {wire}")
    return out


class BilibiliCommands:
    """Parses commands; keeps the room's figures (popularity, watched, likes) and the counters."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS, *, platform: str = PLATFORM) -> None:
        self.limits = limits
        self.platform = platform
        self.unknown: Counter[str] = Counter()
        self.unknown_total = 0
        self.malformed = 0  # known commands whose fields made no sense
        self.duplicates = 0  # open-platform msg_ids seen before
        self.watched: int | None = None  # WATCHED_CHANGE: people who watched
        self.like_total: int | None = None  # LIKE_INFO_V3_UPDATE: the room's like count
        self._seen = RecentIds(50_000)
        self._handlers = {
            "DANMU_MSG": self._danmu, "SEND_GIFT": self._gift, "SUPER_CHAT_MESSAGE": self._super_chat,
            "GUARD_BUY": self._guard, "LIKE_INFO_V3_CLICK": self._like_click,
            "LIKE_INFO_V3_UPDATE": self._like_update, "INTERACT_WORD": self._interact,
            "INTERACT_WORD_V2": self._interact_v2, "WATCHED_CHANGE": self._watched,
            "LIVE_OPEN_PLATFORM_DM": self._open_dm, "LIVE_OPEN_PLATFORM_SEND_GIFT": self._open_gift,
            "LIVE_OPEN_PLATFORM_LIKE": self._open_like, "LIVE_OPEN_PLATFORM_SUPER_CHAT": self._open_super_chat,
            "LIVE_OPEN_PLATFORM_GUARD": self._open_guard,
        }  # fmt: skip

    def parse(self, obj: object) -> list[Message]:
        """The messages in one command object (none for figures-only and unknown commands)."""
        if not isinstance(obj, dict) or not isinstance(obj.get("cmd"), str):
            self.malformed += 1
            return []
        cmd = obj["cmd"].split(":", 1)[0]  # DANMU_MSG:4:0:2:2:2:0 is a DANMU_MSG
        handler = self._handlers.get(cmd)
        if handler is None:
            self.unknown_total += 1
            name = cmd[:40]
            if name in self.unknown or len(self.unknown) < MAX_UNKNOWN_NAMES:
                self.unknown[name] += 1
            return []
        try:
            return handler(obj)
        except (ValueError, TypeError, KeyError, IndexError):
            self.malformed += 1
            return []

    # ---- helpers ----

    def _user(self, uid: object, fallback: object = None) -> str:
        ident = clean_text(uid, 64)
        if not ident or ident == "0":  # anonymous web connections see uid 0: use the user hash
            ident = "h" + clean_text(fallback, 63) if clean_text(fallback, 63) else ""
        if not ident:
            raise ValueError("no user id")
        return platform_user(self.platform, ident)

    def _nick(self, value: object) -> str:
        return clean_text(value, self.limits.user_max)

    def _text(self, value: object) -> str:
        text = clean_text(value, self.limits.text_max)
        if not text:
            raise ValueError("empty text")
        return text

    def _count(self, value: object) -> int:
        return clean_int(value, 1, self.limits.gift_count_max, 1)

    def _new(self, data: dict[str, Any]) -> bool:
        """False for an open-platform message already seen (by msg_id)."""
        msg_id = clean_text(data.get("msg_id"), 80)
        if msg_id and not self._seen.add(msg_id):
            self.duplicates += 1
            return False
        return True

    # ---- web commands ----

    def _danmu(self, obj: dict[str, Any]) -> list[Message]:
        info = _list(obj.get("info"))
        meta, who = _list(_at(info, 0)), _list(_at(info, 2))
        colour = clean_int(_at(meta, 3), 0, 0xFFFFFF, 0xFFFFFF)
        mode = MODES.get(clean_int(_at(meta, 1), 0, 99, 1), "scroll")
        return [Danmaku(
            user=self._user(_at(who, 0), _at(meta, 7)), nick=self._nick(_at(who, 1)), platform=self.platform,
            text=self._text(_at(info, 1)), colour=f"#{colour:06X}", mode=mode,  # type: ignore[arg-type]
        )]  # fmt: skip

    def _gift(self, obj: dict[str, Any]) -> list[Message]:
        d = _dict(obj.get("data"))
        paid = d.get("coin_type", "gold") == "gold"
        value = clean_number(d.get("price"), 0, 1e9) / 1000.0 if paid else 0.0
        return [Gift(
            user=self._user(d.get("uid")), nick=self._nick(d.get("uname")), platform=self.platform,
            name=clean_text(d.get("giftName"), self.limits.name_max) or "gift", count=self._count(d.get("num")),
            value=min(value, self.limits.gift_value_max),
        )]  # fmt: skip

    def _super_chat(self, obj: dict[str, Any]) -> list[Message]:
        d = _dict(obj.get("data"))
        return [SuperChat(
            user=self._user(d.get("uid")), nick=self._nick(_dict(d.get("user_info")).get("uname")),
            platform=self.platform, text=self._text(d.get("message")),
            value=clean_number(d.get("price"), 0, self.limits.gift_value_max),
        )]  # fmt: skip

    def _guard(self, obj: dict[str, Any]) -> list[Message]:
        d = _dict(obj.get("data"))
        return [Gift(
            user=self._user(d.get("uid")), nick=self._nick(d.get("username")), platform=self.platform,
            name=clean_text(d.get("gift_name"), self.limits.name_max) or "guard", count=self._count(d.get("num")),
            value=min(clean_number(d.get("price"), 0, 1e12) / 1000.0, self.limits.gift_value_max),
        )]  # fmt: skip

    def _like_click(self, obj: dict[str, Any]) -> list[Message]:
        d = _dict(obj.get("data"))
        return [Like(user=self._user(d.get("uid")), nick=self._nick(d.get("uname")), platform=self.platform)]

    def _like_update(self, obj: dict[str, Any]) -> list[Message]:
        self.like_total = clean_int(_dict(obj.get("data")).get("click_count"), 0, 10**12, self.like_total or 0)
        return []

    def _interact(self, obj: dict[str, Any]) -> list[Message]:
        d = _dict(obj.get("data"))
        if clean_int(d.get("msg_type"), 0, 99, INTERACT_ENTER) != INTERACT_ENTER:
            return []  # follows and shares: not an entrance
        return [Enter(user=self._user(d.get("uid")), nick=self._nick(d.get("uname")), platform=self.platform)]

    def _interact_v2(self, obj: dict[str, Any]) -> list[Message]:
        # the V2 command carries INTERACT_WORD's fields as base64 protobuf: uid 1, uname 2, msg_type 5
        pb = _dict(obj.get("data")).get("pb")
        if not isinstance(pb, str) or len(pb) > 64 * 1024:
            raise ValueError("no pb")
        try:
            fields = protobuf_fields(base64.b64decode(pb, validate=True))
        except (binascii.Error, ValueError):
            raise ValueError("bad pb") from None
        name = fields.get(2)
        nick = name.decode("utf-8", "replace") if isinstance(name, bytes) else ""
        msg_type = fields.get(5, INTERACT_ENTER)
        return self._interact({"data": {"uid": fields.get(1), "uname": nick, "msg_type": msg_type}})

    def _watched(self, obj: dict[str, Any]) -> list[Message]:
        self.watched = clean_int(_dict(obj.get("data")).get("num"), 0, 10**12, self.watched or 0)
        return []

    # ---- open platform ----

    def _open_data(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        d = _dict(obj.get("data"))
        return d if self._new(d) else None

    def _open_dm(self, obj: dict[str, Any]) -> list[Message]:
        d = self._open_data(obj)
        if d is None:
            return []
        return [Danmaku(user=self._user(d.get("open_id") or d.get("uid")), nick=self._nick(d.get("uname")),
                        platform=self.platform, text=self._text(d.get("msg")))]

    def _open_gift(self, obj: dict[str, Any]) -> list[Message]:
        d = self._open_data(obj)
        if d is None:
            return []
        value = clean_number(d.get("price"), 0, 1e9) / 1000.0 if d.get("paid", True) else 0.0
        return [Gift(
            user=self._user(d.get("open_id") or d.get("uid")), nick=self._nick(d.get("uname")),
            platform=self.platform, name=clean_text(d.get("gift_name"), self.limits.name_max) or "gift",
            count=self._count(d.get("gift_num")), value=min(value, self.limits.gift_value_max),
        )]  # fmt: skip

    def _open_like(self, obj: dict[str, Any]) -> list[Message]:
        d = self._open_data(obj)
        if d is None:
            return []
        return [Like(user=self._user(d.get("open_id") or d.get("uid")), nick=self._nick(d.get("uname")),
                     platform=self.platform, count=clean_int(d.get("like_count"), 1, self.limits.like_max, 1))]

    def _open_super_chat(self, obj: dict[str, Any]) -> list[Message]:
        d = self._open_data(obj)
        if d is None:
            return []
        return [SuperChat(
            user=self._user(d.get("open_id") or d.get("uid")), nick=self._nick(d.get("uname")),
            platform=self.platform, text=self._text(d.get("message")),
            value=clean_number(d.get("rmb"), 0, self.limits.gift_value_max),
        )]  # fmt: skip

    def _open_guard(self, obj: dict[str, Any]) -> list[Message]:
        d = self._open_data(obj)
        if d is None:
            return []
        who = _dict(d.get("user_info"))
        return [Gift(
            user=self._user(who.get("open_id") or who.get("uid")), nick=self._nick(who.get("uname")),
            platform=self.platform, name=f"guard{clean_int(d.get('guard_level'), 0, 9, 3)}",
            count=self._count(d.get("guard_num")),
            value=min(clean_number(d.get("price"), 0, 1e12) / 1000.0, self.limits.gift_value_max),
        )]  # fmt: skip
