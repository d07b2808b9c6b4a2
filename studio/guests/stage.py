"""The studio side of co-hosting: each accepted guest gets a slot, a decoder, a channel, a return feed.

``GuestStage`` listens to the co-host model (``studio.services.guests.CoHost``): a guest who joins
(the event carries their :class:`GuestLink`) takes the lowest free slot 1-4; the stage attaches a
:class:`GuestChannel` as the link's sink, which routes video packets to the slot's decoder worker
and Opus packets to the guest's mixer channel ("Guest <slot>"), and starts the guest's return feed
(the program mix minus their channel). The channel is heard on the program while the co-host
model says the guest is ``on_air``; ``waiting`` (the green room) and ``muted_by_host`` mute it, and
the dock's mute goes through the model. A guest who leaves, is kicked or drops frees all of it; the
slot's guest sources show a status card on preview, and their fallback (or nothing) on program.

Threads: join/leave run on the ``net`` loop (the model's events) and never wait there; the workers
they retire are joined by ``close``. ``bind_sources`` runs on the ``video-clock`` thread each frame
(a frame hook): every guest source reads its slot's feed.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from scenes.events import Signal
from scenes.sources.base import Source
from scenes.sources.guest import GUEST_SLOTS, GuestFeed, GuestFeedStatus, GuestSource
from studio.audio.mixer import AudioMixer
from studio.guests.audio import GuestAudioInput, ReturnFeed
from studio.guests.video import GuestVideoDecoder
from studio.services.guest_link import GuestEndReason, GuestLink, GuestPacket

log = logging.getLogger(__name__)


class HasSources(Protocol):
    @property
    def sources(self) -> Mapping[str, Source]: ...

    @property
    def frame_hooks(self) -> Signal[tuple[int, int]]: ...


_ENDED = {"left": "the guest left", "kicked": "the guest was kicked", "revoked": "the invite was withdrawn"}


def channel_name(slot: int) -> str:
    """The guest's mixer channel: by slot, never the viewer-chosen name (that is shown as plain text)."""
    return f"Guest {slot}"


@dataclass(frozen=True)
class StageGuest:
    guest_id: str
    name: str
    slot: int
    has_video: bool


class GuestChannel:
    """One guest on the stage: the link's sink, its decoder, mixer input and return feed."""

    def __init__(self, stage: GuestStage, link: GuestLink, feed: GuestFeed, mixer: AudioMixer,
                 muted: bool) -> None:
        self.link = link
        self.guest = StageGuest(link.guest_id, link.display_name, feed.slot, link.has_video)
        self.feed = feed
        self._stage = stage
        self._mixer = mixer
        # the mixer channel first: the one step that can refuse (a name taken), before any thread
        taken = {state.name for state in mixer.inputs}
        name = channel_name(feed.slot)
        self.audio = GuestAudioInput(name if name not in taken else f"{name} (co-host)")
        mixer.add_input(self.audio, muted=muted)
        self.video = (GuestVideoDecoder(feed, link.display_name, link.request_keyframe)
                      if link.has_video else None)
        self.returns = ReturnFeed(feed.slot, link.push_return_audio)
        self._unminus = mixer.add_mix_minus(self.audio.name, self.returns.submit)
        feed.set_status(GuestFeedStatus("live", link.display_name, link.has_video))

    # GuestMediaSink: the net loop; queue and return
    def on_guest_packet(self, packet: GuestPacket) -> None:
        if packet.kind == "video":
            if self.video is not None:
                self.video.submit(packet)
        else:
            self.audio.submit(packet)

    def on_guest_ended(self, reason: GuestEndReason) -> None:
        self._stage.leave(self.guest.guest_id, reason)

    def release(self, reason: GuestEndReason) -> list[Callable[[], None]]:
        """Free the channel; returns the joins still to do (off the net loop)."""
        self.link.detach()
        self._unminus()
        with contextlib.suppress(ValueError):  # already gone
            self._mixer.remove_input(self.audio.name)
        if self.video is not None:
            self.video.stop()  # first: from here on the worker leaves the feed to us
        dropped = reason in ("timeout", "error")
        detail = f"the guest dropped ({reason})" if dropped else _ENDED.get(reason, "the guest left")
        self.feed.set_status(GuestFeedStatus("dropped" if dropped else "waiting", self.guest.name,
                                             self.guest.has_video, detail))
        joins: list[Callable[[], None]] = [self.returns.join]
        self.returns.stop()
        if self.video is not None:
            joins.append(self.video.join)
        return joins


