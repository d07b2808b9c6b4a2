"""Polls: options, a countdown, one vote per viewer, a tie rule and an optional branch binding.

Life cycle: ``draft`` -> ``open()`` -> ``open`` -> ``close()`` (or the countdown runs out in
``tick()``) -> ``closed``; with ``tie_rule="director"`` a real tie stops at ``needs_pick`` until
``pick(option)``. No votes at all always falls back to the default option.
The clock is injected so tests run the countdown by hand.
"""

from __future__ import annotations

import math
import threading
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from scenes.events import Signal
from studio.interaction.messages import PollState, new_id
from studio.interaction.ratelimit import Clock

TieRule = Literal["default", "director"]
TIE_RULES: tuple[str, ...] = ("default", "director")
MIN_OPTIONS, MAX_OPTIONS = 2, 5
MIN_DURATION_S, MAX_DURATION_S = 10.0, 600.0
MAX_QUESTION, MAX_OPTION, MAX_BINDING = 120, 40, 64


@dataclass(frozen=True)
class PollUpdated:
    poll: str
    question: str
    options: tuple[str, ...]
    counts: tuple[int, ...]
    percentages: tuple[float, ...]
    total: int
    remaining: float
    state: str  # draft | open | needs_pick | closed
    # counts per source (hub page, bilibili, douyin...), each as long as options; sums to counts
    by_source: tuple[tuple[str, tuple[int, ...]], ...] = ()


@dataclass(frozen=True)
class PollClosed:
    poll: str
    question: str
    options: tuple[str, ...]
    counts: tuple[int, ...]
    winner: int
    branch_binding: str | None
    tie: bool
    decided_by: str  # votes | default | director | no_votes
    duplicate_votes: int

    @property
    def winner_option(self) -> str:
        return self.options[self.winner]


def normalize_vote_text(text: str) -> str:
    """Chat text compared with a poll's keys: full-width forms folded (１ -> 1), case-folded, trimmed."""
    return unicodedata.normalize("NFKC", text).casefold().strip()


def _text(value: object, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"poll {what} must be non-empty text")
    value = value.strip()
    if len(value) > limit:
        raise ValueError(f"poll {what} {value[:20]!r}... is longer than {limit} characters")
    return value


