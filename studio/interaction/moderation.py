"""Danmaku moderation: banned words, blocked users, slow mode, remove and pin.

The moderator owns this state and emits events; widgets edit it through the methods (which validate
and are thread-safe) and the interaction service runs every danmaku through :meth:`Moderator.check`.
A flagged message is still reported (the dock shows it, marked) but is not ``visible`` (the overlay
skips it).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from scenes.events import Signal
from studio.interaction.messages import Danmaku
from studio.interaction.ratelimit import Clock
from studio.interaction.textnorm import find_words, fold

BANNED_WORD = "banned_word"
BLOCKED_USER = "blocked_user"
SLOW_MODE = "slow_mode"
MAX_WORD = 50
MAX_SLOW_MODE_S = 600.0


@dataclass(frozen=True)
class DanmakuEvent:
    """A danmaku that reached the studio, after moderation."""

    message: Danmaku
    visible: bool  # False: keep it off the overlay (flags say why)
    flags: frozenset[str] = frozenset()
    matched: tuple[str, ...] = ()  # banned words (as listed) found in the text


@dataclass(frozen=True)
class DanmakuRemoved:
    id: str


@dataclass(frozen=True)
class DanmakuPinned:
    message: Danmaku | None  # None: unpinned


@dataclass(frozen=True)
class BlockedViewer:
    """A block: the viewer's identity and (for hub viewers) the keyed hash of its address, so a
    new identity from the same address is blocked too."""

    user: str
    address: str = ""
    label: str = ""  # what the director saw (nick), for the dock's list


@dataclass(frozen=True)
class ModerationChanged:
    banned_words: tuple[str, ...]
    blocked_users: tuple[str, ...]
    slow_mode_s: float
    blocked: tuple[BlockedViewer, ...] = ()


def _clean_word(word: object) -> str:
    if not isinstance(word, str):
        raise ValueError(f"banned word must be a string, got {type(word).__name__}")
    word = word.strip()
    if not word:
        raise ValueError("banned word must not be empty")
    if len(word) > MAX_WORD:
        raise ValueError(f"banned word {word[:20]!r}... is longer than {MAX_WORD} characters")
    return word


class Moderator:
    def __init__(
        self, banned_words: Iterable[str] = (), *, clock: Clock = time.monotonic, history: int = 500
    ) -> None:
        if history < 1:
            raise ValueError(f"moderation history must be >= 1, got {history}")
        self.changed: Signal[ModerationChanged] = Signal()
        self.removed: Signal[DanmakuRemoved] = Signal()
        self.pinned_changed: Signal[DanmakuPinned] = Signal()
        self._lock = threading.Lock()
        self._clock = clock
        self._words: dict[str, str] = {}  # folded -> as listed
        self._blocked: dict[str, BlockedViewer] = {}
        self._blocked_addresses: dict[str, str] = {}  # address -> the blocked user it came from
        self._slow_s = 0.0
        self._last_shown: dict[str, float] = {}
        self._last_by_address: dict[str, float] = {}
        self._recent: OrderedDict[str, Danmaku] = OrderedDict()
        self._history = history
        self._pinned: Danmaku | None = None
        for word in banned_words:
            self._add_word(word)

    # ---- editing ----

    def _add_word(self, word: str) -> None:
        word = _clean_word(word)
        self._words[fold(word)] = word

    def set_banned_words(self, words: Iterable[str]) -> None:
        cleaned = [_clean_word(w) for w in words]
        with self._lock:
            self._words = {fold(w): w for w in cleaned}
        self._changed()

    def add_banned_word(self, word: str) -> None:
        with self._lock:
            self._add_word(word)
        self._changed()

    def remove_banned_word(self, word: str) -> None:
        with self._lock:
            self._words.pop(fold(_clean_word(word)), None)
        self._changed()

    @property
    def banned_words(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(sorted(self._words.values()))

    def block(self, user: str, address: str = "", label: str = "") -> BlockedViewer:
        """Block a viewer's identity and, when known, its address (reconnecting without the
        token, the same viewer comes back with a new identity from the same address)."""
        if not isinstance(user, str) or not user.strip() or len(user) > 64:
            raise ValueError(f"user to block must be a non-empty id of at most 64 characters, got {user!r}")
        if not isinstance(address, str) or len(address) > 64:
            raise ValueError("address to block must be an address key of at most 64 characters")
        entry = BlockedViewer(user, address, label[:64] if isinstance(label, str) else "")
        with self._lock:
            self._blocked[user] = entry
            if address:
                self._blocked_addresses[address] = user
        self._changed()
        return entry

    def unblock(self, user: str) -> None:
        with self._lock:
            entry = self._blocked.pop(user, None)
            if entry is not None and entry.address:
                self._blocked_addresses.pop(entry.address, None)
        self._changed()

    @property
    def blocked_users(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(sorted(self._blocked))

    @property
    def blocked(self) -> tuple[BlockedViewer, ...]:
        with self._lock:
            return tuple(self._blocked[u] for u in sorted(self._blocked))

    def blocked_by(self, user: str, address: str = "") -> BlockedViewer | None:
        """The block that covers this identity or address, if any."""
        with self._lock:
            entry = self._blocked.get(user)
            if entry is None and address and address in self._blocked_addresses:
                entry = self._blocked.get(self._blocked_addresses[address])
            return entry

    def set_slow_mode(self, seconds: float) -> None:
        """Minimum seconds between two visible danmaku of one user; 0 turns slow mode off."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds):
            raise ValueError(f"slow mode must be a number of seconds, got {seconds!r}")
        if not 0 <= seconds <= MAX_SLOW_MODE_S:
            raise ValueError(f"slow mode must be 0-{MAX_SLOW_MODE_S:g} s, got {seconds}")
        with self._lock:
            self._slow_s = float(seconds)
            self._last_shown.clear()
            self._last_by_address.clear()
        self._changed()

    @property
    def slow_mode_s(self) -> float:
        return self._slow_s

    def _changed(self) -> None:
        self.changed.emit(ModerationChanged(self.banned_words, self.blocked_users, self._slow_s, self.blocked))

    # ---- checking ----

    def check(self, message: Danmaku) -> DanmakuEvent:
        """Moderate one danmaku and remember it (for pin/remove by id)."""
        flags: set[str] = set()
        with self._lock:
            if message.user in self._blocked or (message.address and message.address in self._blocked_addresses):
                flags.add(BLOCKED_USER)
            matched: tuple[str, ...] = ()
            if self._words:
                found = find_words(message.text, self._words.keys())
                matched = tuple(dict.fromkeys(self._words[w] for w, _, _ in found))
                if matched:
                    flags.add(BANNED_WORD)
            if self._slow_s > 0 and not flags:
                # keyed on the identity, which survives reconnects; an identity's first message
                # also waits for its address's pace, so a fresh identity (token thrown away)
                # gains nothing, while viewers behind one NAT keep their own pace afterwards
                now = self._clock()
                last = self._last_shown.get(message.user)
                if last is None and message.address:
                    last = self._last_by_address.get(message.address)
                if last is not None and now - last < self._slow_s:
                    flags.add(SLOW_MODE)
                else:
                    self._last_shown[message.user] = now
                    if message.address:
                        self._last_by_address[message.address] = now
            self._recent[message.id] = message
            while len(self._recent) > self._history:
                self._recent.popitem(last=False)
        return DanmakuEvent(message, not flags, frozenset(flags), matched)

    # ---- overlay actions ----

    def remove(self, message_id: str) -> None:
        """Take a message off the overlay (and unpin it if pinned)."""
        with self._lock:
            self._recent.pop(message_id, None)
            unpin = self._pinned is not None and self._pinned.id == message_id
            if unpin:
                self._pinned = None
        self.removed.emit(DanmakuRemoved(message_id))
        if unpin:
            self.pinned_changed.emit(DanmakuPinned(None))

    def pin(self, message_id: str) -> Danmaku:
        with self._lock:
            message = self._recent.get(message_id)
            if message is None:
                raise ValueError(f"no recent danmaku with id {message_id!r} to pin")
            self._pinned = message
        self.pinned_changed.emit(DanmakuPinned(message))
        return message

    def unpin(self) -> None:
        with self._lock:
            was = self._pinned
            self._pinned = None
        if was is not None:
            self.pinned_changed.emit(DanmakuPinned(None))

    @property
    def pinned(self) -> Danmaku | None:
        return self._pinned
