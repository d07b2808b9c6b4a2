"""Typed interaction messages: what viewers send (via any source) and what the host sends back.

Every message is a frozen dataclass with a unique ``id`` and a ``received_at`` wall-clock stamp
(seconds since the epoch, set where the message entered the studio or the hub). Viewer messages
carry ``user`` (a stable id used for votes, rate limits and blocking: a signed viewer identity on
the hub, never a connection), ``nick`` (display name, empty means "same as user"), ``sent_at`` (the
sender's own clock, opaque, used by the bench) and ``address`` (a keyed hash of the sender's IP).

``platform`` says where the viewer is: ``hub`` (our own page), ``bilibili``, ``douyin``... For a
platform viewer ``user`` is ``<platform>:<platform user id>`` (see :func:`platform_user`), so votes,
blocks and slow mode key on (platform, platform user id) and two platforms never share a viewer.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import time
from dataclasses import dataclass, field
from typing import ClassVar, Literal

DanmakuMode = Literal["scroll", "top", "bottom"]
DANMAKU_MODES: tuple[str, ...] = ("scroll", "top", "bottom")
HUB_PLATFORM = "hub"
PLATFORM_USER_MAX = 64  # moderation keeps ids up to 64 characters
PollPhase = Literal["open", "closed", "needs_pick"]
POLL_PHASES: tuple[str, ...] = ("open", "closed", "needs_pick")

# ids: a random per-process prefix plus a counter is unique and far cheaper than uuid4 per message
_PREFIX = os.urandom(4).hex()
_COUNTER = itertools.count(1)


def new_id() -> str:
    return f"{_PREFIX}-{next(_COUNTER):x}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Message:
    TYPE: ClassVar[str] = ""
    id: str = field(default_factory=new_id)
    received_at: float = field(default_factory=time.time)


@dataclass(frozen=True, kw_only=True, slots=True)
class ViewerMessage(Message):
    user: str
    nick: str = ""
    sent_at: float | None = None
    address: str = ""  # keyed hash of the sender's IP (hub viewers), for blocks; "" when unknown
    platform: str = HUB_PLATFORM

    @property
    def display_name(self) -> str:
        return self.nick or self.user


@dataclass(frozen=True, kw_only=True, slots=True)
class Danmaku(ViewerMessage):
    TYPE: ClassVar[str] = "danmaku"
    text: str
    colour: str = "#FFFFFF"
    mode: DanmakuMode = "scroll"

    def __post_init__(self) -> None:
        if self.mode not in DANMAKU_MODES:
            raise ValueError(f"danmaku mode {self.mode!r} is not one of {DANMAKU_MODES}")


@dataclass(frozen=True, kw_only=True, slots=True)
class SuperChat(Danmaku):
    """A paid, highlighted comment (Bilibili's SC): a danmaku (moderated, listed, pinnable) with a
    value in yuan that counts with the gifts."""

    TYPE: ClassVar[str] = "super_chat"
    value: float = 0.0

    def __post_init__(self) -> None:
        Danmaku.__post_init__(self)
        if not math.isfinite(self.value) or self.value < 0:
            raise ValueError(f"super chat value must be a finite number >= 0, got {self.value}")


@dataclass(frozen=True, kw_only=True, slots=True)
class Like(ViewerMessage):
    TYPE: ClassVar[str] = "like"
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"like count must be >= 1, got {self.count}")


@dataclass(frozen=True, kw_only=True, slots=True)
class Gift(ViewerMessage):
    TYPE: ClassVar[str] = "gift"
    name: str
    count: int = 1
    value: float = 0.0

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"gift count must be >= 1, got {self.count}")
        if not math.isfinite(self.value) or self.value < 0:
            raise ValueError(f"gift value must be a finite number >= 0, got {self.value}")


@dataclass(frozen=True, kw_only=True, slots=True)
class Enter(ViewerMessage):
    TYPE: ClassVar[str] = "enter"


@dataclass(frozen=True, kw_only=True, slots=True)
class Leave(ViewerMessage):
    """Sent by the hub when a viewer's connection closes (session data: concurrent viewers, retention)."""

    TYPE: ClassVar[str] = "leave"


@dataclass(frozen=True, kw_only=True, slots=True)
class Vote(ViewerMessage):
    TYPE: ClassVar[str] = "vote"
    poll: str
    option: int

    def __post_init__(self) -> None:
        if self.option < 0:
            raise ValueError(f"vote option must be >= 0, got {self.option}")


@dataclass(frozen=True, kw_only=True, slots=True)
class ProductClick(ViewerMessage):
    TYPE: ClassVar[str] = "product_click"
    product: str


@dataclass(frozen=True, kw_only=True, slots=True)
class GuestRequest(ViewerMessage):
    """A viewer asks to join the show as a co-host (申请连麦); the studio queues it for the host
    (``studio.services.guests``), keyed on ``user``, the signed viewer identity."""

    TYPE: ClassVar[str] = "guest_request"


# ---- host -> viewers ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Announcement(Message):
    TYPE: ClassVar[str] = "announcement"
    text: str


@dataclass(frozen=True, kw_only=True, slots=True)
class PollState(Message):
    """What viewers see of a poll: sent by the host on open, on change (throttled) and on close."""

    TYPE: ClassVar[str] = "poll_state"
    poll: str
    question: str
    options: tuple[str, ...]
    counts: tuple[int, ...]
    remaining: float
    state: PollPhase = "open"
    winner: int | None = None

    def __post_init__(self) -> None:
        if len(self.options) != len(self.counts):
            raise ValueError(f"poll_state has {len(self.options)} options but {len(self.counts)} counts")
        if self.state not in POLL_PHASES:
            raise ValueError(f"poll_state state {self.state!r} is not one of {POLL_PHASES}")
        if self.winner is not None and not 0 <= self.winner < len(self.options):
            raise ValueError(f"poll_state winner {self.winner} is not an option index")


@dataclass(frozen=True, kw_only=True, slots=True)
class ProductCard(Message):
    """A rundown product moment starts or ends: the viewer page shows or hides a buy/details button
    whose click is a :class:`ProductClick` for ``product``."""

    TYPE: ClassVar[str] = "product_card"
    product: str  # the catalogue's product id (the card source's name for a card with none)
    moment: str = ""
    state: Literal["show", "hide"] = "show"
    link: str = ""  # the product's page, an http(s) URL (studio.interaction.protocol.safe_link) or ""

    def __post_init__(self) -> None:
        if self.state not in ("show", "hide"):
            raise ValueError(f"product_card state must be show or hide, got {self.state!r}")


@dataclass(frozen=True, kw_only=True, slots=True)
class GuestInvite(Message):
    """The host accepted ``viewer``'s request to join: the invite link (it carries a single-use
    guest token), sent by the hub to that viewer's connections only, never broadcast."""

    TYPE: ClassVar[str] = "guest_invite"
    viewer: str
    url: str


VIEWER_TYPES: dict[str, type[ViewerMessage]] = {
    cls.TYPE: cls for cls in (Danmaku, SuperChat, Like, Gift, Enter, Leave, Vote, ProductClick, GuestRequest)
}


def platform_user(platform: str, user_id: object) -> str:
    """The studio-wide viewer key of a platform user: ``bilibili:12345``; ids too long for the
    moderation list are shortened to a stable hash (the same user always gets the same key)."""
    key = f"{platform}:{user_id}"
    if len(key) <= PLATFORM_USER_MAX:
        return key
    return f"{platform}:#" + hashlib.sha256(str(user_id).encode("utf-8", "surrogatepass")).hexdigest()[:32]
HOST_TYPES: dict[str, type[Message]] = {
    cls.TYPE: cls for cls in (Announcement, PollState, ProductCard, GuestInvite)
}
HostFrame = Announcement | PollState | ProductCard | GuestInvite
