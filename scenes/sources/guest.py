"""A co-host guest's camera (issue 15): guest slot 1-4, fed by the studio's guest runtime.

The source only reads. ``studio.guests`` owns one :class:`GuestFeed` per slot; the guest's decoder
worker (``guest-video:<slot>``) decodes, scales the picture to the size the feed asks for and
writes it to the feed's latest-frame slot, and sets the feed's state (waiting / live / dropped).
The engine binds every guest source to its slot's feed on the clock thread (``bind``), so a guest
source created, replaced or renamed while the show runs is followed without any wiring here.

What shows where (``Source.frame_for``): the guest's picture while live; otherwise a status card
("GUEST 2 / waiting for a guest", "... dropped") on the operator's views only, and on the program
the source's fallback image or nothing: a guest's trouble never reaches the audience.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Literal

from scenes.frame import VideoFrame
from scenes.properties import PropertyKind, PropertySpec
from scenes.registry import SourceFlags, SourceType, register
from scenes.slots import LatestSlot
from scenes.sources.base import Source, StatusNotice
from scenes.sources.fallback import FALLBACK_IMAGE, FallbackImage, fit

GUEST_SLOTS = (1, 2, 3, 4)
GuestFeedState = Literal["waiting", "live", "dropped"]


@dataclass(frozen=True)
class GuestFeedStatus:
    """What the feed's slot holds now: ``name`` is viewer-chosen text (plain text only)."""

    state: GuestFeedState = "waiting"
    name: str = ""
    has_video: bool = True
    detail: str = ""


class GuestFeed:
    """One guest slot's hand-over: the decoder worker writes, the clock reads. Thread-safe."""

    def __init__(self, slot: int, size: tuple[int, int] = (1280, 720)) -> None:
        if slot not in GUEST_SLOTS:
            raise ValueError(f"guest slot must be 1..{len(GUEST_SLOTS)}, got {slot!r}")
        self.slot = slot
        self.frames: LatestSlot[VideoFrame] = LatestSlot()
        self._status = GuestFeedStatus()
        self._size = size
        self._changed = threading.Condition(threading.Lock())

    @property
    def status(self) -> GuestFeedStatus:
        return self._status  # one attribute read: atomic, never torn

    def set_status(self, status: GuestFeedStatus) -> None:
        with self._changed:
            self._status = status
            if status.state != "live" or not status.has_video:
                self.frames.clear()  # a stale picture must not come back with the next guest
            self._changed.notify_all()

    def wait_state(self, state: GuestFeedState, timeout_s: float) -> bool:
        """For tests and tools, never the clock: block until the feed is in ``state``."""
        with self._changed:
            return self._changed.wait_for(lambda: self._status.state == state, timeout_s)

    @property
    def size(self) -> tuple[int, int]:
        """The size the decoder scales the guest's picture to (the bound source's size)."""
        return self._size

    def request_size(self, size: tuple[int, int]) -> None:
        self._size = size


class GuestSource(Source):
    type_id = "guest"

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__(settings)
        self._fallback = FallbackImage(str(settings.get(FALLBACK_IMAGE.name, "")))
        self._feed: GuestFeed | None = None
        self._refitted: tuple[int, tuple[int, int], VideoFrame] | None = None

    @property
    def slot(self) -> int:
        return int(self.settings["slot"])

    def update(self, settings: dict[str, Any]) -> None:
        super().update(settings)
        self._fallback.set_path(str(settings.get(FALLBACK_IMAGE.name, "")))
        if self._feed is not None and self._feed.slot != self.slot:
            self._feed = None  # the engine binds the new slot's feed before the next tick
        elif self._feed is not None:
            self._feed.request_size(self.size)

    def bind(self, feed: GuestFeed | None) -> None:
        """Clock thread: read from ``feed`` (the engine's feed for this source's slot)."""
        if feed is not self._feed:
            self._feed = feed
            if feed is not None:
                feed.request_size(self.size)

    @property
    def feed(self) -> GuestFeed | None:
        return self._feed

    def frame(self) -> VideoFrame | None:
        feed = self._feed
        if feed is None or feed.status.state != "live":
            return None
        picture = feed.frames.get()
        if picture is None or (picture.width, picture.height) == self.size:
            return picture
        # scaled for an earlier size (a layout just resized the source): fit it here, once per
        # picture, until the worker's next frame comes at the new size
        cached = self._refitted
        if cached is None or cached[0] != picture.serial or cached[1] != self.size:
            cached = (picture.serial, self.size, fit(picture, self.size))
            self._refitted = cached
        return cached[2]

    def status(self) -> StatusNotice | None:
        title = f"GUEST {self.slot}"
        feed = self._feed
        if feed is None:
            return StatusNotice(title, "co-hosting is not running")
        status = feed.status
        if status.state == "waiting":
            return StatusNotice(title, status.detail or "waiting for a guest")
        if status.state == "dropped":
            return StatusNotice(title, status.detail or "the guest dropped")
        if not status.has_video:
            return StatusNotice(title, "audio only (no camera)")
        if self.frame() is None:
            return StatusNotice(title, "waiting for the guest's picture")
        return None

    def fallback_frame(self) -> VideoFrame | None:
        return self._fallback.frame(self.size)

    @property
    def size(self) -> tuple[int, int]:
        return int(self.settings["width"]), int(self.settings["height"])

    def close(self) -> None:
        self._feed = None
        self._fallback.close()


GUEST = register(
    SourceType(
        id="guest",
        version=1,
        name="Co-host guest",
        flags=SourceFlags.VIDEO | SourceFlags.AUDIO | SourceFlags.INTERACTIVE,
        properties=(
            PropertySpec("slot", PropertyKind.INT, 1, "Guest slot", 1, len(GUEST_SLOTS)),
            PropertySpec("width", PropertyKind.INT, 1280, "Width", 16, 4096),
            PropertySpec("height", PropertyKind.INT, 720, "Height", 16, 4096),
            FALLBACK_IMAGE,
        ),
        factory=GuestSource,
    )
)