class Poll:
    def __init__(
        self,
        question: str,
        options: Sequence[str],
        duration_s: float = 60.0,
        *,
        tie_rule: TieRule = "default",
        default_option: int = 0,
        branch_binding: str | None = None,
        poll_id: str | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.question = _text(question, "question", MAX_QUESTION)
        if isinstance(options, str) or not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
            raise ValueError(f"a poll needs {MIN_OPTIONS}-{MAX_OPTIONS} options")
        self.options = tuple(_text(o, f"option {i + 1}", MAX_OPTION) for i, o in enumerate(options))
        if len(set(self.options)) != len(self.options):
            raise ValueError("poll options must be different from each other")
        if isinstance(duration_s, bool) or not isinstance(duration_s, int | float) or not math.isfinite(duration_s):
            raise ValueError(f"poll duration must be a number of seconds, got {duration_s!r}")
        if not MIN_DURATION_S <= duration_s <= MAX_DURATION_S:
            raise ValueError(f"poll duration must be {MIN_DURATION_S:g}-{MAX_DURATION_S:g} s, got {duration_s}")
        if tie_rule not in TIE_RULES:
            raise ValueError(f"poll tie rule must be one of {TIE_RULES}, got {tie_rule!r}")
        if isinstance(default_option, bool) or not isinstance(default_option, int):
            raise ValueError("poll default option must be an option index")
        if not 0 <= default_option < len(self.options):
            raise ValueError(f"poll default option {default_option} is not in 0-{len(self.options) - 1}")
        if branch_binding is not None:
            branch_binding = _text(branch_binding, "branch binding", MAX_BINDING)
        self.id = poll_id or f"poll-{new_id()}"
        self.duration_s = float(duration_s)
        self.tie_rule: TieRule = tie_rule
        self.default_option = default_option
        self.branch_binding = branch_binding
        self.updated: Signal[PollUpdated] = Signal()
        self.closed: Signal[PollClosed] = Signal()
        self._clock = clock
        self._lock = threading.Lock()
        self._state = "draft"
        self._voters: dict[str, int] = {}
        self._counts = [0] * len(self.options)
        self._by_source: dict[str, list[int]] = {}
        self._keys = self._chat_keys()
        self._deadline = 0.0
        self._tied: tuple[int, ...] = ()
        self._result: PollClosed | None = None
        self._dirty = False
        self._last_second = -1
        self.duplicate_votes = 0
        self.late_votes = 0
        self.invalid_votes = 0

    # ---- state ----

    @property
    def state(self) -> str:
        return self._state

    @property
    def counts(self) -> tuple[int, ...]:
        with self._lock:
            return tuple(self._counts)

    @property
    def result(self) -> PollClosed | None:
        return self._result

    @property
    def tied_options(self) -> tuple[int, ...]:
        """The options the director may pick from while ``needs_pick``."""
        return self._tied

    def remaining(self) -> float:
        if self._state == "draft":
            return self.duration_s
        if self._state != "open":
            return 0.0
        return max(0.0, self._deadline - self._clock())

    def snapshot(self) -> PollUpdated:
        with self._lock:
            counts = tuple(self._counts)
            by_source = tuple((k, tuple(v)) for k, v in sorted(self._by_source.items()))
        total = sum(counts)
        percentages = tuple(round(100.0 * c / total, 1) if total else 0.0 for c in counts)
        return PollUpdated(
            self.id, self.question, self.options, counts, percentages, total, self.remaining(), self._state,
            by_source,
        )

    @property
    def dirty(self) -> bool:
        """Votes counted since the last update was emitted."""
        return self._dirty

    # ---- chat votes ----

    def _chat_keys(self) -> dict[str, int]:
        """What a chat line may say to vote: the option's number, its letter or its text."""
        keys: dict[str, int] = {}
        for i in range(len(self.options)):
            keys[str(i + 1)] = i
            keys[chr(ord("a") + i)] = i
        for i, option in enumerate(self.options):
            keys.setdefault(normalize_vote_text(option), i)  # a number or letter wins over a text
        return keys

    def option_for_text(self, text: str) -> int | None:
        """The option a chat message votes for when it is exactly an option key ("1", "B") or the
        option's text (width, case and surrounding spaces ignored); None otherwise."""
        if len(text) > MAX_OPTION + 8:
            return None
        return self._keys.get(normalize_vote_text(text))

    def to_state(self) -> PollState:
        """What viewers see (sent through the hub)."""
        snap = self.snapshot()
        result = self._result
        return PollState(
            poll=self.id,
            question=self.question,
            options=self.options,
            counts=snap.counts,
            remaining=snap.remaining,
            state="open" if snap.state == "draft" else snap.state,  # type: ignore[arg-type]
            winner=result.winner if result else None,
        )

    # ---- life cycle ----

    def open(self) -> None:
        with self._lock:
            if self._state != "draft":
                raise ValueError(f"poll {self.id} is {self._state}; only a draft poll can be opened")
            self._state = "open"
            self._deadline = self._clock() + self.duration_s
            self._last_second = math.ceil(self.duration_s)
        self.updated.emit(self.snapshot())

    def vote(self, user: str, option: int, source: str = "hub") -> str:
        """Count a vote: returns ``accepted``, ``duplicate``, ``closed`` or ``invalid``. ``user`` is
        the voter's studio-wide key (platform users: ``<platform>:<id>``), one vote each."""
        with self._lock:
            if self._state != "open" or self._clock() >= self._deadline:
                self.late_votes += 1
                return "closed"
            if isinstance(option, bool) or not isinstance(option, int) or not 0 <= option < len(self.options):
                self.invalid_votes += 1
                return "invalid"
            if user in self._voters:
                self.duplicate_votes += 1
                return "duplicate"
            self._voters[user] = option
            self._counts[option] += 1
            per_source = self._by_source.get(source)
            if per_source is None:
                per_source = self._by_source[source] = [0] * len(self.options)
            per_source[option] += 1
            self._dirty = True
            return "accepted"

    def tick(self) -> None:
        """Call often (the service does, every ~0.25 s, and right after votes, coalesced): emits an
        update when votes came in or the countdown's second changed, closes on time."""
        if self._state != "open":
            return
        if self.remaining() <= 0:
            self.close()
            return
        second = math.ceil(self.remaining())
        if self._dirty or second != self._last_second:
            self._dirty = False
            self._last_second = second
            self.updated.emit(self.snapshot())

    def close(self) -> PollClosed | None:
        """Close voting. Returns the result, or None when a director's pick is needed."""
        with self._lock:
            if self._state != "open":
                raise ValueError(f"poll {self.id} is {self._state}; only an open poll can be closed")
            counts = tuple(self._counts)
            top = max(counts)
            tied = tuple(i for i, c in enumerate(counts) if c == top)
            if top == 0:
                result = self._finish(counts, self.default_option, False, "no_votes")
            elif len(tied) == 1:
                result = self._finish(counts, tied[0], False, "votes")
            elif self.tie_rule == "default":
                winner = self.default_option if self.default_option in tied else tied[0]
                result = self._finish(counts, winner, True, "default")
            else:
                self._state = "needs_pick"
                self._tied = tied
                result = None
        self.updated.emit(self.snapshot())
        if result is not None:
            self.closed.emit(result)
        return result

    def pick(self, option: int) -> PollClosed:
        """The director breaks a tie (only while ``needs_pick``, only among the tied options)."""
        with self._lock:
            if self._state != "needs_pick":
                raise ValueError(f"poll {self.id} is {self._state}; a pick is only needed after a tie")
            if option not in self._tied:
                raise ValueError(f"option {option} is not one of the tied options {self._tied}")
            result = self._finish(tuple(self._counts), option, True, "director")
        self.updated.emit(self.snapshot())
        self.closed.emit(result)
        return result

    def _finish(self, counts: tuple[int, ...], winner: int, tie: bool, decided_by: str) -> PollClosed:
        self._state = "closed"
        self._result = PollClosed(
            self.id, self.question, self.options, counts, winner, self.branch_binding, tie, decided_by,
            self.duplicate_votes,
        )  # fmt: skip
        return self._result
