"""Binds the interaction service to the overlay sources living in the engine.

``OverlayBinding(service, studio)`` listens to the service (on its ``net-interaction`` thread) and
forwards, through the overlays' thread-safe methods:

- visible danmaku to every ``danmaku_overlay``, one batch per network read (``push_many``: the
  overlay keeps what it can show and counts the rest for its "+N"); flagged ones — banned words,
  blocked users, slow mode — stay in the dock and never reach the overlay; moderator removals and pins;
- likes totals and gifts to every ``reactions_overlay``;
- poll updates and results, as a :class:`~scenes.sources.poll_overlay.PollView`, to every
  ``poll_overlay``.

Overlays are looked up by type in ``studio.sources`` at each event, so overlays added, replaced
or removed while the show runs are followed without rebinding; the latest likes total and poll view
are re-sent with the next event. The overlays never import ``studio``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar

from scenes.events import Signal
from scenes.sources.base import Source
from scenes.sources.danmaku_overlay import DanmakuOverlaySource
from scenes.sources.poll_overlay import PollOverlaySource, PollView
from scenes.sources.reactions_overlay import ReactionsOverlaySource
from studio.interaction.moderation import DanmakuEvent, DanmakuPinned, DanmakuRemoved
from studio.interaction.polls import PollClosed, PollUpdated
from studio.interaction.service import GiftReceived, InteractionService, LikesUpdated

log = logging.getLogger(__name__)
S = TypeVar("S", bound=Source)


class HasSources(Protocol):
    """What the binding needs from the Studio: its live sources by name."""

    @property
    def sources(self) -> Mapping[str, Source]: ...


def view_from_update(update: PollUpdated, result: PollClosed | None = None) -> PollView:
    """A poll update as the overlay shows it; ``result`` (same poll) supplies the winner."""
    closed = update.state in ("closed", "needs_pick")
    winner = result.winner if result is not None and result.poll == update.poll else None
    return PollView(update.question, update.options, update.counts, update.remaining, closed, winner)


def view_from_result(result: PollClosed) -> PollView:
    return PollView(result.question, result.options, result.counts, 0.0, True, result.winner)


class OverlayBinding:
    def __init__(self, service: InteractionService, studio: HasSources) -> None:
        self._service = service
        self._studio = studio
        self._likes: int | None = None
        self._poll: PollView | None = None
        self._result: PollClosed | None = None
        self._poll_lock = threading.Lock()  # poll events come from the UI and the net thread
        moderator = service.moderator
        self._disconnects: list[Callable[[], None]] = [
            service.danmaku_batch.connect(self._on_danmaku),
            service.likes.connect(self._on_likes),
            service.gifts.connect(self._on_gift),
            service.poll_updated.connect(self._on_poll_updated),
            service.poll_closed.connect(self._on_poll_closed),
            moderator.removed.connect(self._on_removed),
            moderator.pinned_changed.connect(self._on_pinned),
        ]
        self.forwarded = 0  # danmaku handed to at least one overlay
        self.withheld = 0  # flagged danmaku kept off the overlays

    def close(self) -> None:
        for disconnect in self._disconnects:
            disconnect()
        self._disconnects.clear()

    def __enter__(self) -> OverlayBinding:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- finding overlays ----

    def overlays(self, kind: type[S]) -> list[S]:
        """The live sources of ``kind``. The clock thread may add sources meanwhile: retry then."""
        for _ in range(5):
            try:
                return [s for s in list(self._studio.sources.values()) if isinstance(s, kind)]
            except (RuntimeError, KeyError):  # the mapping changed while we read it
                continue
        return []

    def refresh(self) -> None:
        """Send the latest likes total and poll view again (e.g. after an overlay was added)."""
        if self._likes is not None:
            for reactions in self.overlays(ReactionsOverlaySource):
                reactions.set_likes(self._likes)
        for poll in self.overlays(PollOverlaySource):
            poll.set_state(self._poll)

    # ---- service events (net-interaction thread) ----

    def _on_danmaku(self, events: Sequence[DanmakuEvent]) -> None:
        comments = [(e.message.id, e.message.text, e.message.colour, e.message.mode) for e in events if e.visible]
        self.withheld += len(events) - len(comments)
        if not comments:
            return
        targets = self.overlays(DanmakuOverlaySource)
        for overlay in targets:
            for message_id, exc in overlay.push_many(comments):  # e.g. text the overlay cannot show
                log.warning("danmaku %s not shown: %s", message_id, exc)
        if targets:
            self.forwarded += len(comments)

    def _on_removed(self, event: DanmakuRemoved) -> None:
        for overlay in self.overlays(DanmakuOverlaySource):
            overlay.remove(event.id)

    def _on_pinned(self, event: DanmakuPinned) -> None:
        m = event.message
        for overlay in self.overlays(DanmakuOverlaySource):
            if m is None:
                overlay.unpin()
            else:
                try:
                    overlay.pin(m.id, m.text, m.colour)
                except ValueError as exc:
                    log.warning("danmaku %s not pinned: %s", m.id, exc)

    def _on_likes(self, event: LikesUpdated) -> None:
        self._likes = event.total
        for overlay in self.overlays(ReactionsOverlaySource):
            overlay.set_likes(event.total)

    def _on_gift(self, event: GiftReceived) -> None:
        g = event.gift
        for overlay in self.overlays(ReactionsOverlaySource):
            try:
                overlay.push_gift(g.display_name, g.name, g.count)
            except ValueError as exc:
                log.warning("gift %s not shown: %s", g.id, exc)

    def _on_poll_updated(self, event: PollUpdated) -> None:
        with self._poll_lock:
            if self._result is not None and self._result.poll != event.poll:
                self._result = None  # a new poll
            self._show_poll(view_from_update(event, self._result))

    def _on_poll_closed(self, event: PollClosed) -> None:
        with self._poll_lock:
            self._result = event
            self._show_poll(view_from_result(event))

    def _show_poll(self, view: PollView) -> None:
        self._poll = view
        for overlay in self.overlays(PollOverlaySource):
            overlay.set_state(view)


class PollEvents(Protocol):
    poll_updated: Signal[PollUpdated]
    poll_closed: Signal[PollClosed]


def show_polls_on_overlays(polls: PollEvents, studio: HasSources) -> None:
    """Draw a poll host's polls on every poll overlay in the studio (offline renders: FramePolls)."""
    results: dict[str, PollClosed] = {}

    def each_overlay(view: PollView) -> None:
        for source in list(studio.sources.values()):
            if isinstance(source, PollOverlaySource):
                source.set_state(view)

    def closed(result: PollClosed) -> None:
        results[result.poll] = result
        each_overlay(view_from_result(result))

    polls.poll_updated.connect(lambda update: each_overlay(view_from_update(update, results.get(update.poll))))
    polls.poll_closed.connect(closed)
