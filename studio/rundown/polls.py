"""Where the executor opens polls: anything with InteractionService's ``open_poll``.

Live shows pass the InteractionService (votes from viewers through the hub). Offline renders and
tests pass ``FramePolls``: the polls' countdown runs on the program's frame clock, so a render is
the same every time.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from scenes.events import Signal
from studio.interaction.polls import Poll, PollClosed, PollUpdated, TieRule


class PollHost(Protocol):
    def open_poll(
        self,
        question: str,
        options: Sequence[str],
        duration_s: float = 60.0,
        *,
        tie_rule: TieRule = "default",
        default_option: int = 0,
        branch_binding: str | None = None,
    ) -> Poll: ...


@runtime_checkable
class FrameDriven(Protocol):
    def on_frame(self, pts_ns: int) -> None:
        """Called by the executor on every program frame (clock thread)."""
        ...


class FramePolls:
    """Polls whose clock is the program's frame time (offline renders, tests)."""

    def __init__(self) -> None:
        self._now_s = 0.0
        self._lock = threading.Lock()
        self.polls: list[Poll] = []
        # every poll's updates and result, re-emitted (as InteractionService does for live shows)
        self.poll_updated: Signal[PollUpdated] = Signal()
        self.poll_closed: Signal[PollClosed] = Signal()

    def now(self) -> float:
        return self._now_s

    def on_frame(self, pts_ns: int) -> None:
        self._now_s = pts_ns / 1e9
        with self._lock:
            polls = list(self.polls)
        for poll in polls:
            poll.tick()

    @property
    def current(self) -> Poll | None:
        with self._lock:
            return self.polls[-1] if self.polls else None

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
        poll = Poll(question, options, duration_s, tie_rule=tie_rule, default_option=default_option,
                    branch_binding=branch_binding, clock=self.now)
        poll.updated.connect(self.poll_updated.emit)
        poll.closed.connect(self.poll_closed.emit)
        with self._lock:
            self.polls.append(poll)
        poll.open()
        return poll
