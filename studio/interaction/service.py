"""The studio side of interaction: runs a source adapter on a ``net-interaction`` loop thread,
moderates, counts, runs polls and emits typed events (``scenes.events.Signal``).

Listeners run on the ``net-interaction`` thread; the UI re-emits them through ``widgets/bridge.py``.
The sync API (``announce``, ``open_poll`` ...) is safe to call from any thread.

Platform chat arrives in bursts (thousands of messages a second, a hundred per network read), so
danmaku also go out as one ``danmaku_batch`` per read: the overlays and the dock take a batch, sample
it to what they can show and cross threads once per batch, not once per message. Every message is
still moderated, counted, logged and checked for a vote here.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from scenes.events import Signal
from studio.interaction.adapters import Adapter, EmbeddedHubAdapter
from studio.interaction.merged import MergedAdapter
from studio.interaction.messages import (
    Announcement,
    Danmaku,
    Enter,
    Gift,
    HostFrame,
    Like,
    Message,
    ProductClick,
    SuperChat,
    Vote,
)
from studio.interaction.moderation import BLOCKED_USER, DanmakuEvent, Moderator
from studio.interaction.polls import Poll, PollClosed, PollUpdated, TieRule
from studio.interaction.protocol import DEFAULT_LIMITS
from studio.interaction.ratelimit import Clock
from studio.interaction.showlog import ShowLog
from studio.net.loop import NetLoop

log = logging.getLogger(__name__)
VOTE_COALESCE_S = 0.02  # votes -> overlay: well inside a 30 fps frame, far below the 0.25 s tick


@dataclass(frozen=True)
class LikesUpdated:
    user: str
    delta: int
    total: int


@dataclass(frozen=True)
class GiftReceived:
    gift: Gift
    total_value: float  # all gifts this show
    total_count: int


@dataclass(frozen=True)
class SourceStatus:
    state: str  # running | ended | error | stopped
    detail: str = ""


@dataclass(frozen=True)
class InteractionCounters:
    danmaku: int = 0
    danmaku_hidden: int = 0
    likes: int = 0
    gifts: int = 0
    gift_value: float = 0.0
    enters: int = 0
    product_clicks: int = 0
    votes: int = 0
    votes_ignored: int = 0  # duplicate, late, wrong poll, no poll
    chat_votes: int = 0  # chat lines that voted (counted ones; also in ``votes``)
    super_chats: int = 0


class InteractionService:
    def __init__(
        self,
        adapter: Adapter | None = None,
        *,
        moderator: Moderator | None = None,
        showlog: ShowLog | None = None,
        tick_s: float = 0.25,
        poll_clock: Clock = time.monotonic,
        net: NetLoop | None = None,
        vote_coalesce_s: float = VOTE_COALESCE_S,
        chat_votes: bool = True,
    ) -> None:
        """``net``: the studio's shared ``net`` loop (DESIGN.md: one asyncio thread); without it
        the service runs its own loop thread (tests, tools).

        Votes reach the poll's listeners (overlays, the votes dock) ``vote_coalesce_s`` after they
        arrive (all votes in that window in one update), not on the ``tick_s`` timer; viewers of the
        hub page get the poll state at most every ``tick_s``. ``chat_votes``: a danmaku that is
        exactly an option key or text votes while a poll is open."""
        if not 0 < tick_s <= 5:
            raise ValueError(f"interaction tick must be 0-5 s, got {tick_s}")
        if not 0 <= vote_coalesce_s <= tick_s:
            raise ValueError(f"vote coalescing must be 0-{tick_s} s, got {vote_coalesce_s}")
        self.adapter = adapter or EmbeddedHubAdapter()
        self.moderator = moderator or Moderator()
        self.showlog = showlog
        self.danmaku: Signal[DanmakuEvent] = Signal()
        # the danmaku of one network read (or of one loop iteration), in arrival order
        self.danmaku_batch: Signal[tuple[DanmakuEvent, ...]] = Signal()
        self.likes: Signal[LikesUpdated] = Signal()
        self.gifts: Signal[GiftReceived] = Signal()
        self.entered: Signal[Enter] = Signal()
        self.product_clicks: Signal[ProductClick] = Signal()
        self.announcements: Signal[Announcement] = Signal()
        self.poll_updated: Signal[PollUpdated] = Signal()
        self.poll_closed: Signal[PollClosed] = Signal()
        self.status: Signal[SourceStatus] = Signal()
        self._tick_s = tick_s
        self._coalesce_s = vote_coalesce_s
        self.chat_votes = chat_votes
        self._flush_pending = False
        self._viewers_stale = False
        self._last_viewer_send = 0.0
        self._poll_clock = poll_clock
        self._loop = net or NetLoop("net-interaction")
        self._owns_loop = net is None
        self._lock = threading.Lock()
        # plain totals, bumped per message; ``counters()`` makes the frozen snapshot on demand
        self._totals: dict[str, float] = dict.fromkeys(InteractionCounters.__dataclass_fields__, 0)
        self._batch: list[DanmakuEvent] = []
        self._poll: Poll | None = None
        self._poll_links: list[object] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False

    # ---- life cycle ----

    def start(self, timeout: float = 10.0) -> None:
        """Start the loop thread and the adapter; returns once the adapter is ready."""
        self._loop.start()
        self._started = True
        try:
            self._loop.run(self._start(), timeout)
        except BaseException:
            self._started = False
            if self._owns_loop:
                self._loop.stop(timeout)
            raise

    async def _start(self) -> None:
        await self.adapter.start()
        self._tasks = [
            asyncio.create_task(self._consume(), name="interaction-consume"),
            asyncio.create_task(self._ticker(), name="interaction-ticker"),
        ]

    def stop(self, timeout: float = 10.0) -> None:
        if not self._started or not self._loop.running:
            return
        self._started = False
        try:
            self._loop.run(self._stop(), timeout)
        finally:
            if self._owns_loop:
                self._loop.stop(timeout)
        self.status.emit(SourceStatus("stopped"))

    async def _stop(self) -> None:
        await self.adapter.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def __enter__(self) -> InteractionService:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_ready(self, timeout: float = 10.0) -> None:
        """For the embedded hub (alone or among merged sources): until the studio's host
        connection is up."""
        adapters = self.adapter.adapters if isinstance(self.adapter, MergedAdapter) else [self.adapter]
        for adapter in adapters:
            if isinstance(adapter, EmbeddedHubAdapter):
                self._loop.run(adapter.wait_connected(timeout), timeout + 1)

    # ---- the source ----

    async def _consume(self) -> None:
        self.status.emit(SourceStatus("running", self.adapter.name))
        try:
            async for message in self.adapter:
                try:
                    self._dispatch(message)
                except Exception:  # one bad message must not stop the show
                    log.exception("interaction: failed to handle %s", type(message).__name__)
        except asyncio.CancelledError:
            raise
        except (PermissionError, ValueError, ConnectionError) as exc:  # said plainly: a refused token, a bad URL
            log.error("interaction source %s failed: %s", self.adapter.name, exc)
            self.status.emit(SourceStatus("error", f"{type(exc).__name__}: {exc}"))
            return
        except Exception as exc:
            log.exception("interaction source %s failed", self.adapter.name)
            self.status.emit(SourceStatus("error", f"{type(exc).__name__}: {exc}"))
            return
        self.status.emit(SourceStatus("ended", self.adapter.name))

    def _count(self, **changes: float) -> dict[str, float]:
        """Add to the totals and return them. Only the loop thread adds, so its reads stay valid;
        other threads read through ``counters()``."""
        totals = self._totals
        with self._lock:
            for key, value in changes.items():
                totals[key] += value
            return totals

    def _queue_danmaku(self, event: DanmakuEvent) -> None:
        """Collect this read's danmaku; one ``danmaku_batch`` goes out when the loop next turns
        (after every message already received has been handled)."""
        self._batch.append(event)
        if len(self._batch) > 1:
            return
        try:
            asyncio.get_running_loop().call_soon(self._flush_danmaku)
        except RuntimeError:  # no loop (messages fed by hand in a test): deliver now
            self._flush_danmaku()

    def _flush_danmaku(self) -> None:
        batch, self._batch = tuple(self._batch), []
        if batch:
            self.danmaku_batch.emit(batch)

    def _dispatch(self, message: Message) -> None:
        if isinstance(message, Danmaku):
            event = self.moderator.check(message)
            paid = isinstance(message, SuperChat)
            self._count(danmaku=1, danmaku_hidden=0 if event.visible else 1, super_chats=1 if paid else 0)
            self.danmaku.emit(event)
            self._queue_danmaku(event)
            if isinstance(message, SuperChat):
                self._super_chat(message)
            if self.chat_votes and BLOCKED_USER not in event.flags:
                self._chat_vote(message)
        elif isinstance(message, Like):
            total = int(self._count(likes=message.count)["likes"])
            self.likes.emit(LikesUpdated(message.user, message.count, total))
        elif isinstance(message, Gift):
            totals = self._count(gifts=message.count, gift_value=message.value * message.count)
            self.gifts.emit(GiftReceived(message, totals["gift_value"], int(totals["gifts"])))
            self._log(
                "gift", user=message.user, nick=message.nick, name=message.name,
                count=message.count, value=message.value, platform=message.platform,
            )  # fmt: skip
        elif isinstance(message, Vote):
            poll = self._poll
            outcome = (poll.vote(message.user, message.option, message.platform)
                       if poll and poll.id == message.poll else "no_poll")
            self._count(votes=1, votes_ignored=0 if outcome == "accepted" else 1)
            if outcome == "accepted":
                self._schedule_poll_update()
        elif isinstance(message, Enter):
            self._count(enters=1)
            self.entered.emit(message)
        elif isinstance(message, ProductClick):
            self._count(product_clicks=1)
            self.product_clicks.emit(message)
        elif isinstance(message, Announcement):
            self.announcements.emit(message)  # from a source that relays host frames

    def _super_chat(self, message: SuperChat) -> None:
        totals = self._count(gift_value=message.value)
        value, gifts = totals["gift_value"], int(totals["gifts"])
        self._log("super_chat", user=message.user, nick=message.nick, text=message.text, value=message.value,
                  platform=message.platform)
        self.gifts.emit(GiftReceived(
            Gift(id=message.id, received_at=message.received_at, user=message.user, nick=message.nick,
                 platform=message.platform, name="SC", count=1, value=message.value),
            value, gifts))

    def _chat_vote(self, message: Danmaku) -> None:
        """A chat line that is exactly an option key or text votes (one vote per platform user)."""
        poll = self._poll
        if poll is None or poll.state != "open":
            return
        option = poll.option_for_text(message.text)
        if option is None:
            return
        outcome = poll.vote(message.user, option, message.platform)
        accepted = outcome == "accepted"
        self._count(votes=1, chat_votes=1 if accepted else 0, votes_ignored=0 if accepted else 1)
        if accepted:
            self._schedule_poll_update()

    def _schedule_poll_update(self) -> None:
        """Votes reach the picture within ``vote_coalesce_s``: one update for all votes meanwhile."""
        if self._flush_pending:
            return
        self._flush_pending = True
        try:
            asyncio.get_running_loop().call_later(self._coalesce_s, self._flush_poll)
        except RuntimeError:  # no loop (votes fed by hand in a test): update now
            self._flush_poll()

    def _flush_poll(self) -> None:
        self._flush_pending = False
        poll = self._poll
        if poll is not None:
            try:
                poll.tick()
            except Exception:
                log.exception("interaction: poll update failed")

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self._tick_s)
            poll = self._poll
            if poll is not None:
                try:
                    poll.tick()
                except Exception:
                    log.exception("interaction: poll tick failed")
            if self._viewers_stale and poll is not None:
                self._send_poll_state(poll, force=True)

    def counters(self) -> InteractionCounters:
        with self._lock:
            totals = dict(self._totals)
        return InteractionCounters(**{k: v if k == "gift_value" else int(v) for k, v in totals.items()})  # type: ignore[arg-type]

    # ---- host -> viewers ----

    def _send(self, frame: HostFrame) -> None:
        if self._loop.running:
            self._loop.submit(self.adapter.send(frame))

    def _log(self, kind: str, **data: object) -> None:
        if self.showlog is not None:
            try:
                self.showlog.append(kind, **data)
            except ValueError:
                log.warning("interaction: show log is closed; %s not logged", kind)

    def announce(self, text: str) -> Announcement:
        """Send an announcement to every viewer (and to the show log)."""
        limit = DEFAULT_LIMITS.announcement_max
        if not isinstance(text, str) or not text.strip():
            raise ValueError("announcement text must not be empty")
        if len(text) > limit:
            raise ValueError(f"announcement is longer than {limit} characters")
        announcement = Announcement(text=text.strip())
        self._send(announcement)
        self._log("announcement", id=announcement.id, text=announcement.text)
        self.announcements.emit(announcement)
        return announcement

    # ---- polls ----

    @property
    def poll(self) -> Poll | None:
        return self._poll

    def open_poll(
        self,
        question: str,
        options: Sequence[str],
        duration_s: float = 60.0,
        *,
        tie_rule: TieRule = "default",
        default_option: int = 0,
        branch_binding: str | None = None,
    ) -> Poll:
        """Open a poll (one at a time); votes for its id count from now until it closes."""
        current = self._poll
        if current is not None and current.state in ("open", "needs_pick"):
            raise ValueError(f"poll {current.id} is still {current.state}; close it first")
        poll = Poll(
            question, options, duration_s, tie_rule=tie_rule, default_option=default_option,
            branch_binding=branch_binding, clock=self._poll_clock,
        )  # fmt: skip
        poll.updated.connect(self._on_poll_updated)
        poll.closed.connect(self._on_poll_closed)
        self._poll = poll
        self._log(
            "poll_opened", poll=poll.id, question=poll.question, options=poll.options,
            duration_s=poll.duration_s, tie_rule=poll.tie_rule, default_option=poll.default_option,
            branch_binding=poll.branch_binding,
        )  # fmt: skip
        poll.open()
        return poll

    def _current_poll(self) -> Poll:
        if self._poll is None:
            raise ValueError("there is no poll")
        return self._poll

    def close_poll(self) -> PollClosed | None:
        """Close the open poll now; None when a tie waits for ``pick``."""
        return self._current_poll().close()

    def pick(self, option: int) -> PollClosed:
        return self._current_poll().pick(option)

    def _on_poll_updated(self, update: PollUpdated) -> None:
        self.poll_updated.emit(update)
        poll = self._poll
        if poll is not None and poll.id == update.poll:
            self._send_poll_state(poll, force=update.state != "open")

    def _send_poll_state(self, poll: Poll, *, force: bool) -> None:
        """Viewers of the hub page get the poll at most every ``tick_s`` (votes update the picture
        far more often); the last state always follows."""
        now = time.monotonic()
        if not force and now - self._last_viewer_send < self._tick_s:
            self._viewers_stale = True
            return
        self._viewers_stale = False
        self._last_viewer_send = now
        self._send(poll.to_state())

    def _on_poll_closed(self, result: PollClosed) -> None:
        poll = self._poll
        self._log(
            "poll_closed", poll=result.poll, question=result.question, options=result.options,
            counts=result.counts, winner=result.winner, winner_option=result.winner_option,
            tie=result.tie, decided_by=result.decided_by, branch_binding=result.branch_binding,
            duplicate_votes=result.duplicate_votes, late_votes=poll.late_votes if poll else 0,
            by_source=dict(poll.snapshot().by_source) if poll else {},
        )  # fmt: skip
        self.poll_closed.emit(result)
