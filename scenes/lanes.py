"""Lane allocation for bullet comments (pure logic, integer time in nanoseconds).

A scrolling comment enters at the right edge and leaves at the left in a fixed ``duration``, so
its speed is ``(canvas_width + text_width) / duration`` (as DanmakuFlameMaster and
CommentCoreLibrary do): long comments move faster. A new comment may follow the last one in a lane
only when

1. the last one has fully entered, with ``gap`` pixels to spare behind its tail, and
2. the new one, if faster, will not come within ``gap`` of the last one's tail before that tail
   leaves the screen.

Positions are linear in time, so checking both ends of the shared interval is enough; the checks
are exact integer arithmetic, and ``x_int`` (a floor) keeps them true for integer pixel positions.
Fixed (top/bottom) comments take rows that are free again once their time is up.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Trajectory:
    """Where a scrolling comment of ``width`` pixels is at any time: ``x`` of its left edge."""

    start_ns: int  # when its left edge is at the right edge of the canvas
    width: int
    canvas_width: int
    duration_ns: int

    @property
    def end_ns(self) -> int:
        """When its right edge reaches the left edge of the canvas (gone)."""
        return self.start_ns + self.duration_ns

    def x_at(self, t_ns: int) -> float:
        travel = self.canvas_width + self.width
        return self.canvas_width - travel * (t_ns - self.start_ns) / self.duration_ns

    def x_int(self, t_ns: int) -> int:
        """``floor(x_at(t_ns))`` computed exactly."""
        travel = self.canvas_width + self.width
        return self.canvas_width + (-travel * (t_ns - self.start_ns)) // self.duration_ns


def has_entered(prev: Trajectory, now_ns: int, gap: int) -> bool:
    """Rule 1: ``prev``'s tail is at least ``gap`` left of the right edge (travelled >= width + gap)."""
    return (prev.canvas_width + prev.width) * (now_ns - prev.start_ns) >= (prev.width + gap) * prev.duration_ns


def can_follow(prev: Trajectory, width: int, now_ns: int, gap: int) -> bool:
    """May a comment of ``width`` pixels enter now behind ``prev`` in the same lane?"""
    if now_ns >= prev.end_ns:
        return True
    w_canvas, d = prev.canvas_width, prev.duration_ns
    if not has_entered(prev, now_ns, gap):
        return False
    # 2. when prev's tail leaves (prev.end_ns), the new head is still >= gap from the left edge
    if width <= prev.width:
        return True  # not faster: the distance never shrinks
    return (w_canvas - gap) * d >= (w_canvas + width) * (prev.end_ns - now_ns)


class ScrollLanes:
    """Lanes of scrolling comments; each remembers only its last trajectory (enough, see above)."""

    def __init__(self, count: int, canvas_width: int, duration_ns: int, gap: int = 16) -> None:
        if count < 1:
            raise ValueError(f"lanes: count must be >= 1, got {count}")
        if canvas_width < 1:
            raise ValueError(f"lanes: canvas width must be >= 1, got {canvas_width}")
        if duration_ns < 1:
            raise ValueError(f"lanes: duration must be > 0 ns, got {duration_ns}")
        if gap < 1:
            raise ValueError(f"lanes: gap must be >= 1 pixel, got {gap}")
        self.count = count
        self.canvas_width = canvas_width
        self.duration_ns = duration_ns
        self.gap = gap
        self._last: list[Trajectory | None] = [None] * count

    def place(self, width: int, now_ns: int) -> tuple[int, Trajectory] | None:
        """The first (top-most) lane that takes a comment of ``width`` now, or None when all are busy."""
        if width < 1:
            raise ValueError(f"lanes: comment width must be >= 1, got {width}")
        for lane, prev in enumerate(self._last):
            if prev is None or can_follow(prev, width, now_ns, self.gap):
                traj = Trajectory(now_ns, width, self.canvas_width, self.duration_ns)
                self._last[lane] = traj
                return lane, traj
        return None

    def open_lanes(self, now_ns: int) -> int:
        """How many lanes could take some comment now: their last one has fully entered, ``gap``
        to spare (rule 1; rule 2 only refuses faster comments). 0 means no comment of any width
        fits, so a caller need not measure (rasterise) one to ask."""
        return sum(1 for prev in self._last if prev is None or now_ns >= prev.end_ns
                   or has_entered(prev, now_ns, self.gap))

    def reset(self) -> None:
        self._last = [None] * self.count


class FixedRows:
    """Rows for top or bottom comments: a row is taken until its comment's time is up."""

    def __init__(self, count: int) -> None:
        if count < 1:
            raise ValueError(f"fixed rows: count must be >= 1, got {count}")
        self.count = count
        self._until: list[int | None] = [None] * count

    def place(self, now_ns: int, duration_ns: int) -> int | None:
        """The first free row (nearest the edge), taken until ``now_ns + duration_ns``; None when full."""
        for row, until in enumerate(self._until):
            if until is None or until <= now_ns:
                self._until[row] = now_ns + duration_ns
                return row
        return None

    def free_rows(self, now_ns: int) -> int:
        return sum(1 for until in self._until if until is None or until <= now_ns)

    def release(self, row: int) -> None:
        """Free a row early (its comment was removed)."""
        if 0 <= row < self.count:
            self._until[row] = None

    def reset(self) -> None:
        self._until = [None] * self.count