class GuestStage:
    def __init__(self, studio: HasSources, mixer: AudioMixer) -> None:
        self._studio = studio
        self._mixer = mixer
        self.feeds = {slot: GuestFeed(slot) for slot in GUEST_SLOTS}
        self._lock = threading.Lock()
        self._channels: dict[str, GuestChannel] = {}
        self._retired: list[Callable[[], None]] = []
        self.changed: Signal[tuple[StageGuest, ...]] = Signal()
        self._disconnects = [studio.frame_hooks.connect(self.bind_sources)]

    # ---- the co-host model's events (net loop) ------------------------------------------------

    def bind_cohost(self, cohost: object) -> None:
        """Follow ``studio.services.guests.CoHost`` (or its book): joins, leaves, host mutes."""
        self._disconnects += [
            # a guest joins in the green room ("waiting"): heard on air once the host puts them on
            cohost.guest_joined.connect(lambda e: self.join(e.link, muted=True)),  # type: ignore[attr-defined]
            cohost.guest_left.connect(lambda e: self.leave(e.guest.guest_id, e.reason)),  # type: ignore[attr-defined]
            cohost.guests_changed.connect(self._follow_states),  # type: ignore[attr-defined]
        ]

    def _follow_states(self, guests: tuple[object, ...]) -> None:
        for guest in guests:
            gid, state = getattr(guest, "guest_id", None), getattr(guest, "state", None)
            if isinstance(gid, str) and state in ("on_air", "waiting", "muted_by_host"):
                self.set_muted(gid, state != "on_air")

    def join(self, link: GuestLink, muted: bool = False) -> int | None:
        """Put a guest on a free slot (their channel ``muted`` to start with); None when all slots
        are taken (the relay admits at most 4)."""
        with self._lock:
            if link.guest_id in self._channels:
                return self._channels[link.guest_id].guest.slot
            taken = {c.guest.slot for c in self._channels.values()}
            free = [s for s in GUEST_SLOTS if s not in taken]
            if not free:
                log.warning("co-host: no free guest slot for a fifth guest")
                return None
            channel = GuestChannel(self, link, self.feeds[free[0]], self._mixer, muted)
            self._channels[link.guest_id] = channel
        link.attach(channel)
        link.request_keyframe()  # a new decoder starts at a keyframe
        self._emit()
        return channel.guest.slot

    def leave(self, guest_id: str, reason: GuestEndReason = "left") -> None:
        """The guest is gone: free their slot's decoder, channel and return feed. Idempotent."""
        with self._lock:
            channel = self._channels.pop(guest_id, None)
        if channel is None:
            return
        joins = channel.release(reason)
        with self._lock:
            self._retired += joins
        self._emit()

    def set_muted(self, guest_id: str, muted: bool) -> None:
        with self._lock:
            channel = self._channels.get(guest_id)
        if channel is not None:
            with contextlib.suppress(ValueError):  # left meanwhile
                self._mixer.set_muted(channel.audio.name, muted)

    def guests(self) -> tuple[StageGuest, ...]:
        with self._lock:
            return tuple(sorted((c.guest for c in self._channels.values()), key=lambda g: g.slot))

    def channel(self, guest_id: str) -> GuestChannel | None:
        with self._lock:
            return self._channels.get(guest_id)

    def _emit(self) -> None:
        self.changed.emit(self.guests())

    # ---- clock thread ---------------------------------------------------------------------------

    def bind_sources(self, _frame: tuple[int, int] | None = None) -> None:
        for source in self._studio.sources.values():
            if isinstance(source, GuestSource):
                source.bind(self.feeds.get(source.slot))

    # ---- shutdown -------------------------------------------------------------------------------

    def close(self) -> None:
        for disconnect in self._disconnects:
            disconnect()
        self._disconnects.clear()
        with self._lock:
            ids = list(self._channels)
        for guest_id in ids:
            self.leave(guest_id, "left")
        with self._lock:
            retired, self._retired = self._retired, []
        for join in retired:
            join()
